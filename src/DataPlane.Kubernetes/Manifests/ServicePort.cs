namespace DataPlane.Kubernetes.Manifests;

/// <summary>One spec.ports[] entry of a Service.</summary>
public sealed record ServicePort
{
    /// <summary>"" when the service has a single unnamed port; EndpointSlice ports are matched to it by this name.</summary>
    public required string Name { get; init; }
    public required int Port { get; init; }
    public PortProtocol Protocol { get; init; }

    /// <summary>Defaults to <see cref="Port"/> when absent, 0 or "" (core/v1 defaults <c>SetDefaults_Service</c>).</summary>
    public TargetPort TargetPort { get; init; }

    /// <summary>Null when absent or 0 ("allocate one" for NodePort/LoadBalancer services).</summary>
    public int? NodePort { get; init; }
}
