namespace DataPlane.Kubernetes.Manifests;

/// <summary>One ports[] entry of an EndpointSlice; matched to a service port by <see cref="Name"/>.</summary>
public sealed record EndpointSlicePort
{
    /// <summary>"" when unnamed (the API's nil and "" both mean "the unnamed port").</summary>
    public string Name { get; init; } = "";

    /// <summary>Null means "all ports" per the discovery/v1 doc; kube-proxy skips such ports.</summary>
    public int? Port { get; init; }

    public PortProtocol Protocol { get; init; }
}
