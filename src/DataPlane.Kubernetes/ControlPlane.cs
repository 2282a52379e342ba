using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Maps;

namespace DataPlane.Kubernetes;

/// <summary>
/// Manifests → maps → one atomic publish. A load or compile that fails throws <see cref="ManifestException"/> and
/// publishes nothing, so a running data plane keeps its last good generation.
/// <para>
/// It owns the <see cref="IdRegistry"/> across reloads, as cilium's agent owns its service and backend ids: a service
/// port or backend that survives a reload keeps its id, so the conntrack entries and affinity memory holding it stay
/// right. Concurrency: one thread reloads at a time (calls are serialised here); packet workers only read the holder.
/// </para>
/// </summary>
public sealed class ControlPlane
{
    readonly Lock _lock = new();
    readonly IdRegistry _ids = new();
    readonly CompileOptions _options;
    readonly LoadOptions _load;
    ClusterManifests _manifests = new();
    readonly List<ClusterManifests> _pending = []; // changes published incrementally, not yet folded into _manifests
    EndpointChangeCompiler? _incremental;
    long _generation;

    public ControlPlane(string clusterPath, string? nodeName, CompileOptions? options = null)
        : this([clusterPath], null, nodeName, options) { }

    /// <summary>
    /// Loads <paramref name="clusterPaths"/> (files, folders, "-" for <see cref="LoadOptions.Stdin"/>) and publishes the
    /// first generation. The loader's warnings go to <see cref="CompileOptions.Warn"/>.
    /// </summary>
    /// <param name="nodeName">The node to emulate; null: the first node of the cluster (<see cref="DefaultTopology"/>).</param>
    public ControlPlane(IReadOnlyList<string> clusterPaths, LoadOptions? load, string? nodeName, CompileOptions? options = null)
    {
        ClusterPaths = [.. clusterPaths];
        _load = load ?? new LoadOptions();
        _options = (options ?? new CompileOptions()) with { Ids = _ids };
        ClusterManifests manifests = Load(ClusterPaths, _load, _options.Warn);
        NodeName = nodeName ?? Boundary(() => FirstNode(manifests));
        Holder = new MapSetHolder(Boundary(() => Compile(manifests)));
    }

    /// <summary>The node <c>--node</c> defaults to: the first Node of the manifests, else of the emulated topology.</summary>
    public static string FirstNode(ClusterManifests m) => DefaultTopology.NodesFor(m)[0].Name;

    /// <summary>Where the manifests were last loaded from successfully, joined with spaces (for messages).</summary>
    public string ClusterPath => string.Join(" ", ClusterPaths);

    /// <summary>Where the manifests were last loaded from successfully.</summary>
    public IReadOnlyList<string> ClusterPaths { get; private set; }

    /// <summary>The manifests of the last full compile (changes applied incrementally since are not folded in).</summary>
    public ClusterManifests Manifests => _manifests;
    public string NodeName { get; }
    public MapSetHolder Holder { get; }

    /// <summary>The objects the current generation was compiled from: <see cref="Manifests"/> with the changes published incrementally since folded in.</summary>
    public ClusterManifests CurrentManifests
    {
        get
        {
            lock (_lock)
            {
                return _manifests.ApplyAll(_pending);
            }
        }
    }

    /// <summary>
    /// Reloads the manifests (from <paramref name="clusterPath"/>, or the last path); on error the current generation
    /// stays published and the error is rethrown. <paramref name="cancel"/> abandons it cooperatively (checked between
    /// loading and compiling and in every loop of the compile): <see cref="OperationCanceledException"/>, nothing
    /// published, the running generation and ids untouched.
    /// </summary>
    public MapSet Reload(string? clusterPath = null, CancellationToken cancel = default)
    {
        lock (_lock)
        {
            IReadOnlyList<string> paths = clusterPath is null ? ClusterPaths : [clusterPath];
            MapSet next = Boundary(() =>
            {
                ClusterManifests loaded = Load(paths, _load, _options.Warn);
                cancel.ThrowIfCancellationRequested();
                return Compile(loaded, cancel);
            }, cancel);
            _pending.Clear();
            Holder.Publish(next);
            ClusterPaths = paths;
            return next;
        }
    }

    /// <summary>
    /// <c>kubectl apply -f <paramref name="path"/></c> on the current state (objects replaced by kind and key, new ones
    /// added), then compile and publish; on error nothing changes and the error is rethrown.
    /// </summary>
    public MapSet Apply(string path, CancellationToken cancel = default) =>
        Apply(Boundary(() => Load([path], _load with { ServiceCidrs = [] }, _options.Warn)), cancel);

