namespace DataPlane.Kubernetes.Inventory;

/// <summary>
/// A service as <c>kubectl get svc -o wide</c> plus its endpoints show it. <see cref="ClusterIP"/> is the address (as
/// given or allocated), "None" for a headless service, null for ExternalName; <see cref="ExternalIPs"/> are
/// spec.externalIPs then the load-balancer ingress addresses.
/// </summary>
public sealed record ServiceEntry(string Namespace, string Name, string Type, string? ClusterIP, string? ExternalName,
    IReadOnlyList<string> ExternalIPs, IReadOnlyList<ServicePortEntry> Ports, IReadOnlyList<EndpointEntry> Endpoints)
{
    /// <summary>One of the services every cluster has, added because the manifests do not bring it.</summary>
    public bool Emulated { get; init; }
}
