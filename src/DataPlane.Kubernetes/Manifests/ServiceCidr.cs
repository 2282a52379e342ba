using DataPlane.Packets;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>A networking.k8s.io/v1 ServiceCIDR (cluster-scoped): a range cluster IPs are allocated from.</summary>
public sealed record ServiceCidr : ManifestObject
{
    /// <summary>IPv4 entries of spec.cidrs, canonical (no host bits).</summary>
    public IReadOnlyList<Cidr4> Cidrs { get; init; } = [];
}
