using DataPlane.Packets;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// What the topology filter decided for one service port on the compiled node, with the facts behind it, for
/// <c>trace</c> and <c>maps</c>. <see cref="NodeSubset"/> / <see cref="ZoneSubset"/> are the ready endpoints hinted for
/// this node / this node's zone ("ip:port"), whether or not that hint kind was usable.
/// </summary>
public sealed record TopologyDecision(
    string ServicePort,
    string NodeName,
    string? Zone,
    TopologyMode Mode,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<string> NodeSubset,
    IReadOnlyList<string> ZoneSubset,
    int ReadyCount,
    bool AnyHints)
{
    /// <summary>One line: which hint kind narrowed the endpoints, or why none did.</summary>
    public string Summary => Mode switch
    {
        TopologyMode.PreferSameNode => $"narrowed by node hints to {NodeSubset.Count} of {ReadyCount} ready endpoints (hinted for node {NodeName})",
        TopologyMode.PreferSameZone => $"narrowed by zone hints to {ZoneSubset.Count} of {ReadyCount} ready endpoints (hinted for zone {Zone})",
        _ => "not narrowed: every ready endpoint is used",
    };

    internal static string Format(TopologyCandidate c) => Ip4.Format(c.Address, c.Port);
}
