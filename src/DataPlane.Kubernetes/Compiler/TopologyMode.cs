namespace DataPlane.Kubernetes.Compiler;

/// <summary>Which hint kind narrowed a service port's cluster-scope endpoints on this node (kube-proxy's topologyMode).</summary>
public enum TopologyMode
{
    /// <summary>No narrowing: every ready endpoint (kube-proxy's "").</summary>
    None,
    /// <summary>Only endpoints whose hints.forNodes names this node.</summary>
    PreferSameNode,
    /// <summary>Only endpoints whose hints.forZones names this node's zone.</summary>
    PreferSameZone,
}
