using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes;
using DataPlane.Maps;

namespace DataPlane.Kubernetes;

/// <summary>
/// Manifests → maps → one atomic publish. A load or compile that fails throws <see cref="ManifestException"/> and
/// publishes nothing, so a running data plane keeps its last good generation.
/// </summary>
public sealed class ControlPlane
{
    long _generation;

    public ControlPlane(string clusterPath, string nodeName)
    {
        ClusterPath = clusterPath;
        NodeName = nodeName;
        Holder = new MapSetHolder(Compile());
    }

    public string ClusterPath { get; }
    public string NodeName { get; }
    public MapSetHolder Holder { get; }

    /// <summary>Reloads the manifests; on error the current generation stays published and the error is rethrown.</summary>
    public MapSet Reload()
    {
        MapSet next = Compile();
        Holder.Publish(next);
        return next;
    }

    MapSet Compile() => ClusterCompiler.Compile(ManifestLoader.Load(ClusterPath), NodeName, Interlocked.Increment(ref _generation));

    public static MapSet LoadAndCompile(string clusterPath, string nodeName, CompileOptions? options = null) =>
        ClusterCompiler.Compile(ManifestLoader.Load(clusterPath), nodeName, options ?? new CompileOptions());
}
