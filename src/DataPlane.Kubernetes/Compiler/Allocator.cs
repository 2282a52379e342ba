using System.Globalization;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Packets;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// What the API server does with a service's addresses when the manifests are applied: checks the cluster IPs and node
/// ports that are written, and fills in the ones left out.
/// <para>
/// Written values are taken as the API server already validated them: a dump of a real cluster carries cluster IPs and
/// node ports from its own ranges (k3s's 10.43.0.0/16, GKE's 34.118.224.0/20, a custom --service-node-port-range), which
/// need not be ours, so they are not range-checked. What the allocators guarantee in any cluster is still checked: a
/// cluster IP belongs to one service only, and a nodePort or healthCheckNodePort to one service only. The node-port allocator is a single bitmap for all
/// protocols, so 30080/TCP on one service and 30080/UDP on another collide; inside one service, ports with the same
/// <c>port</c> number share one node port (<c>initNodePorts</c>, e.g. DNS on 53/TCP and 53/UDP).
/// healthCheckNodePort is only allowed on LoadBalancer + externalTrafficPolicy Local.
/// </para>
/// <para>
/// Allocation happens once, in the constructor, so results do not depend on which services the caller asks about:
/// first every written value is reserved (so manifest order cannot make a written value collide with an allocated
/// one), then each service in manifest order gets its cluster IP, its node ports in spec order, then its health-check
/// port — always the lowest free value. The API server picks at random (preferring the upper band of each range);
/// any free value is as right as another, and the lowest one keeps compiled maps stable.
/// </para>
/// <para>
/// Before any address, each service's IP families are resolved as the API server does on create
/// (<see cref="ServiceFamilyRules"/>): one cluster IP per family, the primary first. IPv4 cluster IPs are what the
/// data plane uses; IPv6 ones are reserved and allocated the same way, from the IPv6 ranges, and only listed.
/// </para>
/// </summary>
public sealed class Allocator
{
    /// <summary>kube-apiserver's default --service-node-port-range.</summary>
    public const int DefaultNodePortMin = 30000, DefaultNodePortMax = 32767;

    readonly ClusterManifests _m;
    readonly Dictionary<uint, Service> _ipOwner = [];
    readonly Dictionary<int, (Service Owner, string Field)> _portOwner = [];
    // Keyed by Service.Key: the loader rejects two objects with the same kind, namespace and name.
    readonly Dictionary<string, uint> _ips = [];
    readonly Dictionary<UInt128, Service> _ip6Owner = [];
    readonly Dictionary<string, UInt128> _ips6 = [];
    readonly Dictionary<string, ServiceFamilies> _families = [];
    readonly ServiceCidrInference _cidrs;
    readonly UInt128[] _nextIp6Index;
    readonly Dictionary<(string, int), int> _nodePorts = [];
    readonly Dictionary<string, int> _healthPorts = [];
    int _nextPort;
    readonly bool _kubeDnsWantsTenth, _kubeDnsWantsTenth6;
    readonly int[] _nextIpIndex;

    public int NodePortMin { get; }
    public int NodePortMax { get; }

    /// <summary>Validates and allocates for every service in <paramref name="m"/>; throws <see cref="ManifestException"/> at the first problem, in manifest order.</summary>
    public Allocator(ClusterManifests m, int nodePortMin = DefaultNodePortMin, int nodePortMax = DefaultNodePortMax)
    {
        if (nodePortMin < 1 || nodePortMax > 65535 || nodePortMin > nodePortMax)
            throw new ArgumentOutOfRangeException(nameof(nodePortMin), $"invalid node port range {nodePortMin}-{nodePortMax}");
        _m = m;
        NodePortMin = nodePortMin;
        NodePortMax = nodePortMax;
        _nextPort = nodePortMin;
        _nextIpIndex = new int[m.ServiceClusterIPRanges.Count];
        _cidrs = m.ServiceCidrsInForce;
        _nextIp6Index = new UInt128[_cidrs.Ranges6.Count];

        foreach (Service s in m.Services) _families[s.Key] = ServiceFamilyRules.Resolve(s, _cidrs);
        _kubeDnsWantsTenth = m.Services.Any(s => s.Key == EmulatedServices.KubeDnsKey && NeedsClusterIp(s, IPFamily.IPv4) && s.ClusterIP is null);
        _kubeDnsWantsTenth6 = m.Services.Any(s => s.Key == EmulatedServices.KubeDnsKey && NeedsClusterIp(s, IPFamily.IPv6) && WrittenIPv6(s) is null);
        foreach (Service s in m.Services) ReserveWritten(s);
        foreach (Service s in m.Services) AllocateMissing(s);
    }

