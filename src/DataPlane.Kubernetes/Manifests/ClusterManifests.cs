using DataPlane.Packets;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>Everything loaded from a manifest file or folder. Lists keep load order: files by ordinal path, then documents, then List items.</summary>
public sealed class ClusterManifests
{
    /// <summary>The kube-apiserver default --service-cluster-ip-range, used when no ServiceCIDR gives an IPv4 range.</summary>
    public static readonly Cidr4 DefaultServiceCidr = new(0x0A600000, 12); // 10.96.0.0/12

    public IReadOnlyList<Service> Services { get; init; } = [];
    public IReadOnlyList<EndpointSlice> EndpointSlices { get; init; } = [];
    public IReadOnlyList<Endpoints> Endpoints { get; init; } = [];
    public IReadOnlyList<Pod> Pods { get; init; } = [];
    public IReadOnlyList<Node> Nodes { get; init; } = [];
    public IReadOnlyList<ServiceCidr> ServiceCidrs { get; init; } = [];

    /// <summary>Deployments, ReplicaSets, ReplicationControllers, StatefulSets and DaemonSets, in load order.</summary>
    public IReadOnlyList<Workload> Workloads { get; init; } = [];

    /// <summary>The KubeProxyConfiguration found, or <see cref="KubeProxyConfig.Default"/>.</summary>
    public KubeProxyConfig ProxyConfig { get; init; } = KubeProxyConfig.Default;

    /// <summary>The files read, in load order.</summary>
    public IReadOnlyList<string> Files { get; init; } = [];

    /// <summary>
    /// The namespaces that exist: the four every cluster has (default, kube-system, kube-public, kube-node-lease),
    /// then Namespace objects and every namespace an object names, in load order.
    /// </summary>
    public IReadOnlyList<string> Namespaces
    {
        get => _namespaces ??= [.. BuiltInNamespaces];
        init => _namespaces = [.. BuiltInNamespaces.Concat(value).Distinct(StringComparer.Ordinal)];
    }

    IReadOnlyList<string>? _namespaces;

    /// <summary>The namespaces the API server creates itself.</summary>
    public static readonly string[] BuiltInNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"];

    /// <summary>--service-cidr: the service ranges to use when no ServiceCIDR object gives one.</summary>
    public IReadOnlyList<Cidr4> ServiceCidrFlag { get; init; } = [];

    /// <summary>--service-cidr's IPv6 range, when one was given.</summary>
    public IReadOnlyList<Cidr6> ServiceCidrFlag6 { get; init; } = [];

    /// <summary>The family of the first --service-cidr (the cluster's primary family when the flag decides).</summary>
    public IPFamily ServiceCidrFlagPrimary { get; init; }

    /// <summary>
    /// What the loader chose to tell the user once (skipped kinds, unknown fields, IPv6 halves not emulated, ipvs run
    /// as iptables), one line each, without the "warning:" prefix. Not an error: the objects loaded.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>The service IP ranges in force (see <see cref="ServiceCidrInference"/>).</summary>
    public IReadOnlyList<Cidr4> ServiceClusterIPRanges => ServiceCidrsInForce.Ranges;

    /// <summary>The IPv6 service ranges in force; empty on an IPv4 single-stack cluster.</summary>
    public IReadOnlyList<Cidr6> ServiceClusterIPRanges6 => ServiceCidrsInForce.Ranges6;

    /// <summary>The service IP ranges in force and where they came from, e.g. "inferred from default/kubernetes (10.43.0.1)".</summary>
    public ServiceCidrInference ServiceCidrsInForce => _serviceCidrs ??= ServiceCidrInference.For(this);

    ServiceCidrInference? _serviceCidrs;

    bool HasServiceCidrFlag => ServiceCidrFlag.Count > 0 || ServiceCidrFlag6.Count > 0;

    /// <summary>
    /// <c>kubectl apply</c> of <paramref name="overlay"/> on this state: an object of the same kind and key replaces the
    /// existing one, a new one is added; objects the overlay does not name are kept. A KubeProxyConfiguration in the
    /// overlay replaces the current one (kube-proxy restarts with a new config file).
    /// </summary>
    public ClusterManifests Apply(ClusterManifests overlay) => ApplyAll([overlay]);