    /// <summary>
    /// <see cref="Apply(string)"/> for objects already decoded (what a watch delivers). EndpointSlice changes of
    /// slice-managed services are published as a delta over the last full generation (<see cref="EndpointChangeCompiler"/>,
    /// cost proportional to the change); anything else recompiles everything.
    /// </summary>
    public MapSet Apply(ClusterManifests overlay, CancellationToken cancel = default)
    {
        lock (_lock)
        {
            MapSet? next = Boundary(() => _incremental?.TryApply(overlay, _generation + 1));
            // A delta carries the base generation's DNS zone: when the data plane would answer DNS with it, endpoint
            // changes (headless A records, endpoint names, PTRs) need the full compile, which recompiles the zone too.
            if (next is not null && AnswersDns(next)) next = null;
            if (next is not null)
            {
                _generation++;
                _pending.Add(overlay);
                Holder.Publish(next);
                return next;
            }
            _incremental = null; // a declined change may have left it half-updated; the full compile makes a new one
            // Every change published as a delta since the last full compile, and this one, folded in one pass.
            ClusterManifests current = _manifests.ApplyAll([.. _pending, overlay]);
            next = Boundary(() => Compile(current, cancel), cancel);
            _pending.Clear();
            Holder.Publish(next);
            return next;
        }
    }

    /// <summary>Whether <paramref name="m"/>'s DNS stage answers: always, or (auto) while the DNS service's port 53 has no endpoint.</summary>
    static bool AnswersDns(MapSet m) => m.Dns is { } z && (z.Mode == Dns.DnsMode.Answer || z.Mode == Dns.DnsMode.Auto
        && !(HasBackends(m, z.Address, Packets.IpProto.Udp) && HasBackends(m, z.Address, Packets.IpProto.Tcp)));

    static bool HasBackends(MapSet m, uint address, byte proto)
    {
        ref Lb4Service s = ref m.Frontend(new Lb4Key(address, 53, proto));
        return !System.Runtime.CompilerServices.Unsafe.IsNullRef(ref s) && s.Count > 0;
    }

    MapSet Compile(ClusterManifests manifests, CancellationToken cancel = default)
    {
        // The generation number and the state only advance on success: a failed or abandoned reload changes nothing.
        ResolvedCluster resolved = ResolvedCluster.Resolve(manifests, _options, _generation + 1, cancel);
        MapSet m = ClusterCompiler.Compile(resolved, NodeName, _options.Topology, cancel);
        _generation++;
        _manifests = manifests;
        _resolved = resolved;
        _incremental = new EndpointChangeCompiler(manifests, m, _ids, NodeName);
        return m;
    }

    ResolvedCluster? _resolved;

    /// <summary>
    /// The resolved cluster of the generation in force: the one the last full compile read, or — after changes
    /// published as deltas — the same manifests with those changes folded in, resolved once on first request.
    /// </summary>
    public ResolvedCluster Resolved
    {
        get
        {
            lock (_lock)
            {
                if (_pending.Count > 0 && (_resolved is null || _resolved.Generation != _generation))
                    _resolved = Boundary(() => ResolvedCluster.Resolve(CurrentManifests, _options with { Warn = null }, _generation));
                return _resolved!;
            }
        }
    }

    /// <summary>Resolves loaded manifests once, behind the control plane's exception boundary (the CLI's one-off views).</summary>
    public static ResolvedCluster Resolve(ClusterManifests manifests, CompileOptions? options = null) =>
        Boundary(() => ResolvedCluster.Resolve(manifests, options));

    public static MapSet LoadAndCompile(string clusterPath, string? nodeName, CompileOptions? options = null)
    {
        ClusterManifests m = Load([clusterPath], null, options?.Warn);
        return Compile(m, nodeName ?? Boundary(() => FirstNode(m)), options);
    }

    /// <summary>A one-off compile of loaded manifests, behind the control plane's exception boundary.</summary>
    public static MapSet Compile(ClusterManifests manifests, string? nodeName, CompileOptions? options = null) =>
        Boundary(() => ClusterCompiler.Compile(manifests, nodeName ?? FirstNode(manifests), options ?? new CompileOptions()));

    /// <summary>Loads manifests and hands the loader's warnings to <paramref name="warn"/>, behind the exception boundary.</summary>
    public static ClusterManifests Load(IReadOnlyList<string> paths, LoadOptions? load, Action<string>? warn)
    {
        ClusterManifests m = Boundary(() => ManifestLoader.Load(paths, load));
        foreach (string w in m.Warnings) warn?.Invoke(w);
        return m;
    }

    /// <summary>
    /// The control plane's one exception boundary: loading and compiling let out only <see cref="ManifestException"/>
    /// (one line naming file, object and field), so a caller that keeps the last good generation on that exception is
    /// never killed by a bug or a limit it did not foresee.
    /// </summary>
    public static T Boundary<T>(Func<T> action) => Boundary(action, CancellationToken.None);

    /// <summary>
    /// <see cref="Boundary{T}(Func{T})"/> for work the caller can abandon: an <see cref="OperationCanceledException"/>
    /// while <paramref name="cancel"/> is cancelled is no failure of the manifests but the caller giving up (a newer
    /// reload, SIGTERM), and goes out as it is; any other (a cancellation nobody asked for included) is wrapped.
    /// </summary>
    public static T Boundary<T>(Func<T> action, CancellationToken cancel)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is not ManifestException && !(e is OperationCanceledException && cancel.IsCancellationRequested) && !Fatal.Is(e))
        {
            throw new ManifestException("manifests", null, null, $"internal error while loading or compiling them ({e.GetType().Name}: {e.Message})", e);
        }
    }
}
