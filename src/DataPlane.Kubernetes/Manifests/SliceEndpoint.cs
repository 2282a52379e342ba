namespace DataPlane.Kubernetes.Manifests;

/// <summary>
/// One endpoints[] entry of an IPv4 EndpointSlice. The raw conditions are kept (null = not written) next to
/// their resolved values, which follow the discovery/v1 <c>EndpointConditions</c> doc and kube-proxy's
/// <c>endpointslicecache.go</c>: ready nil = true, serving nil = true, terminating nil = false.
/// </summary>
public sealed record SliceEndpoint
{
    public IReadOnlyList<uint> Addresses { get; init; } = [];

    /// <summary>The addresses of an IPv6 slice's endpoint, canonical text (<see cref="Addresses"/> is then empty).</summary>
    public IReadOnlyList<string> AddressTexts { get; init; } = [];
    public bool? Ready { get; init; }
    public bool? Serving { get; init; }
    public bool? Terminating { get; init; }
    public string? NodeName { get; init; }
    public string? Hostname { get; init; }
    public string? Zone { get; init; }

    /// <summary>
    /// targetRef of kind Pod: the name of the pod (in the slice's namespace) this endpoint is, as the EndpointSlice
    /// controller writes it (<c>podToEndpoint</c>); null for endpoints that are not pods (a hand-written slice, the
    /// API server's own endpoint).
    /// </summary>
    public string? PodName { get; init; }

    /// <summary>hints.forZones[].name: zones whose nodes should use this endpoint (topology-aware routing).</summary>
    public IReadOnlyList<string> ForZones { get; init; } = [];

    /// <summary>hints.forNodes[].name: nodes that should use this endpoint (trafficDistribution PreferSameNode).</summary>
    public IReadOnlyList<string> ForNodes { get; init; } = [];

    public bool IsReady => Ready ?? true;
    public bool IsServing => Serving ?? true;
    public bool IsTerminating => Terminating ?? false;
}
