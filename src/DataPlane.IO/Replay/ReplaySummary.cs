using DataPlane.IO.Pcap;
using DataPlane.Pipeline;

namespace DataPlane.IO.Replay;

/// <summary>What a replay did, for the CLI's summary and for tests.</summary>
public sealed class ReplaySummary
{
    public long Frames { get; set; }
    public long Emitted { get; set; }
    /// <summary>Frames per verdict: the workers' <see cref="Counters"/> and the frames the link layer decided, summed.</summary>
    public Dictionary<Verdict, long> ByVerdict { get; } = [];
    /// <summary>Frames per drop reason, from the same counters (outgoing copies are <see cref="OutgoingCopies"/>).</summary>
    public Dictionary<DropReason, long> ByReason { get; } = [];
    public FlowReport Flows { get; } = new();
    public TimeSpan PipelineTime { get; set; }
    public TimeSpan TotalTime { get; set; }
    /// <summary>Timestamp of the last frame: the clock at which the conntrack table is listed after a replay.</summary>
    public long LastTimestampNs { get; set; }
    /// <summary>One line per scheduled configuration change: when it applied and what came of it.</summary>
    public List<string> Updates { get; } = [];
    /// <summary>Linux cooked capture frames the node itself sent (PACKET_OUTGOING): verdict pass, never translated.</summary>
    public long OutgoingCopies { get; set; }
    /// <summary>Frames dropped because their link type is not understood, by link type.</summary>
    public Dictionary<LinkType, long> UnsupportedLinkTypes { get; } = [];
    /// <summary>
    /// Frames not forwarded whose source is a service frontend (address, port, protocol): replies as a client sees
    /// them, after reverse NAT, so the capture was taken on the client side of the data plane.
    /// </summary>
    public long FromServiceAddress { get; set; }
    /// <summary>The first such frame's source, "proto ip:port", for the summary.</summary>
    public string? FirstServiceSource { get; set; }

    /// <summary>
    /// Fills <see cref="ByVerdict"/>, <see cref="ByReason"/> and <see cref="OutgoingCopies"/> from counters indexed by
    /// verdict and by drop reason (<see cref="Counters.Snapshot"/>'s layout): every frame counted once, where its verdict
    /// was decided.
    /// </summary>
    public void SetVerdicts(ReadOnlySpan<long> verdicts, ReadOnlySpan<long> reasons)
    {
        for (int i = 0; i < Counters.VerdictSlots; i++)
            if (verdicts[i] > 0) ByVerdict[(Verdict)i] = verdicts[i];
        for (int i = 1; i < Counters.ReasonSlots; i++)
        {
            if (reasons[i] <= 0) continue;
            if ((DropReason)i == DropReason.OutgoingCopy) OutgoingCopies = reasons[i];
            else ByReason[(DropReason)i] = reasons[i];
        }
    }
}
