using DataPlane.Kubernetes.Manifests;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// A Service's IP family fields as the API server stores them after create: <see cref="Policy"/> defaulted (null only
/// for ExternalName, which has no families), <see cref="Families"/> primary first, and <see cref="ClusterIPs"/> one
/// per family in the same order (written or allocated; empty for headless and ExternalName services).
/// </summary>
public sealed record ServiceFamilies(IPFamilyPolicy? Policy, IReadOnlyList<IPFamily> Families)
{
    public IReadOnlyList<ServiceIP> ClusterIPs { get; init; } = [];

    public bool Has(IPFamily family) => Families.Contains(family);

    /// <summary>Two families: the IPv6 half gets no rules in the IPv4 data plane yet.</summary>
    public bool IsDualStack => Families.Count == 2;

    /// <summary>IPv6 alone: the service gets no rules in the IPv4 data plane yet.</summary>
    public bool IsIPv6Only => Families is [IPFamily.IPv6];

    /// <summary>ExternalName: no cluster IP, no family (what kubectl shows as absent fields).</summary>
    public static readonly ServiceFamilies None = new(null, []);
}
