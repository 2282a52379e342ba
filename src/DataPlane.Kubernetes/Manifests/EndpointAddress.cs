namespace DataPlane.Kubernetes.Manifests;

/// <summary>One address of a v1 Endpoints subset.</summary>
public readonly record struct EndpointAddress(uint IP, string? NodeName, string? Hostname);
