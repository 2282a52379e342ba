using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using DataPlane.IO.Pcap;
using DataPlane.Packets;
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
}

/// <summary>
/// A configuration change during a replay (a <c>kubectl apply</c> at a point of the capture's clock): applied just
/// before the first frame at least <paramref name="AfterNs"/> after the capture's first frame. <paramref name="Apply"/>
/// publishes a new generation and returns null, or returns the error that left the last good one in place.
/// </summary>
public sealed record ReplayUpdate(long AfterNs, string Label, Func<string?> Apply);

/// <summary>
/// Pumps a capture through the pipeline(s): frames in file order, the capture timestamp as the pipeline's clock,
/// forwarded frames and generated replies to the output capture with the input frame's timestamp. Frames are read in
/// batches so the pipeline can prefetch conntrack lines a few frames ahead; each worker still takes its frames in file
/// order, so frame N's fate depends only on frames before it: appending frames never changes earlier results and the
/// same inputs (and worker count) give byte-identical outputs.
/// </summary>
public static class ReplaySession
{
    public static ReplaySummary Run(string inputPath, string? outputPath, string? verdictsPath, PacketPipeline pipeline,
        IReadOnlyList<ReplayUpdate>? updates = null) =>
        Run(inputPath, outputPath, verdictsPath, [pipeline], new FlowSteering(1, pipeline.Options), updates);

    /// <summary>
    /// Publishes the change, then runs the conntrack cleanup at once, where kube-proxy runs it after a sync: the next
    /// frame already sees the new generation and no UDP connection to an endpoint that stopped serving.
    /// </summary>
    static void ApplyUpdate(ReplayUpdate u, IReadOnlyList<PacketPipeline> workers, ReplaySummary summary, long atNs)
    {
        string at = $"+{atNs / 1e9:0.######}s";
        // Whatever the new manifests make the loader throw, the replay goes on with the last good generation (loaded
        // with the reload thread's deep stack, as run's SIGHUP reload is).
        string? error = null;
        if (Live.ReloadBoundary.Try(() => error = Live.Reloader.OnReloadStack(u.Apply)) is { } failure) error = failure;
        long generation = workers[0].Maps.Generation;
        if (error is not null)
        {
            summary.Updates.Add($"{at} {u.Label}: rejected, keeping generation {generation}: {error}");
            return;
        }
        int cleared = 0;
        foreach (PacketPipeline p in workers) cleared += p.ReconcileAll();
        summary.Updates.Add($"{at} {u.Label}: generation {generation}, {cleared} UDP connection{(cleared == 1 ? "" : "s")} to removed endpoints cleared");
    }

    const int BatchFrames = 16384;
    const int ReplySlot = 1536; // an ICMP error (14 + 20 + 8 + 576 bytes at most) or a DNS answer of one MTU-sized frame

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
        var total = Stopwatch.StartNew();
        var summary = new ReplaySummary();
        using var reader = new CaptureReader(inputPath);
        using CaptureWriter? writer = outputPath is null ? null : new CaptureWriter(outputPath);
        using VerdictWriter? verdicts = verdictsPath is null ? null : VerdictWriter.Create(verdictsPath);
        var pending = new Queue<ReplayUpdate>((updates ?? []).OrderBy(u => u.AfterNs));
        int w = workers.Count;

