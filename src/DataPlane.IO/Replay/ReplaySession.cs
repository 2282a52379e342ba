using System.Diagnostics;
using System.Runtime.ExceptionServices;
using DataPlane.IO.Pcap;
using DataPlane.IO.Report;
using DataPlane.Pipeline;

namespace DataPlane.IO.Replay;

/// <summary>
/// Pumps a capture through a <see cref="WorkerSet"/>: frames in file order, the capture timestamp as the pipelines'
/// clock, forwarded frames and generated replies to the output capture with the input frame's timestamp. Three parts:
/// <see cref="ReplayReader"/> reads frames into batches (applying scheduled updates between them),
/// <see cref="ReplayBatch.Process"/> runs a batch on the workers (each worker's share in capture order, the workers in
/// parallel, so the pipeline can prefetch conntrack lines a few frames ahead), and <see cref="ReplayOutputs"/> writes
/// the results in capture order. Frame N's fate depends only on frames before it: appending frames never changes
/// earlier results, and the same inputs (and worker count) give byte-identical outputs.
/// </summary>
public static class ReplaySession
{
    /// <summary>The replay on one pipeline the caller built (and still owns).</summary>
    public static ReplaySummary Run(string inputPath, string? outputPath, string? verdictsPath, PacketPipeline pipeline,
        IReadOnlyList<ReplayUpdate>? updates = null)
    {
        using WorkerSet single = WorkerSet.Over(pipeline);
        return Run(inputPath, outputPath, verdictsPath, single, updates);
    }

    /// <summary>
    /// The replay on <paramref name="workers"/> (which the caller owns). Scheduled updates cut a batch, so every frame
    /// sees the generation it would see in a sequential replay. Deterministic for a given worker count. A corrupt record
    /// ends the replay after everything before it: those frames are processed and written (the outputs closed), then
    /// its <see cref="CaptureFormatException"/> is thrown. With <paramref name="report"/> (<c>--report</c>), every frame's
    /// result, the tables' occupancy between batches and each update applied are fed to it too; what the replay writes
    /// and returns does not change.
    /// </summary>
    public static ReplaySummary Run(string inputPath, string? outputPath, string? verdictsPath, WorkerSet workers,
        IReadOnlyList<ReplayUpdate>? updates = null, ReplayProgress? progress = null, bool followBackends = false, ReplayReport? report = null) =>
        Run(inputPath, outputPath, verdictsPath, workers, updates, null, progress, followBackends, report);

    /// <summary>The replay; with <paramref name="trace"/> (<c>replay --explain N</c>), frame N is traced and the replay stops after it.</summary>
    internal static ReplaySummary Run(string inputPath, string? outputPath, string? verdictsPath, WorkerSet workers,
        IReadOnlyList<ReplayUpdate>? updates, ReplayTrace? trace, ReplayProgress? progress = null, bool followBackends = false, ReplayReport? report = null)
    {
        if (!followBackends) return Run(inputPath, outputPath, verdictsPath, workers, updates, trace, progress, (BackendHints?)null, report);
        BackendHints hints = BackendEvidence.Scan(inputPath, workers.Maps);
        foreach (PacketPipeline p in workers.Pipelines) p.State.Hints = hints;
        try
        {
            ReplaySummary s = Run(inputPath, outputPath, verdictsPath, workers, updates, trace, progress, hints, report);
            s.FollowedConnections = hints.Count;
            return s;
        }
        finally
        {
            foreach (PacketPipeline p in workers.Pipelines) p.State.Hints = null;
        }
    }

