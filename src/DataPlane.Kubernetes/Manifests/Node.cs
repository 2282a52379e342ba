using DataPlane.Packets;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>A v1 Node (cluster-scoped).</summary>
public sealed record Node : ManifestObject
{
    public IReadOnlyList<NodeAddress> Addresses { get; init; } = [];

    /// <summary>The IPv4 InternalIP addresses, in order; the first one is the node's primary IP for kube-proxy.</summary>
    public IReadOnlyList<uint> InternalIPs => Addresses.Where(a => a.Type == NodeAddressType.InternalIP && a.IP is not null).Select(a => a.IP!.Value).ToArray();

    /// <summary>The IPv4 ExternalIP addresses, in order.</summary>
    public IReadOnlyList<uint> ExternalIPs => Addresses.Where(a => a.Type == NodeAddressType.ExternalIP && a.IP is not null).Select(a => a.IP!.Value).ToArray();

    /// <summary>spec.podCIDR if IPv4, else the first IPv4 entry of spec.podCIDRs.</summary>
    public Cidr4? PodCIDR { get; init; }

    public IReadOnlyList<Cidr4> PodCIDRs { get; init; } = [];

    /// <summary>The IPv6 entries of spec.podCIDRs (a dual-stack node): listed, not used by the IPv4 data plane.</summary>
    public IReadOnlyList<Cidr6> IPv6PodCIDRs { get; init; } = [];

    /// <summary>
    /// metadata.labels with the kubelet's well-known ones (<c>kubernetes.io/hostname</c>, <c>kubernetes.io/os</c>,
    /// <c>kubernetes.io/arch</c>) filled in when a hand-written Node lacks them, so a chart's
    /// <c>nodeSelector: {kubernetes.io/os: linux}</c> schedules as on a real cluster.
    /// </summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>spec.unschedulable (kubectl cordon): the scheduler places no new pod here; DaemonSets still do.</summary>
    public bool Unschedulable { get; init; }

    public IReadOnlyList<Taint> Taints { get; init; } = [];

    /// <summary>Whether this node is the emulated default topology's or inferred from pods, not read from a manifest.</summary>
    public bool Generated { get; init; }

    /// <summary>The <c>topology.kubernetes.io/zone</c> label (v1.LabelTopologyZone), or null when absent or empty.</summary>
    public string? Zone => Labels.TryGetValue(ZoneLabel, out string? z) && z.Length > 0 ? z : null;

    /// <summary>status.allocatable.cpu in millicores (resource.Quantity MilliValue, rounded up); null when absent.</summary>
    public long? AllocatableMilliCpu { get; init; }

    /// <summary>
    /// The Ready condition: true/false when status.conditions names it, null when the manifest has no Ready condition
    /// (hand-written manifests usually omit status.conditions; DataPlane treats such a node as ready).
    /// </summary>
    public bool? Ready { get; init; }

    public const string ZoneLabel = "topology.kubernetes.io/zone";
}
