namespace DataPlane.Kubernetes.Compiler;

/// <summary>Settings of a compile that do not come from the manifests (the API server's and the CLI's flags).</summary>
public sealed record CompileOptions
{
    /// <summary>--service-node-port-range, 30000-32767 by default as in kube-apiserver.</summary>
    public int NodePortMin { get; init; } = Allocator.DefaultNodePortMin;
    public int NodePortMax { get; init; } = Allocator.DefaultNodePortMax;
    /// <summary>Where the endpoints controller's warnings go (e.g. a pod on a node that is not in the manifests).</summary>
    public Action<string>? Warn { get; init; }
}
