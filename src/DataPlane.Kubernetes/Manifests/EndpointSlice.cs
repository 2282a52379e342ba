namespace DataPlane.Kubernetes.Manifests;

/// <summary>A discovery.k8s.io/v1 EndpointSlice.</summary>
public sealed record EndpointSlice : ManifestObject
{
    /// <summary>The kubernetes.io/service-name label: the service this slice belongs to; null if absent (kube-proxy ignores such slices).</summary>
    public string? ServiceName { get; init; }

    public EndpointAddressType AddressType { get; init; }

    /// <summary>Endpoints in order; always empty for non-IPv4 slices (see <see cref="IPv6Endpoints"/>).</summary>
    public IReadOnlyList<SliceEndpoint> Endpoints { get; init; } = [];

    /// <summary>
    /// The endpoints of an IPv6 slice, addresses in <see cref="SliceEndpoint.AddressTexts"/>: kept for listing
    /// (<c>dataplane cluster</c>), apart from <see cref="Endpoints"/> so the IPv4 data plane never reads them.
    /// </summary>
    public IReadOnlyList<SliceEndpoint> IPv6Endpoints { get; init; } = [];

    public IReadOnlyList<EndpointSlicePort> Ports { get; init; } = [];

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public bool IsIPv4 => AddressType == EndpointAddressType.IPv4;
}
