namespace DataPlane.Kubernetes.Manifests;

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

    /// <summary>spec.enableServiceLinks (default true): whether the kubelet puts the namespace's services in the environment.</summary>
    public bool EnableServiceLinks { get; init; } = true;

    /// <summary>status.podIP if IPv4, else the first IPv4 entry of status.podIPs; null when the pod has none.</summary>
    public uint? PodIP { get; init; }

    public IReadOnlyList<uint> PodIPs { get; init; } = [];

    /// <summary>The IPv6 entries of status.podIPs (a dual-stack or IPv6 pod), canonical text: listed, not used by the IPv4 data plane.</summary>
    public IReadOnlyList<string> IPv6PodIPs { get; init; } = [];

    /// <summary>status.hostIP (IPv4): the InternalIP of the pod's node, which a dump without Nodes is inferred from.</summary>
    public uint? HostIP { get; init; }

    /// <summary>Pending when status.phase is absent: that is where every pod starts.</summary>
    public PodPhase Phase { get; init; }

    /// <summary>
    /// The Ready condition is "True". An absent condition is not ready, as podutil <c>IsPodReady</c> decides,
    /// so a hand-written pod needs status.conditions to count as a ready endpoint.
    /// </summary>
    public bool Ready { get; init; }

    /// <summary>status.conditions[type=Ready] as written (true/false), null when the manifest has no Ready condition.</summary>
    public bool? ReadyCondition { get; init; }

    /// <summary>metadata.deletionTimestamp is set: the endpointslice controller marks such endpoints terminating.</summary>
    public bool Terminating { get; init; }

    /// <summary>All container ports of all containers, in order.</summary>
    public IReadOnlyList<ContainerPort> ContainerPorts { get; init; } = [];

    public IReadOnlyList<OwnerReference> OwnerReferences { get; init; } = [];
    public IReadOnlyDictionary<string, string> NodeSelector { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<Toleration> Tolerations { get; init; } = [];

    /// <summary>The value of <see cref="ReadyAnnotation"/>: false/true override <see cref="Ready"/>; null when absent.</summary>
    public bool? ReadyOverride { get; init; }

    /// <summary>Whether this pod was made by the emulated controllers and scheduler rather than read from a manifest.</summary>
    public bool Generated { get; init; }

    /// <summary>
    /// DataPlane's readiness switch on a pod or pod template: "false" makes the pod not ready (its endpoints
    /// serving=false, ready=false), "true" ready, whatever its status says.
    /// </summary>
    public const string ReadyAnnotation = "dataplane.k8s.io/ready";

    /// <summary>The controller owner ("Kind/name"), or null for a bare pod.</summary>
    public string? Owner => OwnerReferences.Where(o => o.Controller).Select(o => $"{o.Kind}/{o.Name}").FirstOrDefault()
        ?? OwnerReferences.Select(o => $"{o.Kind}/{o.Name}").FirstOrDefault();
}
