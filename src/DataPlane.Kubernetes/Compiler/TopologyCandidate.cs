namespace DataPlane.Kubernetes.Compiler;

/// <summary>One ready endpoint of a service port as the topology filter sees it: its backend id and its hints.</summary>
public readonly record struct TopologyCandidate(uint Id, uint Address, ushort Port, IReadOnlyList<string> ForZones, IReadOnlyList<string> ForNodes);