    static ReplaySummary Run(string inputPath, string? outputPath, string? verdictsPath, WorkerSet workers,
        IReadOnlyList<ReplayUpdate>? updates, ReplayTrace? trace, ReplayProgress? progress, BackendHints? hints, ReplayReport? report)
    {
        var total = Stopwatch.StartNew();
        var summary = new ReplaySummary();
        ReplayReader? reader = null;
        // A reload is marked at the time of the frame that met it, and the tables are measured right after it (its
        // conntrack cleanup may have emptied some): the schedule applies it while no worker runs.
        var schedule = new ReplaySchedule(updates)
        {
            Applied = report is null ? null : (u, sinceFirstNs, frame, line) =>
            {
                long at = reader!.FirstTimestampNs + sinceFirstNs;
                report.Start(reader.FirstTimestampNs);
                report.Reload(at, frame, u.Label, line);
                report.Sample(at, workers.Pipelines);
            },
        };
        if (report is not null) report.BackendsFollowed = hints is not null;
        // The summary's verdicts are what the workers' counters count during this replay (a borrowed pipeline may have
        // counted before), plus what the link layer decided.
        Span<long> verdictsBefore = stackalloc long[Counters.VerdictSlots], reasonsBefore = stackalloc long[Counters.ReasonSlots];
        workers.SumCounters(verdictsBefore, reasonsBefore);
        using var capture = new CaptureReader(inputPath);
        reader = new ReplayReader(capture, schedule, trace) { Report = report };
        var batch = new ReplayBatch(workers, trace);
        long pipelineTicks = 0;
        using (var outputs = new ReplayOutputs(outputPath, verdictsPath, summary) { Backends = hints is null ? new BackendCheck() : null, Report = report })
        {
            try
            {
                while (reader.Fill(batch, workers))
                {
                    if (report is not null && outputs.Frames == 0)
                    {
                        // The tables as the capture found them (empty, unless the caller's pipeline ran before).
                        report.Start(reader.FirstTimestampNs);
                        report.Sample(reader.FirstTimestampNs, workers.Pipelines);
                    }
                    long t0 = Stopwatch.GetTimestamp();
                    batch.Process(workers);
                    pipelineTicks += Stopwatch.GetTimestamp() - t0;
                    outputs.Write(batch, workers.Maps);
                    // Occupancy once per batch, between batches (the workers are idle): a per-frame figure would need
                    // the pipeline to report it, and the packet path pays nothing for the report.
                    report?.Sample(batch.TimestampNs(batch.Count - 1), workers.Pipelines);
                    progress?.Batch(outputs.Frames, capture.BytesRead, capture.FileLength, outputs.Dropped);
                }
            }
            finally
            {
                progress?.Done(); // before the summary, or the error line, is printed
            }
            if (report is not null && outputs.Frames > 0) report.Sample(summary.LastTimestampNs, workers.Pipelines, last: true);
            summary.Frames = outputs.Frames;
            summary.UnpickedBackends = outputs.Backends?.Mismatches ?? 0;
            summary.FirstUnpickedBackend = outputs.Backends?.FirstOther;
        }
        if (reader.Error is not null) ExceptionDispatchInfo.Throw(reader.Error);
        schedule.Finish();
        summary.Updates.AddRange(schedule.Lines);
        foreach (var (link, n) in reader.UnsupportedLinkTypes) summary.UnsupportedLinkTypes[link] = n;
        summary.CutFrames = reader.CutFrames;

        Span<long> verdicts = stackalloc long[Counters.VerdictSlots], reasons = stackalloc long[Counters.ReasonSlots];
        Span<long> linkVerdicts = stackalloc long[Counters.VerdictSlots], linkReasons = stackalloc long[Counters.ReasonSlots];
        workers.SumCounters(verdicts, reasons);
        batch.LinkVerdicts.Snapshot(linkVerdicts, linkReasons);
        for (int i = 0; i < verdicts.Length; i++) verdicts[i] += linkVerdicts[i] - verdictsBefore[i];
        for (int i = 0; i < reasons.Length; i++) reasons[i] += linkReasons[i] - reasonsBefore[i];
        summary.SetVerdicts(verdicts, reasons);
        summary.PipelineTime = Stopwatch.GetElapsedTime(0, pipelineTicks);
        summary.TotalTime = total.Elapsed;
        return summary;
    }
}
