namespace DataPlane.Kubernetes.Manifests;

/// <summary>One address of a v1 Endpoints subset; <see cref="PodName"/> is its targetRef when that names a Pod.</summary>
public readonly record struct EndpointAddress(uint IP, string? NodeName, string? Hostname, string? PodName = null);
