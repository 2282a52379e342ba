using DataPlane.Dns;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Packets;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// Manifests → the cluster DNS zone, with CoreDNS's kubernetes plugin as the reference (plugin/kubernetes/kubernetes.go
/// <c>findServices</c>/<c>findPods</c>, reverse.go, ns.go; the Kubernetes DNS-Based Service Discovery specification
/// 1.1.0). Every name that exists is enumerated here, once per generation, so the packet path only looks names up:
/// <list type="bullet">
/// <item>apex: SOA (<c>ns.dns.&lt;zone&gt;. hostmaster.&lt;zone&gt;.</c>, serial = the generation, 7200 1800 86400 ttl;
/// its own TTL min(ttl, 300)), NS <c>ns.dns.&lt;zone&gt;.</c> with its A = the DNS address, <c>dns-version</c> TXT
/// "1.1.0" (TTL 28800), and the empty non-terminals <c>svc</c>, <c>pod</c>, <c>&lt;ns&gt;.svc</c>, <c>&lt;ns&gt;.pod</c>;</item>
/// <item>ClusterIP services: A = cluster IP (also with no endpoint), PTR, SRV per named port (target the service) and
/// a bare-name SRV per port (a CoreDNS extension); headless: one A per ready endpoint and no name at all when none is
/// ready (spec: NXDOMAIN), SRV per endpoint and port (ports from the EndpointSlice, target the endpoint's name);</item>
/// <item>endpoints (of any service, as CoreDNS does): <c>&lt;hostname&gt;.&lt;svc&gt;</c> A and PTR, the hostname being
/// the endpoint's, else (endpoint_pod_names) the pod's name under 64 characters, else the dashed IP;</item>
/// <item>ExternalName: CNAME, none when the name is an IP address (CoreDNS publishes nothing then);</item>
/// <item>pods verified: <c>a-b-c-d.&lt;ns&gt;.pod</c> A for every pod address (insecure mode synthesizes them at query time).</item>
/// </list>
/// SRV weights are CoreDNS's: priority 0, weight ⌊100 / candidates⌋ (at least 1), duplicates then merged. Names that are
/// not valid DNS names are skipped with a warning; compiling never fails because of DNS.
/// </summary>
public static class DnsZoneCompiler
{
    public const string SchemaVersion = "1.1.0";
    const uint VersionTtl = 28800;

    /// <summary>The zone alone (no node's maps): <c>dataplane dns</c> and tests.</summary>
    public static DnsZone Compile(ClusterManifests m, DnsOptions o, long serial = 1, Action<string>? warn = null) =>
        Resolved.ResolvedCluster.Resolve(m, new CompileOptions { Dns = o, Warn = warn }, serial).Dns;

    public static DnsZone Compile(ClusterManifests m, DnsOptions o, Allocator allocator,
        ILookup<(string?, string?), EndpointSlice> slices, ILookup<(string?, string), Endpoints> legacy, long serial, Action<string>? warn = null,
        CancellationToken cancel = default)
    {
        string zone = o.ClusterDomain.TrimEnd('.').ToLowerInvariant();
        var b = new DnsZoneBuilder(zone, o.Ttl);
        (uint address, DnsMode mode) = AddressAndMode(m, o, allocator);

        // Apex (CoreDNS plugin/backend_lookup.go SOA(), plugin/kubernetes/ns.go).
        b.AddSoa(zone, $"ns.dns.{zone}", $"hostmaster.{zone}", (uint)serial, 7200, 1800, 86400, o.Ttl, Math.Min(o.Ttl, 300));
        b.AddNs(zone, $"ns.dns.{zone}");
        b.AddA($"ns.dns.{zone}", address);
        b.AddTxt($"dns-version.{zone}", SchemaVersion, VersionTtl);
        b.AddName($"svc.{zone}");
        b.AddName($"pod.{zone}");

        // Namespaces that exist (CoreDNS answers NXDOMAIN below a namespace that does not): the built-in ones, Namespace
        // objects and every namespace an object names — skipped kinds included (ClusterManifests.Namespaces) — and the
        // objects the compile derives.
        var namespaces = new SortedSet<string>(m.Namespaces, StringComparer.Ordinal) { "default", "kube-system" };
        foreach (ManifestObject obj in m.Services.Cast<ManifestObject>().Concat(m.EndpointSlices).Concat(m.Endpoints).Concat(m.Pods))
            if (obj.Namespace is { Length: > 0 } ns) namespaces.Add(ns);
        foreach (string ns in namespaces)
            Try(warn, $"namespace {ns}", () =>
            {
                b.AddName($"{ns}.svc.{zone}");
                b.AddName($"{ns}.pod.{zone}", DnsZone.PodNamespaceFlag);
            });

        var podNames = new Dictionary<(string?, uint), string>();
        foreach (Pod p in m.Pods)
            foreach (uint ip in p.PodIPs.Count > 0 ? p.PodIPs : p.PodIP is uint one ? [one] : [])
                podNames.TryAdd((p.Namespace, ip), p.Name);

        foreach (Service svc in m.Services)
        {
            cancel.ThrowIfCancellationRequested();
            Try(warn, $"Service {svc.Key}", () => AddService(b, zone, o, svc, allocator, slices, legacy, podNames, cancel));
        }

        int n = 0;
        if (o.Pods == DnsPodsMode.Verified)
            foreach (var ((ns, ip), _) in podNames)
            {
                if ((n++ & 255) == 0) cancel.ThrowIfCancellationRequested();
                Try(warn, $"pod address {Ip4.Format(ip)}", () => b.AddA($"{Ip4.Format(ip).Replace('.', '-')}.{ns ?? "default"}.pod.{zone}", ip));
            }

        return b.Build(new DnsZoneSettings { Address = address, Mode = mode, Pods = o.Pods, UpstreamRcode = o.UpstreamRcode });
    }

