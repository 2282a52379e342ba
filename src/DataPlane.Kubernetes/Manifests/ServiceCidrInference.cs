using DataPlane.Packets;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>
/// The service IP ranges in force. They matter only to allocate cluster IPs the manifests leave out and for nftables
/// mode's rule that drops traffic to unallocated service addresses: written cluster IPs are taken as the API server
/// already validated them. In order of precedence:
/// <list type="number">
/// <item>the IPv4 ranges of the ServiceCIDR objects;</item>
/// <item>--service-cidr;</item>
/// <item>kube-apiserver's default, 10.96.0.0/12, when every written cluster IP lies in it (or none is written): hand-written
/// manifests and kubeadm clusters use it, and nothing says otherwise;</item>
/// <item>otherwise inferred from the written cluster IPs. The API server gives <c>default/kubernetes</c> the first address of
/// its range, so the range starts at the address before it: a /16 when that address is /16-aligned (kind, k3s, AKS,
/// EKS), else the widest prefix it is aligned to (GKE's 34.118.224.0/20 gives 34.118.224.0/19). Cluster IPs still
/// outside are covered by their smallest common prefix, but never narrower than a /16 (10.100.5.5 alone gives
/// 10.100.0.0/16); IPs too far apart for one private-size prefix (shorter than /8) each get their own /16;</item>
/// </list>
/// <para>
/// IP families: a family is configured when a range of it is in force, and the cluster is dual-stack when both are
/// (kube-apiserver has one allocator per family, <c>serviceIPAllocatorsByFamily</c>, and its first
/// --service-cluster-ip-range gives <c>defaultServiceIPFamily</c>). With ServiceCIDR objects the primary family is that
/// of the first CIDR of the default ServiceCIDR "kubernetes" (which mirrors the flag), else of the first object loaded;
/// with --service-cidr, that of the first range given. Inferred clusters keep the IPv4 range above and are IPv4-primary
/// unless default/kubernetes is written with an IPv6 primary; they get an IPv6 range only when a written cluster IP is
/// IPv6 (a dump of a dual-stack cluster): the smallest prefix covering those addresses, at least a /112 (kubeadm's
/// habit for IPv6 service ranges; the API server allows up to a /108 of them).
/// </para>
/// </summary>
public sealed record ServiceCidrInference(IReadOnlyList<Cidr4> Ranges, string Origin)
{
    /// <summary>The IPv6 ranges in force; empty on an IPv4 single-stack cluster.</summary>
    public IReadOnlyList<Cidr6> Ranges6 { get; init; } = [];

    /// <summary>The cluster's primary (default) service IP family.</summary>
    public IPFamily Primary { get; init; }

    public bool HasIPv4 => Ranges.Count > 0;
    public bool HasIPv6 => Ranges6.Count > 0;

    /// <summary>Both families are configured (what initIPFamilyFields tests as <c>len(serviceIPAllocatorsByFamily) == 2</c>).</summary>
    public bool IsDualStack => HasIPv4 && HasIPv6;

    public bool Has(IPFamily family) => family == IPFamily.IPv4 ? HasIPv4 : HasIPv6;

    /// <summary>Every range in force as text, primary family first (as the default ServiceCIDR lists them).</summary>
    public IReadOnlyList<string> RangeTexts =>
        Primary == IPFamily.IPv6 ? [.. Ranges6.Select(r => r.ToString()), .. Ranges.Select(r => r.ToString())]
            : [.. Ranges.Select(r => r.ToString()), .. Ranges6.Select(r => r.ToString())];

    public override string ToString() => $"{string.Join(", ", RangeTexts)} ({Origin})";

