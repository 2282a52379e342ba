using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Kubernetes.Explain;

public sealed partial class Explainer
{
    /// <summary>An ICMP packet that is not an error about a tracked connection (an echo, mostly: `ping` a Service).</summary>
    string Icmp(StageRecord parse, StageRecord last)
    {
        string what = parse.IcmpType == 8 ? "an ICMP echo (ping)" : $"ICMP type {parse.IcmpType}";
        foreach (Service s in _m.Services)
            if (ClusterIpOf(s) == parse.DstIp)
                return $"{what} to {Ip4.Format(parse.DstIp)}, {s.Key}'s ClusterIP: a cluster IP is virtual, only its ports ({PortList(s)}) are translated, " +
                    "so nothing answers a ping in iptables mode (no rule matches; the echo is routed on untranslated and lost), " +
                    "nftables mode rejects it (kube-proxy's cluster-ips-check rule: ICMP port unreachable), and only ipvs mode, which binds cluster IPs to kube-ipvs0, makes the node itself answer. " +
                    $"This cluster runs {ModeName}; DataPlane does not load-balance ICMP → {Outcome(last)}. Test a Service with its port (curl {Ip4.Format(parse.DstIp)}:{(s.Ports.Count > 0 ? s.Ports[0].Port : 80)}), not with ping";
        return $"{what}: ICMP is not load-balanced; {Address(parse.DstIp)} → {Outcome(last)}";
    }

    string ModeName => Mode == ProxyMode.NFTables ? "kube-proxy nftables mode" : "kube-proxy iptables mode";

    string ForeignProtocol(StageRecord parse, StageRecord last) =>
        last.Verdict == Verdict.Drop
            ? $"IP protocol {parse.Proto} to a service address: only TCP and UDP ports are translated → drop ({last.Reason.Name()})"
            : $"IP protocol {parse.Proto} is not translated by any Service rule; {Address(parse.DstIp)} → {Outcome(last)}";

    /// <summary>No frontend matched (dst, port, proto): say the nearest thing the cluster has at that address.</summary>
    string NoFrontend(StageRecord parse, StageRecord last)
    {
        uint dst = parse.DstIp;
        string portText = $"{parse.DstPort}/{Proto(parse.Proto)}";
        string consequence = last.Verdict switch
        {
            Verdict.Reject => "kube-proxy (nftables) rejects traffic to a cluster IP's other ports → reject (ICMP port unreachable)",
            Verdict.Drop => $"→ {Outcome(last)}",
            _ => Mode == ProxyMode.NFTables
                ? $"no rule matches → {Outcome(last)}"
                : $"no kube-proxy rule matches it (iptables mode) → {Outcome(last)}: nothing listens on a cluster IP, so the connection times out",
        };
        foreach (Service s in _m.Services)
        {
            if (ClusterIpOf(s) == dst)
                return $"{Ip4.Format(dst)} is {s.Key}'s ClusterIP, but {portText} is not one of its ports ({PortList(s)}); {consequence}";
            if (s.ExternalIPs.Contains(dst))
                return $"{Ip4.Format(dst)} is an externalIP of {s.Key}, but {portText} is not one of its ports ({PortList(s)}); {consequence}";
            if (s.LoadBalancerIngress.Any(i => i.IP == dst))
                return $"{Ip4.Format(dst)} is {s.Key}'s load-balancer IP, but {portText} is not one of its ports ({PortList(s)}); {consequence}";
        }
        if (_m.Nodes.FirstOrDefault(n => n.Addresses.Any(a => a.IP == dst)) is { } node)
        {
            bool inRange = parse.DstPort >= Allocator.DefaultNodePortMin && parse.DstPort <= Allocator.DefaultNodePortMax;
            return $"{Ip4.Format(dst)} is node {node.Name}'s address and no Service has " +
                (inRange ? $"nodePort {portText} (NodePorts: {NodePortList()})" : $"a NodePort {portText}") +
                $": the packet is for the node itself, not a Service → {Outcome(last)}";
        }
        if (last.Reason == DropReason.ServiceIpUnallocated)
            return $"{Address(dst)}; kube-proxy (nftables) drops traffic to service addresses no Service has → {Outcome(last)}";
        return $"{Address(dst)}; not a Service packet → {Outcome(last)}";
    }

    /// <summary>The node ports in force, written or allocated (the resolved cluster's).</summary>
    string NodePortList()
    {
        var ports = new List<string>();
        foreach (Service s in _m.Services)
            for (int i = 0; i < s.Ports.Count; i++)
                if (_c.NodePort(s, i) is int np) ports.Add($"{s.Key} {np}/{s.Ports[i].Protocol}");
        return ports.Count == 0 ? "no Service has one" : string.Join(", ", ports);
    }

