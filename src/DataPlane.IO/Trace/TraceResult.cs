using DataPlane.Kubernetes.Compiler;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.IO.Trace;

/// <summary>
/// What one traced packet did: the final verdict and result, and the stage log each stage recorded on the way. Like
/// kube-proxy's flow tests, <see cref="Candidates"/> is every endpoint a new connection could go to; <see cref="Backend"/>
/// is the one this packet went to.
/// </summary>
public sealed record TraceResult(TraceRequest Req, Verdict Verdict, PacketResult R, MapSet Maps, string[] Candidates)
{
    public string? Service => Maps.ServiceName(R.RevNatIndex);
    public string? Backend => Verdict == Verdict.Forward && R.RevNatIndex != 0 ? Ip4.Format(R.Backend.Address, R.Backend.Port) : null;
    public bool Masquerade => Verdict == Verdict.Forward && R.Masqueraded;

    /// <summary>The compile's topology decision for this packet's service port, when hints played a part.</summary>
    public TopologyDecision? Topology { get; init; }

    /// <summary>What each stage recorded for this packet.</summary>
    public StageRecord[] Log { get; init; } = [];

    /// <summary>The node whose data plane ran the packet and why that one, when trace chose it (no --node); else null.</summary>
    public string? Node { get; init; }

    /// <summary>How a destination name resolved to the address traced (null when an address was given).</summary>
    public string? Resolved { get; init; }

    /// <summary>The explanation (null without an explainer).</summary>
    public string? Why { get; init; }
}
