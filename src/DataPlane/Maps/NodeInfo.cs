using DataPlane.Packets;

namespace DataPlane.Maps;

/// <summary>What the data plane of one node needs to know about that node, resolved at compile time.</summary>
public sealed class NodeInfo
{
    public NodeInfo(string name, uint primaryAddress, uint[] addresses, Cidr4? podCidr, Cidr4[] clusterCidrs,
        Cidr4[]? serviceCidrs = null, bool dropUnallocatedServiceIps = false)
    {
        ServiceCidrs = serviceCidrs ?? [];
        DropUnallocatedServiceIps = dropUnallocatedServiceIps;
        Name = name;
        PrimaryAddress = primaryAddress;
        Addresses = addresses;
        PodCidr = podCidr;
        ClusterCidrs = clusterCidrs;
    }

    public string Name { get; }
    /// <summary>The node's first InternalIP: MASQUERADE's source on the uplink, and the source of ICMP errors it sends.</summary>
    public uint PrimaryAddress { get; }
    /// <summary>Every address of the node (status.addresses plus 127.0.0.1).</summary>
    public uint[] Addresses { get; }
    /// <summary>spec.podCIDR; its first address is the pod-side gateway (cni0), the source the kernel uses towards local pods.</summary>
    public Cidr4? PodCidr { get; }
    /// <summary>The local-traffic detector's cluster CIDRs; empty means "no detector" (kube-proxy then assumes pod sources).</summary>
    public Cidr4[] ClusterCidrs { get; }
    /// <summary>Where cluster IPs come from (ServiceCIDR objects, default 10.96.0.0/12).</summary>
    public Cidr4[] ServiceCidrs { get; }
    /// <summary>nftables mode: a packet to an unallocated address inside the service CIDRs is dropped ("cluster-ips-check").</summary>
    public bool DropUnallocatedServiceIps { get; }

    /// <summary>
    /// kube-proxy's internal-scope sources for externalTrafficPolicy Local: pods (inside the cluster CIDR, only when a
    /// local-traffic detector exists) are short-circuited to every endpoint, and node-local sources go there too.
    /// </summary>
    public bool UsesInternalScope(uint src) => IsNodeAddress(src) || InClusterCidr(src);

    public bool InServiceCidr(uint address)
    {
        foreach (var c in ServiceCidrs)
            if (c.Contains(address)) return true;
        return false;
    }

    public bool IsNodeAddress(uint address)
    {
        foreach (uint a in Addresses)
            if (a == address) return true;
        return false;
    }

    public bool InClusterCidr(uint address)
    {
        foreach (var c in ClusterCidrs)
            if (c.Contains(address)) return true;
        return false;
    }
}
