namespace DataPlane.Kubernetes;

/// <summary>A v1 Node (cluster-scoped).</summary>
public sealed record Node : ManifestObject
{
    public IReadOnlyList<NodeAddress> Addresses { get; init; } = [];

    /// <summary>The IPv4 InternalIP addresses, in order; the first one is the node's primary IP for kube-proxy.</summary>
    public IReadOnlyList<uint> InternalIPs => Addresses.Where(a => a.Type == NodeAddressType.InternalIP && a.IP is not null).Select(a => a.IP!.Value).ToArray();

    /// <summary>The IPv4 ExternalIP addresses, in order.</summary>
    public IReadOnlyList<uint> ExternalIPs => Addresses.Where(a => a.Type == NodeAddressType.ExternalIP && a.IP is not null).Select(a => a.IP!.Value).ToArray();

    /// <summary>spec.podCIDR if IPv4, else the first IPv4 entry of spec.podCIDRs.</summary>
    public Ipv4Cidr? PodCIDR { get; init; }

    public IReadOnlyList<Ipv4Cidr> PodCIDRs { get; init; } = [];
}
