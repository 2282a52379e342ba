using System.Diagnostics;
using DataPlane.IO;
using DataPlane.IO.Verdicts;
using DataPlane.Maps;
using DataPlane.Pipeline;

namespace DataPlane.IO.Replay;

/// <summary>What a replay did, for the CLI's summary and for tests.</summary>
public sealed class ReplaySummary
{
    public long Frames { get; set; }
    public long Emitted { get; set; }
    public Dictionary<Verdict, long> ByVerdict { get; } = [];
    public Dictionary<DropReason, long> ByReason { get; } = [];
    public FlowReport Flows { get; } = new();
    public TimeSpan PipelineTime { get; set; }
    public TimeSpan TotalTime { get; set; }
    /// <summary>Timestamp of the last frame: the clock at which the conntrack table is listed after a replay.</summary>
    public long LastTimestampNs { get; set; }
    /// <summary>One line per scheduled configuration change: when it applied and what came of it.</summary>
    public List<string> Updates { get; } = [];
}

/// <summary>
/// A configuration change during a replay (a <c>kubectl apply</c> at a point of the capture's clock): applied just
/// before the first frame at least <paramref name="AfterNs"/> after the capture's first frame. <paramref name="Apply"/>
/// publishes a new generation and returns null, or returns the error that left the last good one in place.
/// </summary>
public sealed record ReplayUpdate(long AfterNs, string Label, Func<string?> Apply);

/// <summary>
/// Pumps a capture through one <see cref="PacketPipeline"/>: frames in file order, the capture timestamp as the
/// pipeline's clock, forwarded frames and generated replies to the output capture with the input frame's timestamp.
/// Sequential by design: frame N's fate depends only on frames before it, so appending frames never changes earlier
/// results and the same inputs give byte-identical outputs.
/// </summary>
public static class ReplaySession
{
    /// <summary>Large enough for any frame a capture may hold (pcap snaplen max 262144).</summary>
    const int FrameBufferSize = 262144 + 64;

    public static ReplaySummary Run(string inputPath, string? outputPath, string? verdictsPath, PacketPipeline pipeline,
        IReadOnlyList<ReplayUpdate>? updates = null)
    {
        var pending = new Queue<ReplayUpdate>((updates ?? []).OrderBy(u => u.AfterNs));
        long firstNs = 0;
        var total = Stopwatch.StartNew();
        var summary = new ReplaySummary();
        using var reader = new CaptureReader(inputPath);
        using CaptureWriter? writer = outputPath is null ? null : new CaptureWriter(outputPath);
        using VerdictWriter? verdicts = verdictsPath is null ? null : VerdictWriter.Create(verdictsPath);

        byte[] buffer = new byte[FrameBufferSize];
        byte[] reply = new byte[2048];
        long pipelineTicks = 0;
        long n = 0;
        while (reader.TryRead(out CaptureFrame frame))
        {
            n++;
            if (n == 1) firstNs = frame.TimestampNs;
            while (pending.Count > 0 && frame.TimestampNs - firstNs >= pending.Peek().AfterNs)
                ApplyUpdate(pending.Dequeue(), pipeline, summary, frame.TimestampNs - firstNs);
            summary.LastTimestampNs = frame.TimestampNs;
            int len = frame.Data.Length;
            frame.Data.CopyTo(buffer);
            Verdict v;
            PacketResult r;
            long t0 = Stopwatch.GetTimestamp();
            if (frame.LinkType != LinkType.Ethernet)
            {
                // Only Ethernet frames reach the pipeline; other link types would need their own L2 parser.
                r = default;
                r.Verdict = v = Verdict.Pass;
            }
            else
                v = pipeline.Process(buffer.AsSpan(0, len), frame.TimestampNs, reply, out r);
            pipelineTicks += Stopwatch.GetTimestamp() - t0;

            MapSet maps = pipeline.Maps;
            if (writer is not null)
            {
                if (v == Verdict.Forward) { writer.Write(buffer.AsSpan(0, r.OutLength), frame.TimestampNs); summary.Emitted++; }
                else if (v == Verdict.Reject && r.HasOut) { writer.Write(reply.AsSpan(0, r.OutLength), frame.TimestampNs); summary.Emitted++; }
            }
            verdicts?.Write(n, r, maps);
            summary.ByVerdict[v] = summary.ByVerdict.GetValueOrDefault(v) + 1;
            if (r.Reason != DropReason.None) summary.ByReason[r.Reason] = summary.ByReason.GetValueOrDefault(r.Reason) + 1;
            summary.Flows.Add(n, r, maps);
        }
        while (pending.Count > 0) summary.Updates.Add($"{pending.Peek().Label}: not applied, the capture ends before +{pending.Dequeue().AfterNs / 1e9:0.###}s");
        summary.Frames = n;
        summary.PipelineTime = Stopwatch.GetElapsedTime(0, pipelineTicks);
        summary.TotalTime = total.Elapsed;
        return summary;
    }

    /// <summary>
    /// Publishes the change, then runs the conntrack cleanup at once, where kube-proxy runs it after a sync: the next
    /// frame already sees the new generation and no UDP connection to an endpoint that stopped serving.
    /// </summary>
    static void ApplyUpdate(ReplayUpdate u, PacketPipeline pipeline, ReplaySummary summary, long atNs)
    {
        string at = $"+{atNs / 1e9:0.######}s";
        string? error = u.Apply();
        if (error is not null)
        {
            summary.Updates.Add($"{at} {u.Label}: rejected, keeping generation {pipeline.Maps.Generation}: {error}");
            return;
        }
        int cleared = pipeline.ReconcileAll();
        summary.Updates.Add($"{at} {u.Label}: generation {pipeline.Maps.Generation}, {cleared} UDP connection{(cleared == 1 ? "" : "s")} to removed endpoints cleared");
    }
}