    /// <summary>
    /// Where cluster DNS listens and whether we answer: <c>--cluster-dns</c> (answer); else kube-system/kube-dns's
    /// cluster IP (the mode asked, auto by default: answer only while it has no endpoints); else the default topology's
    /// 10.96.0.10, answered only when asked (<c>--dns answer</c>): nothing in the manifests says DNS lives there.
    /// </summary>
    public static (uint Address, DnsMode Mode) AddressAndMode(ClusterManifests m, DnsOptions o, Allocator allocator)
    {
        if (o.ClusterDns is uint explicitIp) return (explicitIp, o.Mode == DnsMode.Proxy ? DnsMode.Proxy : DnsMode.Answer);
        Service? kubeDns = m.Services.FirstOrDefault(s => s.Namespace == "kube-system" && s.Name == "kube-dns"
            && s.Type != ServiceType.ExternalName && allocator.ClusterIpOrNull(s) is not null);
        if (kubeDns is not null) return (allocator.ClusterIp(kubeDns), o.Mode);
        return (DnsOptions.DefaultClusterDns, o.Mode == DnsMode.Auto ? DnsMode.Proxy : o.Mode);
    }

    static void Try(Action<string>? warn, string what, Action add)
    {
        try { add(); }
        catch (ArgumentException e) { warn?.Invoke($"DNS: skipping {what}: {e.Message}"); }
    }

    /// <summary>An endpoint address and the name CoreDNS gives it (kubernetes.go endpointHostname).</summary>
    readonly record struct Ep(uint Ip, string Host);

