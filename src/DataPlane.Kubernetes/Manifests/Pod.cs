namespace DataPlane.Kubernetes;

/// <summary>A v1 Pod, as much as the endpoints controller and DNS need.</summary>
public sealed record Pod : ManifestObject
{
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public string? NodeName { get; init; }
    public string? Hostname { get; init; }
    public string? Subdomain { get; init; }
    public bool HostNetwork { get; init; }
    /// <summary>spec.dnsPolicy: ClusterFirst (the default), ClusterFirstWithHostNet, Default or None.</summary>
    public string DnsPolicy { get; init; } = "ClusterFirst";
    public PodDnsConfig? DnsConfig { get; init; }

    /// <summary>status.podIP if IPv4, else the first IPv4 entry of status.podIPs; null when the pod has none.</summary>
    public uint? PodIP { get; init; }

    public IReadOnlyList<uint> PodIPs { get; init; } = [];

    /// <summary>Pending when status.phase is absent: that is where every pod starts.</summary>
    public PodPhase Phase { get; init; }

    /// <summary>
    /// The Ready condition is "True". An absent condition is not ready, as podutil <c>IsPodReady</c> decides,
    /// so a hand-written pod needs status.conditions to count as a ready endpoint.
    /// </summary>
    public bool Ready { get; init; }

    /// <summary>metadata.deletionTimestamp is set: the endpointslice controller marks such endpoints terminating.</summary>
    public bool Terminating { get; init; }

    /// <summary>All container ports of all containers, in order.</summary>
    public IReadOnlyList<ContainerPort> ContainerPorts { get; init; } = [];
}
