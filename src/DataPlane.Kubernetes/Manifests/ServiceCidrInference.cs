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
/// </summary>
public sealed record ServiceCidrInference(IReadOnlyList<Cidr4> Ranges, string Origin)
{
    public override string ToString() => $"{string.Join(", ", Ranges)} ({Origin})";

    public static ServiceCidrInference For(ClusterManifests m)
    {
        var fromObjects = m.ServiceCidrs.SelectMany(s => s.Cidrs).ToArray();
        if (fromObjects.Length > 0)
            return new(fromObjects, "from ServiceCIDR " + string.Join(", ", m.ServiceCidrs.Where(s => s.Cidrs.Count > 0).Select(s => s.Name)));
        if (m.ServiceCidrFlag.Count > 0)
            return new(m.ServiceCidrFlag, "from --service-cidr");

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
