using DataPlane.Packets;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>A networking.k8s.io/v1 ServiceCIDR (cluster-scoped): a range cluster IPs are allocated from.</summary>
public sealed record ServiceCidr : ManifestObject
{
    /// <summary>IPv4 entries of spec.cidrs, canonical (no host bits).</summary>
    public IReadOnlyList<Cidr4> Cidrs { get; init; } = [];

    /// <summary>IPv6 entries of spec.cidrs, canonical (no host bits).</summary>
    public IReadOnlyList<Cidr6> Cidrs6 { get; init; } = [];

    /// <summary>
    /// The family of spec.cidrs[0]. The default ServiceCIDR ("kubernetes") mirrors kube-apiserver's
    /// --service-cluster-ip-range, whose first range is the cluster's primary family (the default family of services).
    /// </summary>
    public IPFamily Primary { get; init; }
}
