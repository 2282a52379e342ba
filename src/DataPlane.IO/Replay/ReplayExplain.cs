using DataPlane.IO.Pcap;
using DataPlane.Maps;
using DataPlane.Pipeline;

namespace DataPlane.IO.Replay;

/// <summary>Frame <see cref="Frame"/> (at <see cref="TimestampNs"/> past the first frame) of a capture as <c>replay --explain</c> reports it: its stage log under the generation it met.</summary>
public sealed record ExplainedFrame(long Frame, long TimestampNs, LinkFrameKind Kind, Verdict Verdict, PacketResult Result, StageRecord[] Log, MapSet Maps);

/// <summary>
/// <c>replay --explain N</c>: replays frames 1..N in order through the same workers and steering a replay uses, with
/// the same updates at the same capture times, so frame N meets the conntrack state and map generation it meets in a
/// full replay; only frame N is traced. Nothing is written.
/// </summary>
public static class ReplayExplain
{
    /// <summary>Frame <paramref name="frame"/> (1-based, as the verdict lines number them), or null when the capture is shorter.</summary>
    public static ExplainedFrame? Run(string inputPath, long frame, WorkerSet workers, IReadOnlyList<ReplayUpdate>? updates = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frame, 1);
        using var reader = new CaptureReader(inputPath);
        var schedule = new ReplaySchedule(updates);
        byte[] buffer = new byte[CaptureReader.MaxRecordLength + LinkLayer.MaxGrowth];
        byte[] reply = new byte[640];
        long n = 0, firstNs = 0;
        while (reader.TryRead(out CaptureFrame f))
        {
            n++;
            if (n == 1) firstNs = f.TimestampNs;
            // As the replay applies them: a rejected update keeps the generation, an accepted one is reconciled.
            schedule.ApplyDue(f.TimestampNs - firstNs, workers);
            LinkFrameKind kind = LinkLayer.ToEthernet(f.LinkType, f.Data, buffer, out int length);
            MapSet maps = workers.Maps;
            if (kind != LinkFrameKind.Received)
            {
                // Outgoing copies and unknown link types never reach a pipeline.
                if (n == frame) return new ExplainedFrame(n, f.TimestampNs - firstNs, kind, Verdict.Drop, default, [], maps);
                continue;
            }
            PacketPipeline w = workers[workers.WorkerFor(buffer.AsSpan(0, length))];
            if (n == frame) w.Log = new StageLog();
            Verdict v = w.Process(buffer.AsSpan(0, length), f.TimestampNs, reply, out PacketResult r);
            if (n == frame)
            {
                StageRecord[] log = w.Log!.Records.ToArray();
                w.Log = null;
                return new ExplainedFrame(n, f.TimestampNs - firstNs, kind, v, r, log, maps);
            }
        }
        return null;
    }
}
