namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// Collects the topology decisions of one compile (pass it in <see cref="CompileOptions.Topology"/>): one per service
/// port whose endpoints carry hints or whose service asks for topology-aware routing. Filled by the compile thread only.
/// </summary>
public sealed class TopologyReport
{
    readonly Dictionary<string, TopologyDecision> _byPort = new(StringComparer.Ordinal);
    readonly List<TopologyDecision> _all = [];

    public IReadOnlyList<TopologyDecision> Decisions => _all;

    /// <summary>The decision for "namespace/name:port", or null when topology played no part.</summary>
    public TopologyDecision? For(string? servicePort) => servicePort is not null && _byPort.TryGetValue(servicePort, out var d) ? d : null;

    internal void Add(TopologyDecision d)
    {
        if (_byPort.TryAdd(d.ServicePort, d)) _all.Add(d);
    }
}
