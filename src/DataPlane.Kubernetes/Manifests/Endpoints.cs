namespace DataPlane.Kubernetes.Manifests;

/// <summary>A legacy v1 Endpoints object (deprecated since 1.33 in favour of EndpointSlice); IPv6 addresses dropped.</summary>
public sealed record Endpoints : ManifestObject
{
    public IReadOnlyList<EndpointSubset> Subsets { get; init; } = [];
}