    static void AddService(DnsZoneBuilder b, string zone, DnsOptions o, Service svc, Allocator allocator,
        ILookup<(string?, string?), EndpointSlice> slices, ILookup<(string?, string), Endpoints> legacy, Dictionary<(string?, uint), string> podNames,
        CancellationToken cancel)
    {
        string ns = svc.Namespace ?? "default";
        string name = $"{svc.Name}.{ns}.svc.{zone}";
        if (svc.Type == ServiceType.ExternalName || svc.ClusterIPMode == ClusterIPMode.None)
        {
            // An ExternalName that is an IP address is published as nothing (CoreDNS findServices / msg HostType).
            if (svc.ExternalName is { Length: > 0 } target && !System.Net.IPAddress.TryParse(target.TrimEnd('.'), out _))
                b.AddCname(name, target);
            return;
        }

        // Endpoints CoreDNS serves: ready ones (a missing condition is ready), all with publishNotReadyAddresses.
        // Lists keep first-seen order (the answer order); the sets beside them make each duplicate check O(1), so a
        // service's records cost linear time in its endpoints and ports (List.Contains made 60 000 endpoints quadratic).
        var eps = new List<Ep>();
        var epSeen = new HashSet<Ep>();
        var ports = new List<(string Name, int Port, PortProtocol Proto)>();
        var portSeen = new HashSet<(string Name, int Port, PortProtocol Proto)>();
        bool anySlice = false;
        foreach (EndpointSlice slice in slices[(svc.Namespace, svc.Name)])
        {
            cancel.ThrowIfCancellationRequested();
            anySlice = true;
            foreach (EndpointSlicePort p in slice.Ports)
                if (p.Port is int port && portSeen.Add((p.Name, port, p.Protocol))) ports.Add((p.Name, port, p.Protocol));
            foreach (SliceEndpoint ep in slice.Endpoints)
                if (ep.IsReady || svc.PublishNotReadyAddresses)
                    foreach (uint ip in ep.Addresses)
                        AddEp(ip, ep.Hostname);
        }
        if (!anySlice)
            foreach (Endpoints e in legacy[(svc.Namespace, svc.Name)])
                foreach (EndpointSubset subset in e.Subsets)
                {
                    foreach (EndpointPort p in subset.Ports)
                        if (portSeen.Add((p.Name, p.Port, p.Protocol))) ports.Add((p.Name, p.Port, p.Protocol));
                    foreach (EndpointAddress a in subset.Addresses) AddEp(a.IP, a.Hostname);
                    if (svc.PublishNotReadyAddresses)
                        foreach (EndpointAddress a in subset.NotReadyAddresses) AddEp(a.IP, a.Hostname);
                }
        void AddEp(uint ip, string? hostname)
        {
            string host = !string.IsNullOrEmpty(hostname) ? hostname
                : o.EndpointPodNames && podNames.TryGetValue((svc.Namespace, ip), out string? pod) && pod.Length < 64 ? pod
                : Ip4.Format(ip).Replace('.', '-');
            if (epSeen.Add(new Ep(ip, host))) eps.Add(new Ep(ip, host));
        }

        bool headless = svc.ClusterIPMode == ClusterIPMode.Headless;
        if (headless && eps.Count == 0) return; // spec §2.4.1: no ready endpoint → NXDOMAIN
        // The service's cluster IPs of both families, as the API server resolved them: CoreDNS answers A from the IPv4
        // one and AAAA from the IPv6 one (plugin/kubernetes/kubernetes.go, Records: one record per ClusterIPs entry,
        // typed by its family), and the PTR of each (in-addr.arpa, ip6.arpa).
        uint? clusterIp4 = headless ? null : allocator.ClusterIpOrNull(svc);
        UInt128[] clusterIp6 = headless ? [] : [.. allocator.Families(svc).ClusterIPs.Where(c => !c.IsIPv4).Select(c => c.Value)];
        if (!headless && clusterIp4 is null && clusterIp6.Length == 0) { b.AddName(name); return; }

        // Endpoint names and PTRs first, so SRV and A additional sections can point at them. Each name is made once
        // and reused by its PTR and SRV records.
        var hosts = new string[eps.Count];
        for (int i = 0; i < eps.Count; i++)
        {
            if ((i & 255) == 0) cancel.ThrowIfCancellationRequested();
            hosts[i] = $"{eps[i].Host}.{name}";
            b.AddA(hosts[i], eps[i].Ip);
            b.AddPtr(DnsName.ReverseName(eps[i].Ip), hosts[i]);
        }
        if (!headless)
        {
            if (clusterIp4 is not null)
            {
                uint ip = svc.ClusterIP ?? clusterIp4.Value;
                b.AddA(name, ip);
                b.AddPtr(DnsName.ReverseName(ip), name);
            }
            foreach (UInt128 ip6 in clusterIp6)
            {
                b.AddAaaa(name, ip6); // right after the A record: the name's address records stay one run
                b.AddPtr(DnsName.ReverseName6(ip6), name);
            }
            foreach (ServicePort p in svc.Ports)
                if (p.Name.Length > 0)
                    b.AddSrv($"_{p.Name.ToLowerInvariant()}._{Proto(p.Protocol)}.{name}", 0, 100, (ushort)p.Port, name);
            foreach (ServicePort p in svc.Ports)
                b.AddSrv(name, 0, Weight(svc.Ports.Count), (ushort)p.Port, name);
            return;
        }
        foreach (Ep ep in eps) b.AddA(name, ep.Ip);
        // Endpoints × ports SRV records: bounded by the service's endpoints (pods the cluster holds, or the slices
        // written) times its ports (written in the manifest); checked for cancellation per port.
        foreach (var (portName, port, proto) in ports)
            if (portName.Length > 0)
            {
                cancel.ThrowIfCancellationRequested();
                string srv = $"_{portName.ToLowerInvariant()}._{Proto(proto)}.{name}";
                foreach (string host in hosts)
                    b.AddSrv(srv, 0, Weight(eps.Count), (ushort)port, host);
            }
        foreach (var (_, port, _) in ports)
        {
            cancel.ThrowIfCancellationRequested();
            foreach (string host in hosts)
                b.AddSrv(name, 0, Weight(eps.Count * ports.Count), (ushort)port, host);
        }
    }

    static ushort Weight(int candidates) => (ushort)Math.Max(1, 100 / Math.Max(1, candidates));

    static string Proto(PortProtocol p) => p switch { PortProtocol.UDP => "udp", PortProtocol.SCTP => "sctp", _ => "tcp" };
}
