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
    /// <summary>
    /// Dropped frames per reason, from the same counters: the reasons of <see cref="RejectReasons"/> and the outgoing
    /// copies (<see cref="OutgoingCopies"/>) are counted there instead.
    /// </summary>
    public Dictionary<DropReason, long> ByReason { get; } = [];
    /// <summary>
    /// Rejected frames that carry a reason, per reason (a TTL that ran out is answered with time exceeded, verdict
    /// reject, reason ttl-exceeded): counted frame by frame as the results are written, since the workers' counters
    /// count a reason whatever the verdict.
    /// </summary>
    public Dictionary<DropReason, long> RejectReasons { get; } = [];
    public FlowReport Flows { get; } = new();
    public TimeSpan PipelineTime { get; set; }
    public TimeSpan TotalTime { get; set; }
    /// <summary>Timestamp of the last frame: the clock at which the conntrack table is listed after a replay.</summary>
    public long LastTimestampNs { get; set; }
    /// <summary>One line per scheduled configuration change: when it applied and what came of it.</summary>
    public List<string> Updates { get; } = [];
    /// <summary>Linux cooked capture frames the node itself sent (PACKET_OUTGOING): verdict pass, never translated.</summary>
    public long OutgoingCopies { get; set; }
    /// <summary>
    /// Connections whose replies in the capture came from a usable endpoint the replay did not pick (replayed without
    /// <c>--backends follow</c>), and the first such endpoint.
    /// </summary>
    public long UnpickedBackends { get; set; }
    public string? FirstUnpickedBackend { get; set; }
    /// <summary>With <c>--backends follow</c>: connections whose backend the capture shows (-1: not following).</summary>
    public long FollowedConnections { get; set; } = -1;
    /// <summary>Records the capture cut short (snap length): decided from their headers, or dropped capture-truncated.</summary>
    public long CutFrames { get; set; }
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
    /// was decided. Called once the frames are written, so <see cref="RejectReasons"/> is complete.
    /// </summary>
    public void SetVerdicts(ReadOnlySpan<long> verdicts, ReadOnlySpan<long> reasons)
    {
        for (int i = 0; i < Counters.VerdictSlots; i++)
            if (verdicts[i] > 0) ByVerdict[(Verdict)i] = verdicts[i];
        for (int i = 1; i < Counters.ReasonSlots; i++)
        {
            if (reasons[i] <= 0) continue;
            if ((DropReason)i == DropReason.OutgoingCopy) OutgoingCopies = reasons[i];
            else if (reasons[i] - RejectReasons.GetValueOrDefault((DropReason)i) is long dropped and > 0) ByReason[(DropReason)i] = dropped;
        }
    }
}