    /// <summary>The service's IPv4 cluster IP, written or allocated. Only for services that have one (not headless, not ExternalName, not IPv6-only).</summary>
    public uint ClusterIp(Service svc) =>
        _ips.TryGetValue(svc.Key, out uint ip) ? ip
        : throw new InvalidOperationException($"Service {svc.Key} has no IPv4 cluster IP (headless, ExternalName or another IP family)");

    /// <summary>The service's IPv4 cluster IP, or null when it has none (headless, ExternalName, IPv6-only).</summary>
    public uint? ClusterIpOrNull(Service svc) => _ips.TryGetValue(svc.Key, out uint ip) ? ip : null;

    /// <summary>
    /// spec.ipFamilyPolicy and spec.ipFamilies as the API server stores them, and spec.clusterIPs in family order (the
    /// primary, spec.clusterIP, first); <see cref="ServiceFamilies.None"/> for a service the allocator was not given.
    /// </summary>
    public ServiceFamilies Families(Service svc)
    {
        if (!_families.TryGetValue(svc.Key, out ServiceFamilies? f)) return ServiceFamilies.None;
        if (svc.ClusterIPMode == ClusterIPMode.Headless || svc.Type == ServiceType.ExternalName) return f;
        var ips = new List<ServiceIP>(f.Families.Count);
        foreach (IPFamily family in f.Families)
        {
            if (family == IPFamily.IPv4 && _ips.TryGetValue(svc.Key, out uint v4)) ips.Add(ServiceIP.V4(v4));
            else if (family == IPFamily.IPv6 && _ips6.TryGetValue(svc.Key, out UInt128 v6)) ips.Add(ServiceIP.V6(v6));
        }
        return f with { ClusterIPs = ips };
    }

    /// <summary>
    /// The node port of <c>svc.Ports[portIndex]</c>, written or allocated; null when the service has none: not a
    /// NodePort/LoadBalancer service, or a LoadBalancer with allocateLoadBalancerNodePorts false and no written port
    /// (the caller then installs no NodePort frontend for it).
    /// </summary>
    public int? NodePortOrNull(Service svc, int portIndex) =>
        _nodePorts.TryGetValue((svc.Key, portIndex), out int p) ? p : null;

    /// <summary>
    /// Legacy shape for callers that predate <see cref="NodePortOrNull"/>: the node port, or 0 when the service gets
    /// none (LoadBalancer with allocateLoadBalancerNodePorts false). Prefer <see cref="NodePortOrNull"/>.
    /// </summary>
    public int NodePort(Service svc, int portIndex) => NodePortOrNull(svc, portIndex) ?? 0;

    /// <summary>
    /// healthCheckNodePort, written or allocated, for LoadBalancer + externalTrafficPolicy Local services (the only
    /// ones kube-proxy serves it for); null for every other service.
    /// </summary>
    public int? HealthCheckNodePort(Service svc) => _healthPorts.TryGetValue(svc.Key, out int p) ? p : null;

