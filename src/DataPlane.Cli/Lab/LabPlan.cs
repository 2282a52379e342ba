using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Packets;

namespace DataPlane.Cli.Lab;

/// <summary>
/// The lab a resolved cluster makes for one node: a namespace per pod of the node and per other endpoint its Services
/// reach (pods of other nodes, addresses of hand-written EndpointSlices), each holding that address and listening on
/// its declared ports; an <c>external</c> client outside every cluster range and a <c>pod</c> client on the node's pod
/// CIDR. Pure: computes names and addresses, creates nothing.
/// </summary>
public sealed class LabPlan
{
    /// <summary>Namespace names are "lab-NAME-..."; a name of letters and digits keeps one lab's prefix from matching another's.</summary>
    public static bool IsValidName(string name) => name.Length is > 0 and <= 12 && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c));

    public static string Prefix(string lab) => $"lab-{lab}-";

    public LabPlan(string lab, ResolvedCluster c, string node)
    {
        Lab = lab;
        Node = node;
        Node n = c.RequireNode(node);
        string prefix = Prefix(lab);
        NodeNetns = prefix + "node";
        var taken = new HashSet<uint>();
        foreach (Node x in c.Nodes)
            foreach (NodeAddress a in x.Addresses)
                if (a.IP is uint ip) taken.Add(ip);
        var members = new List<LabMember>();
        var byIp = new Dictionary<uint, (string Name, bool Local, SortedSet<string> Ports)>();
        string domain = c.Options.Dns.ClusterDomain;
        string dns = Ip4.Format(c.Dns.Address);
        var resolv = new Dictionary<uint, string>();

        // Pods with their own address (not hostNetwork: those share their node's, which the data plane owns).
        foreach (Pod p in c.Pods)
        {
            if (p.HostNetwork || p.PodIP is not uint ip || taken.Contains(ip) || byIp.ContainsKey(ip)) continue;
            if (p.Phase is PodPhase.Succeeded or PodPhase.Failed) continue;
            var ports = new SortedSet<string>(StringComparer.Ordinal);
            foreach (ContainerPort cp in p.ContainerPorts)
                if (cp.Protocol is PortProtocol.TCP or PortProtocol.UDP && cp.Port is > 0 and < 65536) ports.Add($"{cp.Protocol.ToString().ToLowerInvariant()}:{cp.Port}");
            byIp[ip] = ($"{p.Namespace ?? "default"}/{p.Name}", p.NodeName == node, ports);
            resolv[ip] = PodResolvConf.For(p, domain, dns).Text();
        }
        // Every endpoint the node's Services reach: its pod's namespace listens on the endpoint's port too (a targetPort
        // a container does not declare still gets traffic), and an address no pod holds gets a namespace of its own.
        foreach (Service s in c.Services)
            foreach (DataPlane.Kubernetes.Inventory.EndpointEntry e in c.Endpoints(s))
            {
                if (!Ip4.TryParse(e.IP, out uint ip) || taken.Contains(ip) || (ip >> 24) == 127) continue;
                if (!byIp.TryGetValue(ip, out var m))
                    byIp[ip] = m = ($"endpoint/{e.IP}", e.Node == node, new SortedSet<string>(StringComparer.Ordinal));
                if (e.Port is int port && s.Ports.FirstOrDefault(sp => sp.Name == (e.PortName ?? "")) is { } svcPort &&
                    svcPort.Protocol is PortProtocol.TCP or PortProtocol.UDP)
                    m.Ports.Add($"{svcPort.Protocol.ToString().ToLowerInvariant()}:{port}");
            }
        int i = 0;
        foreach (var (ip, m) in byIp.OrderBy(kv => kv.Value.Local ? 0 : 1).ThenBy(kv => kv.Value.Name, StringComparer.Ordinal))
        {
            members.Add(new LabMember(m.Name, $"{prefix}p{i}", ip, m.Local ? LabRole.LocalPod : LabRole.RemotePod, $"{(m.Local ? "l" : "r")}{i}",
                [.. m.Ports], resolv.GetValueOrDefault(ip)));
            i++;
        }
        foreach (uint ip in byIp.Keys) taken.Add(ip);
        foreach (uint ip in c.Services.SelectMany(s => s.ExternalIPs.Concat(s.LoadBalancerIngress.Select(g => g.IP)))) taken.Add(ip);
        foreach (Service s in c.Services)
            if (c.ClusterIp(s) is uint vip) taken.Add(vip);

        // The client pod: the highest free address of the node's pod CIDR (the first is the node's gateway, which
        // MASQUERADE uses toward local pods).
        Cidr4 podCidr = n.PodCIDR ?? throw new UsageException($"node {node} has no spec.podCIDR: the lab's client pod needs an address on it");
        uint podIp = FreeAddress(podCidr, taken) ?? 0;
        if (podIp == 0) throw new UsageException($"node {node}'s pod CIDR {podCidr} has no free address for the lab's client pod");
        var clientPod = new Pod { Name = "lab-client", SourceFile = "lab", Namespace = "default", NodeName = node, PodIP = podIp };
        members.Insert(0, new LabMember("pod", prefix + "pod", podIp, LabRole.Client, "cpod", [], PodResolvConf.For(clientPod, domain, dns).Text()));
        // A client pod on another node: it reaches this node's NodePorts, load-balancer and external IPs through the
        // cluster network (its own node's proxy would serve its cluster IPs).
        if (c.Nodes.FirstOrDefault(x => x.Name != node && x.PodCIDR is not null) is { PodCIDR: { } otherCidr } other && FreeAddress(otherCidr, taken) is uint remoteIp)
        {
            var remotePod = new Pod { Name = "lab-client", SourceFile = "lab", Namespace = "default", NodeName = other.Name, PodIP = remoteIp };
            members.Insert(1, new LabMember("remote", prefix + "rem", remoteIp, LabRole.Client, "crem", [], PodResolvConf.For(remotePod, domain, dns).Text()));
        }

        // The external client: documentation addresses (RFC 5737) no cluster range holds.
        uint external = 0;
        foreach (string candidate in new[] { "203.0.113.10", "198.51.100.10", "192.0.2.10" })
        {
            uint ip = Ip4.Parse(candidate);
            if (taken.Contains(ip) || c.Manifests.ProxyConfig.ClusterCIDRs.Any(r => r.Contains(ip)) || c.Nodes.Any(x => x.PodCIDR?.Contains(ip) == true) ||
                c.Manifests.ServiceClusterIPRanges.Any(r => r.Contains(ip)) || c.Options.LoadBalancerPool.Contains(ip)) continue;
            external = ip;
            break;
        }
        if (external == 0) throw new UsageException("no address for the lab's external client: 203.0.113.10, 198.51.100.10 and 192.0.2.10 are all inside the cluster's ranges");
        members.Insert(0, new LabMember("external", prefix + "ext", external, LabRole.Client, "cext", [], null));
        Members = members;
    }

    /// <summary>The highest address of <paramref name="cidr"/> no one holds, above the gateway (the first host address).</summary>
    static uint? FreeAddress(Cidr4 cidr, HashSet<uint> taken)
    {
        uint size = cidr.Length >= 31 ? 0 : (1u << (32 - cidr.Length));
        for (uint k = size - 2; k >= 2 && size > 0; k--)
            if (!taken.Contains(cidr.At(k))) return cidr.At(k);
        return null;
    }

    public string Lab { get; }
    public string Node { get; }
    /// <summary>The namespace holding the TAP and the node's side of every veth: the node's host stack, wiring only.</summary>
    public string NodeNetns { get; }
    public IReadOnlyList<LabMember> Members { get; }
}