    /// <summary>
    /// <see cref="Apply"/> of each of <paramref name="overlays"/> in turn, in one pass: the same objects in the same order
    /// (this state's in place, replaced by the last overlay holding each; then new ones in order of first appearance),
    /// but each list is copied once rather than once per overlay. The control plane folds every endpoint change since
    /// its last full compile (up to thousands) before recompiling; applied one by one, each fold copied the whole cluster.
    /// </summary>
    public ClusterManifests ApplyAll(IReadOnlyList<ClusterManifests> overlays)
    {
        if (overlays.Count == 0) return this;
        ClusterManifests? proxy = null;
        foreach (ClusterManifests o in overlays)
            if (o.HasProxyConfig) proxy = o;
        // Apply keeps the first state that has --service-cidr values; with none, each overlay's (empty) ones in turn.
        ClusterManifests flags = HasServiceCidrFlag ? this : overlays.FirstOrDefault(o => o.HasServiceCidrFlag) ?? overlays[^1];
        var files = new List<string>(Files);
        var seen = new HashSet<string>(Files);
        foreach (ClusterManifests o in overlays)
            foreach (string f in o.Files)
                if (seen.Add(f)) files.Add(f);
        return new()
        {
            Services = MergeAll(Services, overlays, o => o.Services, o => o.Key),
            EndpointSlices = MergeAll(EndpointSlices, overlays, o => o.EndpointSlices, o => o.Key),
            Endpoints = MergeAll(Endpoints, overlays, o => o.Endpoints, o => o.Key),
            Pods = MergeAll(Pods, overlays, o => o.Pods, o => o.Key),
            Nodes = MergeAll(Nodes, overlays, o => o.Nodes, o => o.Key),
            ServiceCidrs = MergeAll(ServiceCidrs, overlays, o => o.ServiceCidrs, o => o.Key),
            Workloads = MergeAll(Workloads, overlays, o => o.Workloads, o => (o.Kind, o.Key)),
            ProxyConfig = proxy is null ? ProxyConfig : proxy.ProxyConfig,
            HasProxyConfig = HasProxyConfig || proxy is not null,
            Namespaces = [.. Namespaces, .. overlays.SelectMany(o => o.Namespaces)],
            ServiceCidrFlag = flags.ServiceCidrFlag,
            ServiceCidrFlag6 = flags.ServiceCidrFlag6,
            ServiceCidrFlagPrimary = flags.ServiceCidrFlagPrimary,
            Files = [.. files],
        };
    }

    static T[] MergeAll<T, TKey>(IReadOnlyList<T> current, IReadOnlyList<ClusterManifests> overlays, Func<ClusterManifests, IReadOnlyList<T>> list, Func<T, TKey> key)
        where TKey : notnull
    {
        var latest = new Dictionary<TKey, T>();
        var added = new List<TKey>(); // keys not in current, in order of first appearance
        var inCurrent = new HashSet<TKey>(current.Select(key));
        foreach (ClusterManifests o in overlays)
            foreach (T item in list(o))
            {
                TKey k = key(item);
                if (!latest.ContainsKey(k) && !inCurrent.Contains(k)) added.Add(k);
                latest[k] = item;
            }
        if (latest.Count == 0) return [.. current];
        var merged = new List<T>(current.Count + added.Count);
        foreach (T item in current) merged.Add(latest.TryGetValue(key(item), out T? replacement) ? replacement : item);
        foreach (TKey k in added) merged.Add(latest[k]);
        return [.. merged];
    }

    /// <summary>
    /// Whether the workloads have been turned into pods, the nodes and LoadBalancer addresses filled in
    /// (<see cref="Compiler.WorkloadExpander"/>); <see cref="Apply"/> gives an unexpanded state again.
    /// </summary>
    public bool Expanded { get; init; }

    /// <summary>
    /// Pods the controllers would make but the cluster has no room for, counted and not made (each workload lists its
    /// first such pod as Pending; see <see cref="Compiler.WorkloadExpander"/>). Zero before expansion.
    /// </summary>
    public long UnlistedPendingPods { get; init; }

    /// <summary>Whether a KubeProxyConfiguration was read (rather than <see cref="KubeProxyConfig.Default"/> assumed).</summary>
    public bool HasProxyConfig { get; init; }

}