    /// <summary>
    /// Parses a --service-node-port-range value, "min-max" (kube-apiserver's <c>utilnet.ParsePortRange</c> also takes a
    /// single port, and "min+offset"). Ports must be 1-65535 and min &lt;= max.
    /// </summary>
    public static bool TryParseRange(string? text, out int min, out int max)
    {
        min = max = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        string s = text.Trim();
        int dash = s.IndexOf('-'), plus = s.IndexOf('+');
        if (dash >= 0 && plus >= 0) return false;
        if (dash < 0 && plus < 0)
        {
            if (!TryPort(s, out min)) return false;
            max = min;
            return true;
        }
        int sep = dash >= 0 ? dash : plus;
        if (!TryPort(s[..sep], out min)) return false;
        if (dash >= 0)
        {
            if (!TryPort(s[(sep + 1)..], out max)) return false;
        }
        else
        {
            if (!int.TryParse(s[(sep + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int offset) || offset > 65535 - min) return false;
            max = min + offset;
        }
        if (min > max) { min = max = 0; return false; }
        return true;

        static bool TryPort(string t, out int port) =>
            int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;
    }

    /// <summary>Whether the API server gives <paramref name="s"/> a cluster IP of <paramref name="family"/>: not ExternalName, not headless, and the family resolved for it.</summary>
    bool NeedsClusterIp(Service s, IPFamily family) =>
        s.Type != ServiceType.ExternalName && s.ClusterIPMode != ClusterIPMode.Headless && _families[s.Key].Has(family);

    static UInt128? WrittenIPv6(Service s) => s.WrittenClusterIPs.FirstOrDefault(ip => !ip.IsIPv4) is { Family: IPFamily.IPv6 } v6 ? v6.Value : null;

    static bool HasNodePorts(Service s) => s.Type is ServiceType.NodePort or ServiceType.LoadBalancer;

    static bool NeedsHealthCheck(Service s) => s.Type == ServiceType.LoadBalancer && s.ExternalTrafficPolicy == TrafficPolicy.Local;

    static bool AllocatesNodePorts(Service s) =>
        s.Type == ServiceType.NodePort || (s.Type == ServiceType.LoadBalancer && s.AllocateLoadBalancerNodePorts);

    static ManifestException Error(Service s, string field, string problem) => new(s.SourceFile, $"Service {s.Key}", field, problem) { RefusedBy = "kube-apiserver" };

    static string Where(Service s) => $"Service {s.Key} ({s.SourceFile})";

    string RangeText => $"{NodePortMin}-{NodePortMax}";

    void ReserveWritten(Service s)
    {
        if (NeedsClusterIp(s, IPFamily.IPv4) && s.ClusterIP is uint ip)
        {
            string field = "spec.clusterIP";
            if (_ipOwner.TryGetValue(ip, out Service? other))
                throw Error(s, field, $"{Ip4.Format(ip)} is already allocated to {Where(other)} (the API server allocates each cluster IP once)");
            _ipOwner[ip] = s;
            _ips[s.Key] = ip;
        }
        if (NeedsClusterIp(s, IPFamily.IPv6) && WrittenIPv6(s) is UInt128 ip6)
        {
            string field = s.WrittenClusterIPs[0].IsIPv4 ? "spec.clusterIPs[1]" : "spec.clusterIP";
            if (_ip6Owner.TryGetValue(ip6, out Service? other))
                throw Error(s, field, $"{ServiceIP.FormatV6(ip6)} is already allocated to {Where(other)} (the API server allocates each cluster IP once)");
            _ip6Owner[ip6] = s;
            _ips6[s.Key] = ip6;
        }

        if (HasNodePorts(s))
        {
            // Ports sharing a `port` number share one node port (initNodePorts), so a written value is reserved once per
            // port number; two port numbers asking for the same node port collide like two services do.
            var byPortNumber = new Dictionary<int, int>();
            for (int i = 0; i < s.Ports.Count; i++)
            {
                if (s.Ports[i].NodePort is not int np) continue;
                string field = $"spec.ports[{i}].nodePort";
                if (byPortNumber.TryGetValue(s.Ports[i].Port, out int same) && same == np) { _nodePorts[(s.Key, i)] = np; continue; }
                ReservePort(s, field, np);
                byPortNumber.TryAdd(s.Ports[i].Port, np);
                _nodePorts[(s.Key, i)] = np;
            }
        }

        if (s.HealthCheckNodePort is int hc)
        {
            const string field = "spec.healthCheckNodePort";
            if (!NeedsHealthCheck(s))
                throw Error(s, field, "may only be set when spec.type is LoadBalancer and spec.externalTrafficPolicy is Local");
            ReservePort(s, field, hc);
            _healthPorts[s.Key] = hc;
        }
    }

    void ReservePort(Service s, string field, int port)
    {
        if (_portOwner.TryGetValue(port, out var other))
        {
            string whose = ReferenceEquals(other.Owner, s) ? $"this service's {other.Field}" : $"{Where(other.Owner)} {other.Field}";
            throw Error(s, field, $"node port {port} is already allocated to {whose} (node ports are unique across services and protocols)");
        }
        _portOwner[port] = (s, field);
    }

    void AllocateMissing(Service s)
    {
        if (NeedsClusterIp(s, IPFamily.IPv4) && s.ClusterIP is null)
            _ips[s.Key] = NextIp(s);
        if (NeedsClusterIp(s, IPFamily.IPv6) && !_ips6.ContainsKey(s.Key))
            _ips6[s.Key] = NextIp6(s);

        if (HasNodePorts(s))
        {
            var byPortNumber = new Dictionary<int, int>();
            for (int i = 0; i < s.Ports.Count; i++)
                if (_nodePorts.TryGetValue((s.Key, i), out int written)) byPortNumber.TryAdd(s.Ports[i].Port, written);
            for (int i = 0; i < s.Ports.Count; i++)
            {
                if (_nodePorts.ContainsKey((s.Key, i))) continue;
                if (byPortNumber.TryGetValue(s.Ports[i].Port, out int shared)) { _nodePorts[(s.Key, i)] = shared; continue; }
                if (!AllocatesNodePorts(s)) continue; // LoadBalancer with allocateLoadBalancerNodePorts: false
                int np = NextPort(s, $"spec.ports[{i}].nodePort");
                byPortNumber[s.Ports[i].Port] = np;
                _nodePorts[(s.Key, i)] = np;
            }
        }

        if (NeedsHealthCheck(s) && !_healthPorts.ContainsKey(s.Key))
            _healthPorts[s.Key] = NextPort(s, "spec.healthCheckNodePort");
    }

    uint NextIp(Service s)
    {
        IReadOnlyList<Cidr4> ranges = _m.ServiceClusterIPRanges;
        // default/kubernetes's and kube-dns's addresses come from the primary range only (the first
        // --service-cluster-ip-range); a secondary IPv4 range has no reserved address.
        bool primary = _cidrs.Primary == IPFamily.IPv4;
        if (primary && s.Key == EmulatedServices.KubernetesKey && ranges.Count > 0 && _ipOwner.TryAdd((uint)Usable(ranges[0]).First, s))
            return (uint)Usable(ranges[0]).First;
        if (primary && s.Key == EmulatedServices.KubeDnsKey && DnsAddress(ranges) is uint dns && _ipOwner.TryAdd(dns, s))
            return dns;
        for (int r = 0; r < ranges.Count; r++)
        {
            (ulong first, ulong last) = Usable(ranges[r]);
            for (ulong a = first + (ulong)_nextIpIndex[r]; a <= last; a++, _nextIpIndex[r]++)
            {
                uint candidate = (uint)a;
                // The first address of the (first) service range is default/kubernetes's: kube-apiserver creates that
                // service with it (pkg/controlplane/controller/kubernetesservice, ServiceIP = the range's first IP), so
                // no other service is ever given it, even when a manifest set has no default/kubernetes.
                if (primary && r == 0 && a == first) continue;
                // The tenth address is kube-dns's (kubeadm's GetDNSIP: the range's 10th IP, every pod's resolv.conf
                // nameserver): kept for it while it has no written address of its own.
                if (primary && r == 0 && candidate == DnsAddress(ranges) && _kubeDnsWantsTenth) continue;
                if (_ipOwner.TryAdd(candidate, s)) { _nextIpIndex[r]++; return candidate; }
            }
        }
        throw Error(s, "spec.clusterIP", $"no free address left in the service CIDRs ({string.Join(", ", ranges)})");
    }

    /// <summary>
    /// The lowest free IPv6 address of the IPv6 ranges. The ipallocator never hands out a range's first address (the
    /// subnet-router anycast address; IPv6 has no broadcast to skip at the end), and when IPv6 is the primary family
    /// the first usable one is default/kubernetes's, as in IPv4.
    /// </summary>
    UInt128 NextIp6(Service s)
    {
        IReadOnlyList<Cidr6> ranges = _cidrs.Ranges6;
        bool primary = _cidrs.Primary == IPFamily.IPv6;
        if (primary && s.Key == EmulatedServices.KubernetesKey && ranges.Count > 0 && _ip6Owner.TryAdd(ranges[0].Prefix + 1, s))
            return ranges[0].Prefix + 1;
        // kubeadm's GetDNSIP: the tenth address of the primary range, whichever its family.
        UInt128? dns = primary && ranges.Count > 0 && ranges[0].Length <= 124 ? ranges[0].Prefix + 10 : null;
        if (s.Key == EmulatedServices.KubeDnsKey && dns is UInt128 d && _ip6Owner.TryAdd(d, s))
            return d;
        for (int r = 0; r < ranges.Count; r++)
        {
            UInt128 first = ranges[r].Prefix + 1, last = ranges[r].Last;
            for (UInt128 a = first + _nextIp6Index[r]; a <= last && a >= first; a++, _nextIp6Index[r]++)
            {
                if (primary && r == 0 && a == first) continue;
                if (r == 0 && a == dns && _kubeDnsWantsTenth6) continue;
                if (_ip6Owner.TryAdd(a, s)) { _nextIp6Index[r]++; return a; }
            }
        }
        throw Error(s, "spec.clusterIPs", $"no free address left in the IPv6 service CIDRs ({string.Join(", ", ranges)})");
    }

    int NextPort(Service s, string field)
    {
        for (; _nextPort <= NodePortMax; _nextPort++)
            if (!_portOwner.ContainsKey(_nextPort))
            {
                _portOwner[_nextPort] = (s, field);
                return _nextPort++;
            }
        throw Error(s, field, $"no free node port left in {RangeText}");
    }

    /// <summary>kubeadm's cluster DNS address: the 10th address of the first service range (10.96.0.10 in 10.96.0.0/12); null when the range is smaller.</summary>
    public static uint? DnsAddress(IReadOnlyList<Cidr4> ranges) =>
        ranges.Count > 0 && ranges[0].Length <= 28 ? ranges[0].Prefix + 10 : null;

    /// <summary>The allocatable addresses of a range: without its network and broadcast addresses, except for /31 and /32.</summary>
    static (ulong First, ulong Last) Usable(Cidr4 r)
    {
        ulong start = r.Prefix, end = r.Prefix + (1UL << (32 - r.Length)) - 1;
        return r.Length >= 31 ? (start, end) : (start + 1, end - 1);
    }
}