    /// <summary>What the cluster knows at an address that is no Service frontend: a pod, an endpoint, a node, a service CIDR.</summary>
    public string Address(uint dst)
    {
        string ip = Ip4.Format(dst);
        foreach (Service s in _m.Services)
            if (ClusterIpOf(s) == dst) return $"{ip} is {s.Key}'s ClusterIP";
        if (_m.Pods.FirstOrDefault(p => p.PodIPs.Contains(dst) || p.PodIP == dst) is { } pod)
        {
            string backs = Backs(dst);
            return $"{ip} is pod {pod.Key}'s IP (on {pod.NodeName ?? "no node"}): pod traffic goes to the pod directly, no Service translation" + backs;
        }
        foreach (EndpointSlice slice in _m.EndpointSlices)
            if (slice.Endpoints.Any(e => e.Addresses.Contains(dst)))
            {
                if (slice.ServiceName is null)
                    return $"{ip} is an endpoint in EndpointSlice {slice.Key}, which has no kubernetes.io/service-name label: kube-proxy ignores it";
                if (!_m.Services.Any(s => s.Namespace == slice.Namespace && s.Name == slice.ServiceName))
                    return $"{ip} is an endpoint in EndpointSlice {slice.Key}, an orphan: its kubernetes.io/service-name '{slice.ServiceName}' names no Service in {slice.Namespace}, so kube-proxy ignores it";
                return $"{ip} is an endpoint of {slice.Namespace}/{slice.ServiceName} (EndpointSlice {slice.Key}): reached directly, no Service translation";
            }
        foreach (Service s in _m.Services)
            if (s.Type == ServiceType.ExternalName && s.ExternalName == ip)
                return $"{ip} is the externalName of ExternalName service {s.Key}: that is only a DNS CNAME record (cluster DNS does not resolve an IP there), no Service rule matches it";
        if (_m.Nodes.FirstOrDefault(n => n.Addresses.Any(a => a.IP == dst)) is { } node)
            return $"{ip} is node {node.Name}'s address";
        foreach (Cidr4 c in _m.ServiceClusterIPRanges)
            if (c.Contains(dst))
                return $"{ip} is inside the service CIDR {c} but no Service has it as its ClusterIP";
        foreach (Node n in _m.Nodes)
            foreach (Cidr4 c in n.PodCIDRs.Concat(n.PodCIDR is { } pc ? [pc] : []))
                if (c.Contains(dst))
                    return $"{ip} is inside node {n.Name}'s pod CIDR {c} but no pod in the manifests has it";
        return $"{ip} is not an address the cluster knows (no Service, Pod, endpoint or Node has it)";
    }

    /// <summary>", an endpoint of headless service ns/x" and the like, for a pod address.</summary>
    string Backs(uint podIp)
    {
        var names = new List<string>();
        foreach (Service s in _m.Services)
            foreach (EndpointSlice slice in _slices[(s.Namespace, s.Name)])
                if (slice.Endpoints.Any(e => e.Addresses.Contains(podIp)))
                {
                    names.Add(s.ClusterIPMode == ClusterIPMode.Headless
                        ? $"headless service {s.Key} (no cluster IP: clients reach its pods by their addresses, which DNS returns)"
                        : $"{s.Key} (reach it through {Ip4.Format(ClusterIpOf(s) ?? 0)})");
                    break;
                }
        return names.Count == 0 ? "" : "; it is an endpoint of " + string.Join(", ", names);
    }

    /// <summary>A longer DNS name: its A record in the resolved cluster's zone (the first one), as a pod's lookup would get it.</summary>
    uint? ResolveDnsName(string n, out string why)
    {
        string zone = _c.Options.Dns.ClusterDomain.TrimEnd('.');
        string fqdn = n.EndsWith("." + zone, StringComparison.OrdinalIgnoreCase) ? n : $"{n}.{zone}";
        string[] labels = fqdn.Split('.');
        // pods insecure/verified: a-b-c-d.<ns>.pod.<zone> is synthesized at query time (CoreDNS podRecords).
        if (labels.Length >= 3 && labels[2] == "pod" && DataPlane.Dns.DnsResponder.TryDashedIp(System.Text.Encoding.ASCII.GetBytes(labels[0]), out uint podIp))
        {
            why = $"{n} is a pod name (a-b-c-d.<namespace>.pod): {Ip4.Format(podIp)}";
            return podIp;
        }
        IReadOnlyList<uint> addresses = _c.Dns.AddressesOf(fqdn);
        if (addresses.Count == 0)
        {
            why = $"{fqdn} has no A record in the cluster DNS (NXDOMAIN or no address): no pod, endpoint or service has that name";
            return null;
        }
        why = $"{fqdn} resolves to {string.Join(", ", addresses.Select(Ip4.Format))} (cluster DNS A record)";
        return addresses[0];
    }