        // Each frame is written into the arena already converted to Ethernet (LinkLayer.ToEthernet): a cooked or raw
        // frame grows by at most LinkLayer.MaxGrowth, which the fill check below reserves.
        byte[] arena = new byte[BatchFrames * 2048];
        byte[] replies = new byte[BatchFrames * ReplySlot];
        var offsets = new int[BatchFrames];
        var lengths = new int[BatchFrames];
        var stamps = new long[BatchFrames];
        var kinds = new LinkFrameKind[BatchFrames];
        // Results per worker, in its share's order: workers writing neighbouring slots of one array would fight over
        // cache lines (frames alternate between workers), which measured two workers slower than one.
        var results = new PacketResult[w][];
        var verdictsOf = new Verdict[w][];
        for (int i = 0; i < w; i++) { results[i] = new PacketResult[BatchFrames]; verdictsOf[i] = new Verdict[BatchFrames]; }
        var workerOf = new int[BatchFrames];
        var positionOf = new int[BatchFrames];
        var shares = new List<int>[w];
        for (int i = 0; i < w; i++) shares[i] = new List<int>(BatchFrames);
        long pipelineTicks = 0, n = 0, firstNs = 0;
        long[] verdictCounts = new long[8], reasonCounts = new long[64]; // per frame: array slots, not dictionary updates
        bool more = true;
        (byte[] Data, long Ts, LinkType Link)? carry = null; // a frame read but left for the next batch
        // A corrupt record ends the reading, not the replay of what was read before it: the frames already in the
        // batch are processed and written, the outputs closed, and only then is the error thrown.
        CaptureFormatException? readError = null;

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
                else if (TryRead(reader, out CaptureFrame f, out readError)) { data = f.Data; ts = f.TimestampNs; link = f.LinkType; }
                else { more = false; break; }
                if (n + count == 0) firstNs = ts;
                bool due = pending.Count > 0 && ts - firstNs >= pending.Peek().AfterNs;
                if ((due && count > 0) || used + data.Length + LinkLayer.MaxGrowth > arena.Length)
                {
                    carry = (data.ToArray(), ts, link);
                    break;
                }
                while (pending.Count > 0 && ts - firstNs >= pending.Peek().AfterNs)
                {
                    ApplyUpdate(pending.Dequeue(), workers, summary, ts - firstNs);
                    maps = workers[0].Maps;
                }
                LinkFrameKind kind = LinkLayer.ToEthernet(link, data, arena.AsSpan(used), out int length);
                if (kind == LinkFrameKind.Unsupported) CountUnsupported(summary, link);
                offsets[count] = used; lengths[count] = length; stamps[count] = ts;
                kinds[count] = kind;
                int wk = kind == LinkFrameKind.Received ? steering.WorkerFor(arena.AsSpan(used, length), maps) : 0;
                workerOf[count] = wk;
                positionOf[count] = shares[wk].Count;
                shares[wk].Add(count);
                used = (used + length + 63) & ~63; // each frame on its own cache lines: workers rewrite them in place
                count++;
            }
            if (count == 0) break;

            long t0 = Stopwatch.GetTimestamp();
            void Work(int wi)
            {
                PacketPipeline p = workers[wi];
                List<int> share = shares[wi];
                for (int k = 0; k < share.Count; k++)
                {
                    // Warm the conntrack lines of the frames 16 and 8 ahead (PacketPipeline.Prefetch): with a large
                    // table their misses overlap this frame's work instead of following it.
                    if (k + 16 < share.Count) Prefetch(p, share[k + 16], 1);
                    if (k + 8 < share.Count) Prefetch(p, share[k + 8], 2);
                    int i = share[k];
                    PacketResult[] res = results[wi];
                    switch (kinds[i])
                    {
                        case LinkFrameKind.Outgoing:
                            res[k] = default;
                            res[k].Verdict = verdictsOf[wi][k] = Verdict.Pass;
                            res[k].Reason = DropReason.OutgoingCopy;
                            continue;
                        case LinkFrameKind.Unsupported:
                            res[k] = default;
                            res[k].Verdict = verdictsOf[wi][k] = Verdict.Drop;
                            res[k].Reason = DropReason.UnsupportedLinkType;
                            continue;
                    }
                    verdictsOf[wi][k] = p.Process(arena.AsSpan(offsets[i], lengths[i]), stamps[i], replies.AsSpan(i * ReplySlot, ReplySlot), out res[k]);
                }
            }
            void Prefetch(PacketPipeline p, int i, int step)
            {
                if (kinds[i] == LinkFrameKind.Received) p.Prefetch(arena.AsSpan(offsets[i], lengths[i]), step);
            }
            if (w == 1) Work(0);
            else Parallel.For(0, w, new ParallelOptions { MaxDegreeOfParallelism = w }, Work);
            pipelineTicks += Stopwatch.GetTimestamp() - t0;

            MapSet current = workers[0].Maps;
            for (int i = 0; i < count; i++)
            {
                n++;
                ref PacketResult r = ref results[workerOf[i]][positionOf[i]];
                Verdict v = verdictsOf[workerOf[i]][positionOf[i]];
                if (writer is not null)
                {
                    if (v == Verdict.Forward) { writer.Write(arena.AsSpan(offsets[i], r.OutLength), stamps[i]); summary.Emitted++; }
                    else if (v is Verdict.Reject or Verdict.Answer && r.HasOut) { writer.Write(replies.AsSpan(i * ReplySlot, r.OutLength), stamps[i]); summary.Emitted++; }
                }
                verdicts?.Write(n, r, current);
                verdictCounts[(int)v & 7]++;
                if (r.Reason == DropReason.OutgoingCopy) summary.OutgoingCopies++;
                else reasonCounts[(int)r.Reason & 63]++;
                if (v != Verdict.Forward && r.HasTuple && IsFromServiceAddress(r, current)) NoteServiceSource(summary, r);
                summary.Flows.Add(n, r, current);
                summary.LastTimestampNs = stamps[i];
            }
        }
        // The using declarations close (flush) the output capture and the verdict file on the way out.
        if (readError is not null) ExceptionDispatchInfo.Throw(readError);
        while (pending.Count > 0) summary.Updates.Add($"{pending.Peek().Label}: not applied, the capture ends before +{pending.Dequeue().AfterNs / 1e9:0.###}s");
        for (int i = 0; i < verdictCounts.Length; i++)
            if (verdictCounts[i] > 0) summary.ByVerdict[(Verdict)i] = verdictCounts[i];
        for (int i = 1; i < reasonCounts.Length; i++)
            if (reasonCounts[i] > 0) summary.ByReason[(DropReason)i] = reasonCounts[i];
        summary.Frames = n;
        summary.PipelineTime = Stopwatch.GetElapsedTime(0, pipelineTicks);
        summary.TotalTime = total.Elapsed;
        return summary;
    }

    static bool TryRead(CaptureReader reader, out CaptureFrame frame, out CaptureFormatException? error)
    {
        error = null;
        try
        {
            return reader.TryRead(out frame);
        }
        catch (CaptureFormatException e)
        {
            error = e;
            frame = default;
            return false;
        }
    }

    static void CountUnsupported(ReplaySummary summary, LinkType link) =>
        summary.UnsupportedLinkTypes[link] = summary.UnsupportedLinkTypes.GetValueOrDefault(link) + 1;

    /// <summary>Is the frame's source a service frontend (a ClusterIP, NodePort, external or LB address with its port)?</summary>
    static bool IsFromServiceAddress(in PacketResult r, MapSet maps)
    {
        if (r.Proto is not (IpProto.Tcp or IpProto.Udp)) return false;
        return !Unsafe.IsNullRef(ref maps.Services.Lookup(new Lb4Key(r.InSrcIp, r.InSrcPort, r.Proto)));
    }

    static void NoteServiceSource(ReplaySummary summary, in PacketResult r)
    {
        if (summary.FromServiceAddress++ == 0) summary.FirstServiceSource = $"{IpProto.Name(r.Proto)} {Ip4.Format(r.InSrcIp, r.InSrcPort)}";
    }
}
