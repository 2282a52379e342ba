using DataPlane.Maps;
using DataPlane.Pipeline;

namespace DataPlane.IO.Replay;

/// <summary>
/// Frame <see cref="Frame"/> (at <see cref="TimestampNs"/> past the first frame) of a capture as <c>replay --explain</c>
/// reports it: the verdict and result the replay gave it (those of its verdict line), its stage log, and the
/// generation it met. A frame the replay's link layer kept from the pipelines has a log of its link record.
/// </summary>
public sealed record ExplainedFrame(long Frame, long TimestampNs, Verdict Verdict, PacketResult Result, StageRecord[] Log, MapSet Maps);

/// <summary>
/// <c>replay --explain N</c>: the replay itself (<see cref="ReplaySession"/>: the same reader, schedule, batches,
/// steering, workers and link-layer rule) with recording switched on for frame N only, stopping after it. Nothing is
/// written; the frame gets the verdict its line gets in a full replay, since frame N's fate depends only on the
/// frames before it.
/// </summary>
public static class ReplayExplain
{
    /// <summary>Frame <paramref name="frame"/> (1-based, as the verdict lines number them), or null when the capture is shorter.</summary>
    public static ExplainedFrame? Run(string inputPath, long frame, WorkerSet workers, IReadOnlyList<ReplayUpdate>? updates = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frame, 1);
        var trace = new ReplayTrace(frame);
        ReplaySession.Run(inputPath, null, null, workers, updates, trace);
        return trace.Result;
    }
}

/// <summary>
/// The replay's "trace frame N" hook: the reader marks frame <see cref="Frame"/> and stops after it, the batch runs
/// that frame with <see cref="Log"/> on the pipeline it is steered to (or records the link layer's decision), and
/// leaves the outcome in <see cref="Result"/>.
/// </summary>
sealed class ReplayTrace(long frame)
{
    public long Frame { get; } = frame;
    public StageLog Log { get; } = new();
    /// <summary>The frame's time past the capture's first frame (set by the reader).</summary>
    public long SinceFirstNs { get; set; }
    /// <summary>The capture's link type of the frame (set by the reader).</summary>
    public ushort LinkType { get; set; }
    public ExplainedFrame? Result { get; set; }
    /// <summary>Frame N is in the fragment hold: the reader goes on until it leaves it (released, absorbed or dropped).</summary>
    public bool Held { get; set; }
}
