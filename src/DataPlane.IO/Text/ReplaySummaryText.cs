using DataPlane.IO.Replay;
using DataPlane.Pipeline;

namespace DataPlane.IO.Text;

/// <summary>
/// What <c>dataplane replay</c> prints when a capture is done: frames in and out, each flow (unless quiet), verdict
/// counts, the reasons of drops and of rejects each under its own heading, the updates applied, notes on the capture itself, live conntrack entries and, for large
/// captures, throughput.
/// </summary>
public static class ReplaySummaryText
{
    public static void Write(TextWriter w, string input, ReplaySummary s, IReadOnlyList<PacketPipeline> workers, bool quiet)
    {
        w.WriteLine($"{input}: {FlowReport.Count(s.Frames, "frame")}, {s.Emitted} emitted");
        if (!quiet)
        {
            w.WriteLine("flows:");
            s.Flows.Print(w);
        }
        w.Write("verdicts:");
        foreach (Verdict v in new[] { Verdict.Forward, Verdict.Reject, Verdict.Pass, Verdict.Drop, Verdict.Local, Verdict.Answer, Verdict.Reassembled })
            if (s.ByVerdict.TryGetValue(v, out long c)) w.Write($" {v.Name()}={c}");
        w.WriteLine();
        Reasons(w, "drop reasons:", s.ByReason);
        Reasons(w, "reject reasons:", s.RejectReasons);
        foreach (string u in s.Updates) w.WriteLine($"update: {u}");
        foreach (string line in ReplayNotes.Lines(s)) w.WriteLine(line);
        // Live at the capture's last timestamp: entries past their expiry that the GC has not reached are not counted.
        int[] live = [.. workers.Select(p => ConntrackListing.LiveCount(p.Conntrack, s.LastTimestampNs))];
        w.WriteLine($"conntrack: {FlowReport.Count(live.Sum(), "live flow")}" + (workers.Count > 1 ? $" ({string.Join(" + ", live)} over {workers.Count} workers)" : ""));
        double pipeSec = s.PipelineTime.TotalSeconds, totalSec = s.TotalTime.TotalSeconds;
        // Below a few thousand frames the figure is JIT warm-up, not throughput.
        if (s.Frames >= 10_000 && pipeSec > 0)
            w.WriteLine($"throughput: pipeline {s.Frames / pipeSec:N0} frames/s, whole run {s.Frames / totalSec:N0} frames/s" + (workers.Count > 1 ? $" ({workers.Count} workers)" : ""));
    }

    /// <summary>One line of reasons by number (the order of cilium's drop_reasons.h), when there is any.</summary>
    static void Reasons(TextWriter w, string heading, Dictionary<DropReason, long> counts)
    {
        if (counts.Count == 0) return;
        w.Write(heading);
        foreach (var (reason, c) in counts.OrderBy(kv => (int)kv.Key)) w.Write($" {reason.Name()}={c}");
        w.WriteLine();
    }
}
