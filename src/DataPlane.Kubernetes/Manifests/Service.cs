using DataPlane.Packets;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>
/// A v1 Service as written. The data plane reads its IPv4 view (<see cref="ClusterIP"/>, <see cref="ClusterIPs"/>); the
/// family fields (<see cref="IPFamilyPolicy"/>, <see cref="IPFamilies"/>, <see cref="WrittenClusterIPs"/>) are kept for
/// the API server's rules, which the allocator applies once the cluster's service ranges are known
/// (<see cref="Compiler.ServiceFamilyRules"/>). Other IPv6 addresses (externalIPs, ingress, source ranges) are dropped.
/// </summary>
public sealed record Service : ManifestObject
{
    public ServiceType Type { get; init; }
    public ClusterIPMode ClusterIPMode { get; init; }

    /// <summary>The IPv4 cluster IP when <see cref="ClusterIPMode"/> is Assigned (from clusterIP or clusterIPs), else null.</summary>
    public uint? ClusterIP { get; init; }

    /// <summary>The IPv4 entries of spec.clusterIPs (clusterIP folded in), in order.</summary>
    public IReadOnlyList<uint> ClusterIPs { get; init; } = [];

    /// <summary>
    /// spec.clusterIPs (clusterIP folded in) of both families, in the order written; empty when none is written, for a
    /// headless service ("None") and for ExternalName.
    /// </summary>
    public IReadOnlyList<ServiceIP> WrittenClusterIPs { get; init; } = [];

    /// <summary>spec.ipFamilyPolicy as written; null when unset (the API server then defaults it, see <see cref="IPFamilyPolicy"/>).</summary>
    public IPFamilyPolicy? IPFamilyPolicy { get; init; }

    /// <summary>spec.ipFamilies as written (validated: known names, no duplicate); the API server fills in the rest.</summary>
    public IReadOnlyList<IPFamily> IPFamilies { get; init; } = [];

    public IReadOnlyList<ServicePort> Ports { get; init; } = [];

    /// <summary>
    /// Null means "no selector": the endpoints controller leaves the service's EndpointSlices to someone else.
    /// An empty map is also null: it does not survive the API server's protobuf storage, and the controllers test
    /// for nil (endpointslice controller <c>syncService</c>).
    /// </summary>
    public IReadOnlyDictionary<string, string>? Selector { get; init; }

    public IReadOnlyList<uint> ExternalIPs { get; init; } = [];

    /// <summary>status.loadBalancer.ingress entries with an IPv4 address, in order.</summary>
    public IReadOnlyList<LoadBalancerIngress> LoadBalancerIngress { get; init; } = [];

    /// <summary>spec.loadBalancerIP (deprecated but honoured by MetalLB and most cloud providers), IPv4, or null.</summary>
    public uint? LoadBalancerIP { get; init; }

    /// <summary>Parsed the tolerant kube-proxy way (trimmed, leading zeros allowed), host bits cleared.</summary>
    public IReadOnlyList<Cidr4> LoadBalancerSourceRanges { get; init; } = [];

    public TrafficPolicy ExternalTrafficPolicy { get; init; }
    public TrafficPolicy InternalTrafficPolicy { get; init; }
    public SessionAffinity SessionAffinity { get; init; }

    /// <summary>Seconds; 10800 unless set (<c>DefaultClientIPServiceAffinitySeconds</c>). Meaningful only with ClientIP affinity.</summary>
    public int SessionAffinityTimeoutSeconds { get; init; } = DefaultAffinityTimeoutSeconds;

    /// <summary>
    /// As written, or null. kube-proxy serves it only for LoadBalancer + externalTrafficPolicy Local
    /// (<c>TestBuildServiceMapAddRemove</c>), so the compiler must check that, not the loader.
    /// </summary>
    public int? HealthCheckNodePort { get; init; }

    /// <summary>Default true; false asks the allocator not to give a LoadBalancer service node ports.</summary>
    public bool AllocateLoadBalancerNodePorts { get; init; } = true;

    public bool PublishNotReadyAddresses { get; init; }
    public string? ExternalName { get; init; }

    /// <summary>
    /// The annotation <c>service.cilium.io/lb-algorithm</c> (cilium's per-service override of
    /// loadBalancer.algorithm): "random" or "maglev"; null when absent.
    /// </summary>
    public LoadBalancerAlgorithm? LoadBalancerAlgorithm { get; init; }

    /// <summary>spec.trafficDistribution as written (PreferClose, PreferSameZone, PreferSameNode; others are kept and ignored), or null.</summary>
    public string? TrafficDistribution { get; init; }

    /// <summary>
    /// The annotation <c>service.kubernetes.io/topology-aware-hints</c> (deprecated, but it has precedence), else
    /// <c>service.kubernetes.io/topology-mode</c>; null when neither is set.
    /// </summary>
    public string? TopologyMode { get; init; }

    public const string TopologyModeAnnotation = "service.kubernetes.io/topology-mode";
    public const string TopologyAwareHintsAnnotation = "service.kubernetes.io/topology-aware-hints";

    /// <summary>The manifest gives the service IPv6 cluster IPs (dual-stack or IPv6-only); the data plane does not emulate those yet.</summary>
    public bool HasIPv6 => WrittenClusterIPs.Any(ip => !ip.IsIPv4);

    /// <summary>
    /// Not read from a manifest: a Service every cluster has (<c>default/kubernetes</c>, <c>kube-system/kube-dns</c>)
    /// that DataPlane adds because the manifests do not bring it (<see cref="Compiler.EmulatedServices"/>).
    /// </summary>
    public bool Emulated { get; init; }

    public const string LoadBalancerAlgorithmAnnotation = "service.cilium.io/lb-algorithm";

    public const int DefaultAffinityTimeoutSeconds = 10800;
}