    public static ServiceCidrInference For(ClusterManifests m)
    {
        var fromObjects = m.ServiceCidrs.SelectMany(s => s.Cidrs).ToArray();
        var fromObjects6 = m.ServiceCidrs.SelectMany(s => s.Cidrs6).ToArray();
        if (fromObjects.Length > 0 || fromObjects6.Length > 0)
        {
            ServiceCidr first = m.ServiceCidrs.FirstOrDefault(s => s.Name == "kubernetes") ?? m.ServiceCidrs.First(s => s.Cidrs.Count + s.Cidrs6.Count > 0);
            return new(fromObjects, "from ServiceCIDR " + string.Join(", ", m.ServiceCidrs.Where(s => s.Cidrs.Count + s.Cidrs6.Count > 0).Select(s => s.Name)))
            {
                Ranges6 = fromObjects6,
                Primary = first.Primary,
            };
        }
        if (m.ServiceCidrFlag.Count > 0 || m.ServiceCidrFlag6.Count > 0)
            return new(m.ServiceCidrFlag, "from --service-cidr")
            {
                Ranges6 = m.ServiceCidrFlag6,
                // A lone IPv6 range is the primary whatever the caller left as the default (IPv4).
                Primary = m.ServiceCidrFlag.Count == 0 ? IPFamily.IPv6 : m.ServiceCidrFlag6.Count == 0 ? IPFamily.IPv4 : m.ServiceCidrFlagPrimary,
            };

        ServiceCidrInference v4 = InferIPv4(m);
        var written6 = m.Services.Where(s => s.Type != ServiceType.ExternalName)
            .SelectMany(s => s.WrittenClusterIPs).Where(ip => !ip.IsIPv4).Select(ip => ip.Value).Distinct().Order().ToList();
        if (written6.Count == 0)
            return v4;
        int common = CommonPrefix6(written6[0], written6[^1]);
        var range6 = new Cidr6(written6[0], Math.Min(common, 112));
        var kubernetes = m.Services.FirstOrDefault(s => s.Namespace == "default" && s.Name == "kubernetes");
        bool v6Primary = kubernetes?.WrittenClusterIPs is [{ IsIPv4: false }, ..];
        return v4 with
        {
            Ranges6 = [range6],
            Primary = v6Primary ? IPFamily.IPv6 : IPFamily.IPv4,
            Origin = v4.Origin + $"; {range6} inferred: covering the written IPv6 cluster IPs" + (v6Primary ? ", IPv6 primary as default/kubernetes is" : ""),
        };
    }

    static int CommonPrefix6(UInt128 a, UInt128 b) => a == b ? 128 : (int)UInt128.LeadingZeroCount(a ^ b);

    static ServiceCidrInference InferIPv4(ClusterManifests m)
    {

        var written = m.Services.Where(s => s.ClusterIPMode == ClusterIPMode.Assigned).SelectMany(s => s.ClusterIPs).Distinct().Order().ToList();
        if (written.Count == 0)
            return new([ClusterManifests.DefaultServiceCidr], "kube-apiserver's default: no cluster IP is written");
        if (written.All(ClusterManifests.DefaultServiceCidr.Contains))
            return new([ClusterManifests.DefaultServiceCidr], "kube-apiserver's default, which holds every written cluster IP");

        var ranges = new List<Cidr4>();
        var origin = new List<string>();
        var kubernetes = m.Services.FirstOrDefault(s => s.Namespace == "default" && s.Name == "kubernetes" && s.ClusterIP is not null);
        if (kubernetes?.ClusterIP is uint k && k > 0)
        {
            uint network = k - 1;
            int aligned = network == 0 ? 1 : 32 - System.Numerics.BitOperations.TrailingZeroCount(network);
            ranges.Add(new Cidr4(network, Math.Max(16, aligned)));
            origin.Add($"default/kubernetes is {Ip4.Format(k)}, the range's first address");
        }
        var outside = written.Where(ip => !ranges.Any(r => r.Contains(ip))).ToList();
        if (outside.Count > 0)
        {
            int common = CommonPrefix(outside[0], outside[^1]);
            if (common >= 8)
                ranges.Add(new Cidr4(outside[0], Math.Min(common, 16)));
            else
                foreach (uint ip in outside.Select(ip => ip & 0xFFFF0000).Distinct())
                    ranges.Add(new Cidr4(ip, 16));
            origin.Add($"covering the written cluster IPs{(kubernetes is null ? "" : " outside it")}");
        }
        return new(ranges, "inferred: " + string.Join("; ", origin));
    }

    static int CommonPrefix(uint a, uint b) => a == b ? 32 : System.Numerics.BitOperations.LeadingZeroCount(a ^ b);
}
