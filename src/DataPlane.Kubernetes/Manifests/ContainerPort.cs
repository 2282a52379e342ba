namespace DataPlane.Kubernetes.Manifests;

/// <summary>A spec.containers[].ports[] entry; a named one is what a Service's string targetPort resolves to.</summary>
public readonly record struct ContainerPort(string? Name, int Port, PortProtocol Protocol);
