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

    const int BatchFrames = 16384;
    const int ReplySlot = 640; // an ICMP error: 14 + 20 + 8 + 576 bytes at most

    /// <summary>
    /// The same replay over several workers, each a <see cref="PacketPipeline"/> that owns its conntrack, affinity and
    /// fragment tables (worker i built with <c>WorkerIndex = i, WorkerCount = n</c>). Frames are read in batches and
    /// steered by <paramref name="steering"/> (the connection's client side, so both directions of a connection meet
    /// the same worker); the workers run their shares of a batch in parallel, each in capture order; outputs, verdicts
    /// and the flow report are then written in capture order. Scheduled updates cut a batch, so every frame sees the
    /// generation it would see in a sequential replay. Deterministic for a given worker count.
    /// </summary>
    public static ReplaySummary Run(string inputPath, string? outputPath, string? verdictsPath, IReadOnlyList<PacketPipeline> workers,
        FlowSteering steering, IReadOnlyList<ReplayUpdate>? updates = null)
    {
        if (workers.Count == 1) return Run(inputPath, outputPath, verdictsPath, workers[0], updates);
        var total = Stopwatch.StartNew();
        var summary = new ReplaySummary();
        using var reader = new CaptureReader(inputPath);
        using CaptureWriter? writer = outputPath is null ? null : new CaptureWriter(outputPath);
        using VerdictWriter? verdicts = verdictsPath is null ? null : VerdictWriter.Create(verdictsPath);
        var pending = new Queue<ReplayUpdate>((updates ?? []).OrderBy(u => u.AfterNs));
        int w = workers.Count;

        byte[] arena = new byte[BatchFrames * 2048];
        byte[] replies = new byte[BatchFrames * ReplySlot];
        var offsets = new int[BatchFrames];
        var lengths = new int[BatchFrames];
        var stamps = new long[BatchFrames];
        var links = new bool[BatchFrames];
        var results = new PacketResult[BatchFrames];
        var verdictsOf = new Verdict[BatchFrames];
        var shares = new List<int>[w];
        for (int i = 0; i < w; i++) shares[i] = new List<int>(BatchFrames);
        long pipelineTicks = 0, n = 0, firstNs = 0;
        bool more = true;
        (byte[] Data, long Ts, LinkType Link)? carry = null; // a frame read but left for the next batch

        while (more)
        {
            // Fill a batch: frames up to the arena's size, stopping before a frame that is due an update.
            int count = 0, used = 0;
            foreach (var list in shares) list.Clear();
            MapSet maps = workers[0].Maps;
            while (count < BatchFrames)
            {
                ReadOnlySpan<byte> data;
                long ts;
                LinkType link;
                if (carry is { } c) { data = c.Data; ts = c.Ts; link = c.Link; carry = null; }
                else if (reader.TryRead(out CaptureFrame f)) { data = f.Data; ts = f.TimestampNs; link = f.LinkType; }
                else { more = false; break; }
                if (n + count == 0) firstNs = ts;
                bool due = pending.Count > 0 && ts - firstNs >= pending.Peek().AfterNs;
                if ((due && count > 0) || used + data.Length > arena.Length)
                {
                    carry = (data.ToArray(), ts, link);
                    break;
                }
                while (pending.Count > 0 && ts - firstNs >= pending.Peek().AfterNs)
                {
                    ReplayUpdate u = pending.Dequeue();
                    string? error = u.Apply();
                    int cleared = 0;
                    if (error is null) foreach (PacketPipeline p in workers) cleared += p.ReconcileAll();
                    string at = $"+{(ts - firstNs) / 1e9:0.######}s";
                    summary.Updates.Add(error is null
                        ? $"{at} {u.Label}: generation {workers[0].Maps.Generation}, {cleared} UDP connection{(cleared == 1 ? "" : "s")} to removed endpoints cleared"
                        : $"{at} {u.Label}: rejected, keeping generation {workers[0].Maps.Generation}: {error}");
                    maps = workers[0].Maps;
                }
                data.CopyTo(arena.AsSpan(used));
                offsets[count] = used; lengths[count] = data.Length; stamps[count] = ts;
                links[count] = link == LinkType.Ethernet;
                shares[links[count] ? steering.WorkerFor(arena.AsSpan(used, data.Length), maps) : 0].Add(count);
                used += data.Length;
                count++;
            }
            if (count == 0) break;

            long t0 = Stopwatch.GetTimestamp();
            Parallel.For(0, w, new ParallelOptions { MaxDegreeOfParallelism = w }, wi =>
            {
                PacketPipeline p = workers[wi];
                foreach (int i in shares[wi])
                {
                    if (!links[i]) { results[i] = default; results[i].Verdict = verdictsOf[i] = Verdict.Pass; continue; }
                    verdictsOf[i] = p.Process(arena.AsSpan(offsets[i], lengths[i]), stamps[i], replies.AsSpan(i * ReplySlot, ReplySlot), out results[i]);
                }
            });
            pipelineTicks += Stopwatch.GetTimestamp() - t0;

            MapSet current = workers[0].Maps;
            for (int i = 0; i < count; i++)
            {
                n++;
                ref PacketResult r = ref results[i];
                Verdict v = verdictsOf[i];
                if (writer is not null)
                {
                    if (v == Verdict.Forward) { writer.Write(arena.AsSpan(offsets[i], r.OutLength), stamps[i]); summary.Emitted++; }
                    else if (v == Verdict.Reject && r.HasOut) { writer.Write(replies.AsSpan(i * ReplySlot, r.OutLength), stamps[i]); summary.Emitted++; }
                }
                verdicts?.Write(n, r, current);
                summary.ByVerdict[v] = summary.ByVerdict.GetValueOrDefault(v) + 1;
                if (r.Reason != DropReason.None) summary.ByReason[r.Reason] = summary.ByReason.GetValueOrDefault(r.Reason) + 1;
                summary.Flows.Add(n, r, current);
                summary.LastTimestampNs = stamps[i];
            }
        }
        while (pending.Count > 0) summary.Updates.Add($"{pending.Peek().Label}: not applied, the capture ends before +{pending.Dequeue().AfterNs / 1e9:0.###}s");
        summary.Frames = n;
        summary.PipelineTime = Stopwatch.GetElapsedTime(0, pipelineTicks);
        summary.TotalTime = total.Elapsed;
        return summary;
    }
}
