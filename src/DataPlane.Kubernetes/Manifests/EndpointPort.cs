namespace DataPlane.Kubernetes.Manifests;

/// <summary>One port of a v1 Endpoints subset.</summary>
public readonly record struct EndpointPort(string Name, int Port, PortProtocol Protocol);