    /// <summary>
    /// A Service name used as an address (<c>--dst web:80</c>, <c>default/web</c>, <c>web.default.svc.cluster.local</c>):
    /// the ClusterIP for a proxied service; null with <paramref name="why"/> for headless, ExternalName and unknown names.
    /// </summary>
    public uint? Resolve(string name, out string why) => Resolve(name, null, out why);

    /// <summary>
    /// As <see cref="Resolve(string, out string)"/>, a bare service name taken in <paramref name="ns"/> (null: default):
    /// a pod's search path starts with its own namespace (<c>&lt;ns&gt;.svc.&lt;zone&gt;</c>), kubectl's -n is the
    /// namespace a user means.
    /// </summary>
    public uint? Resolve(string name, string? ns, out string why)
    {
        string n = name.TrimEnd('.');
        ns ??= "default";
        string svcName = n;
        int slash = n.IndexOf('/');
        if (slash > 0) { ns = n[..slash]; svcName = n[(slash + 1)..]; }
        else
        {
            string[] labels = n.Split('.');
            // <svc>, <svc>.<ns>, <svc>.<ns>.svc[.<zone>]: a Service. Anything longer (an endpoint's or a StatefulSet
            // pod's <host>.<svc>.<ns>.svc.<zone>, a pod's a-b-c-d.<ns>.pod.<zone>) is what cluster DNS answers for it.
            if (labels.Length >= 4 && labels[2] != "svc" || labels.Length == 3 && labels[2] != "svc")
                return ResolveDnsName(n, out why);
            if (labels.Length >= 2) { svcName = labels[0]; ns = labels[1]; }
        }
        Service? s = _m.Services.FirstOrDefault(x => x.Namespace == ns && x.Name == svcName);
        if (s is null)
        {
            why = $"no Service {ns}/{svcName} in the manifests" +
                (_m.Services.Where(x => x.Name == svcName).Select(x => x.Key).ToArray() is { Length: > 0 } other ? $" (found in another namespace: {string.Join(", ", other)})" : "");
            return null;
        }
        if (s.Type == ServiceType.ExternalName)
        {
            why = $"{s.Key} is an ExternalName service: cluster DNS answers its name with a CNAME to {s.ExternalName}; it has no cluster IP and no proxy rule, so there is no address to trace (trace {s.ExternalName}'s own address instead)";
            return null;
        }
        if (s.ClusterIPMode == ClusterIPMode.Headless)
        {
            SliceEndpoint[] all = [.. _slices[(s.Namespace, s.Name)].SelectMany(sl => sl.Endpoints)];
            var ready = all.Where(e => e.IsReady || s.PublishNotReadyAddresses).SelectMany(e => e.Addresses).Distinct().Select(Ip4.Format).ToArray();
            string none = all.Length == 0 && !_m.Endpoints.Any(e => e.Namespace == s.Namespace && e.Name == s.Name)
                ? $"(it has no endpoints, because {NoEndpointsCause(s)}: the name has no A record)"
                : "(none are ready: the name has no A record)";
            if (ready.Length == 0)
            {
                why = $"{s.Key} is headless (clusterIP: None): no virtual IP and no proxy rule; its DNS name returns the ready endpoints' addresses {none}";
                return null;
            }
            // What a client does with the name: cluster DNS answers the ready endpoints' addresses and it connects to
            // one of them directly (the first, as the zone lists them); no Service rule is involved.
            IReadOnlyList<uint> answer = _c.Dns.AddressesOf($"{s.Name}.{s.Namespace ?? "default"}.svc.{_c.Options.Dns.ClusterDomain.TrimEnd('.')}");
            uint first = answer.Count > 0 ? answer[0] : Ip4.Parse(ready[0]);
            why = $"{s.Key} is headless (clusterIP: None): no virtual IP and no proxy rule; its DNS name returns the ready endpoints' addresses " +
                $"({string.Join(", ", ready)}), and a client connects to one directly: {Ip4.Format(first)}";
            return first;
        }
        uint? ip = ClusterIpOf(s);
        why = ip is null ? $"{s.Key} has no IPv4 cluster IP" : $"{name} is {s.Key}, ClusterIP {Ip4.Format(ip.Value)}";
        return ip;
    }
}
