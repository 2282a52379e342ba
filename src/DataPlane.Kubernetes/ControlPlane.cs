using DataPlane.Kubernetes.Compiler;
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
    ClusterManifests _manifests = new();
    readonly List<ClusterManifests> _pending = []; // changes published incrementally, not yet folded into _manifests
    EndpointChangeCompiler? _incremental;
    long _generation;

    public ControlPlane(string clusterPath, string nodeName, CompileOptions? options = null)
    {
        ClusterPath = clusterPath;
        NodeName = nodeName;
        _options = (options ?? new CompileOptions()) with { Ids = _ids };
        Holder = new MapSetHolder(Compile(ManifestLoader.Load(clusterPath)));
    }

    /// <summary>Where the manifests were last loaded from successfully.</summary>
    public string ClusterPath { get; private set; }
    public string NodeName { get; }
    public MapSetHolder Holder { get; }

    /// <summary>The objects the current generation was compiled from (changes published incrementally folded in).</summary>
    public ClusterManifests Manifests
    {
        get
        {
            lock (_lock)
            {
                ClusterManifests current = _manifests;
                foreach (ClusterManifests o in _pending) current = current.Apply(o);
                return current;
            }
        }
    }

    /// <summary>
    /// Reloads the manifests (from <paramref name="clusterPath"/>, or the last path); on error the current generation
    /// stays published and the error is rethrown.
    /// </summary>
    public MapSet Reload(string? clusterPath = null)
    {
        lock (_lock)
        {
            string path = clusterPath ?? ClusterPath;
            MapSet next = Compile(ManifestLoader.Load(path));
            _pending.Clear();
            Holder.Publish(next);
            ClusterPath = path;
            return next;
        }
    }

    /// <summary>
    /// <c>kubectl apply -f <paramref name="path"/></c> on the current state (objects replaced by kind and key, new ones
    /// added), then compile and publish; on error nothing changes and the error is rethrown.
    /// </summary>
    public MapSet Apply(string path) => Apply(ManifestLoader.Load(path));

    /// <summary>
    /// <see cref="Apply(string)"/> for objects already decoded (what a watch delivers). EndpointSlice changes of
    /// slice-managed services are published as a delta over the last full generation (<see cref="EndpointChangeCompiler"/>,
    /// cost proportional to the change); anything else recompiles everything.
    /// </summary>
    public MapSet Apply(ClusterManifests overlay)
    {
        lock (_lock)
        {
            MapSet? next = _incremental?.TryApply(overlay, _generation + 1);
            if (next is not null)
            {
                _generation++;
                _pending.Add(overlay);
                Holder.Publish(next);
                return next;
            }
            _incremental = null; // a declined change may have left it half-updated; the full compile makes a new one
            ClusterManifests current = _manifests;
            foreach (ClusterManifests o in _pending) current = current.Apply(o);
            next = Compile(current.Apply(overlay));
            _pending.Clear();
            Holder.Publish(next);
            return next;
        }
    }

    MapSet Compile(ClusterManifests manifests)
    {
        // The generation number and the state only advance on success: a failed reload changes nothing.
        MapSet m = ClusterCompiler.Compile(manifests, NodeName, _options, _generation + 1);
        _generation++;
        _manifests = manifests;
        _incremental = new EndpointChangeCompiler(manifests, m, _ids, NodeName);
        return m;
    }

    public static MapSet LoadAndCompile(string clusterPath, string nodeName, CompileOptions? options = null) =>
        ClusterCompiler.Compile(ManifestLoader.Load(clusterPath), nodeName, options ?? new CompileOptions());
}
