using DataPlane.Packets;

namespace DataPlane.Maps;

/// <summary>
/// A LoadBalancer service's loadBalancerSourceRanges (cilium's LB4_SRC_RANGE map, kube-proxy's firewall chain): only
/// these sources may reach its LB IPs. When a node IP lies inside a range, the LB IPs themselves are allowed too, for
/// traffic the environment SNATs to the LB IP (kube-proxy TestLoadBalancer "same node to LB, SNATted").
/// </summary>
public sealed class SourceRangeSet(Cidr4[] ranges, uint[] alsoAllowed)
{
    public Cidr4[] Ranges { get; } = ranges;
    public uint[] AlsoAllowed { get; } = alsoAllowed;

    public bool Allows(uint src)
    {
        foreach (var r in Ranges)
            if (r.Contains(src)) return true;
        foreach (uint a in AlsoAllowed)
            if (a == src) return true;
        return false;
    }
}
