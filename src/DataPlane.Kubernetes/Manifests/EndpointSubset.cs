namespace DataPlane.Kubernetes.Manifests;

/// <summary>A v1 Endpoints subset: every address serves every port.</summary>
public sealed record EndpointSubset
{
    public IReadOnlyList<EndpointAddress> Addresses { get; init; } = [];
    public IReadOnlyList<EndpointAddress> NotReadyAddresses { get; init; } = [];
    public IReadOnlyList<EndpointPort> Ports { get; init; } = [];
}
