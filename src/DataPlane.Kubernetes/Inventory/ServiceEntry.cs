namespace DataPlane.Kubernetes.Inventory;

/// <summary>
/// A service as <c>kubectl get svc -o wide</c> plus its endpoints show it. <see cref="ClusterIP"/> is the primary
/// address (as given or allocated; IPv6 for an IPv6-primary service), "None" for a headless service, null for
/// ExternalName; <see cref="ExternalIPs"/> are spec.externalIPs then the load-balancer ingress addresses.
/// </summary>
public sealed record ServiceEntry(string Namespace, string Name, string Type, string? ClusterIP, string? ExternalName,
    IReadOnlyList<string> ExternalIPs, IReadOnlyList<ServicePortEntry> Ports, IReadOnlyList<EndpointEntry> Endpoints)
{
    /// <summary>One of the services every cluster has, added because the manifests do not bring it.</summary>
    public bool Emulated { get; init; }

    /// <summary>spec.clusterIPs as <c>kubectl get svc -o yaml</c> shows it: one per family, primary first; ["None"] when headless, empty for ExternalName.</summary>
    public IReadOnlyList<string> ClusterIPs { get; init; } = [];

    /// <summary>spec.ipFamilies, primary first; empty for ExternalName.</summary>
    public IReadOnlyList<string> IPFamilies { get; init; } = [];

    /// <summary>spec.ipFamilyPolicy; null for ExternalName.</summary>
    public string? IPFamilyPolicy { get; init; }
}
