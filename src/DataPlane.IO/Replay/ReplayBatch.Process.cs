using DataPlane.IO.Pcap;
using DataPlane.Maps;
using DataPlane.Pipeline;

namespace DataPlane.IO.Replay;

sealed partial class ReplayBatch
{
    /// <summary>
    /// Runs the batch: each worker takes its share in capture order, the workers in parallel (each owns its tables, so
    /// nothing is shared and nothing locks). Frame N's fate therefore depends only on the frames before it.
    /// </summary>
    public void Process(WorkerSet workers)
    {
        if (workers.Count == 1) Work(workers[0], 0);
        else Parallel.For(0, workers.Count, new ParallelOptions { MaxDegreeOfParallelism = workers.Count }, wi => Work(workers[wi], wi));
    }

    void Work(PacketPipeline p, int worker)
    {
        int count = _shares[worker].Count;
        int traced = _traced >= 0 && _workerOf[_traced] == worker ? _positionOf[_traced] : -1;
        if (traced < 0)
        {
            Work(p, worker, 0, count);
            return;
        }
        // replay --explain N: the same loop, with the stage log on for frame N alone (the segments around it run as
        // in any replay, so no per-frame test is added to the loop).
        Work(p, worker, 0, traced);
        MapSet maps = p.Maps;
        p.Log = _trace!.Log;
        try { Work(p, worker, traced, traced + 1); }
        finally { p.Log = null; }
        ref readonly PacketResult r = ref _results[worker][traced];
        _trace.Result = new ExplainedFrame(_trace.Frame, _trace.SinceFirstNs, r.Verdict, r, _trace.Log.Records.ToArray(), maps);
        Work(p, worker, traced + 1, count);
    }

    void Work(PacketPipeline p, int worker, int from, int to)
    {
        List<int> share = _shares[worker];
        PacketResult[] res = _results[worker];
        for (int k = from; k < to; k++)
        {
            // Warm the conntrack lines of the frames 16 and 8 ahead (PacketPipeline.Prefetch): with a large table their
            // misses overlap this frame's work instead of following it.
            if (k + 16 < share.Count) Prefetch(p, share[k + 16], 1);
            if (k + 8 < share.Count) Prefetch(p, share[k + 8], 2);
            int i = share[k];
            switch (_fates[i])
            {
                case HoldFate.Dropped:
                    Decided(out res[k], Verdict.Drop, _holdReasons[i], p.Log);
                    continue;
                case HoldFate.Absorbed:
                    Decided(out res[k], Verdict.Reassembled, DropReason.None, p.Log);
                    continue;
            }
            switch (_kinds[i])
            {
                case LinkFrameKind.Outgoing:
                    KeptFromPipeline(out res[k], Verdict.Pass, DropReason.OutgoingCopy, p.Log);
                    continue;
                case LinkFrameKind.Unsupported:
                    KeptFromPipeline(out res[k], Verdict.Drop, DropReason.UnsupportedLinkType, p.Log);
                    continue;
            }
            p.Process(_arena.AsSpan(_offsets[i], _lengths[i]), _stamps[i], _replies.AsSpan(i * ReplySlot, ReplySlot), out res[k],
                      _cut[i] == 0 ? 0 : _lengths[i] - _cut[i]);
        }
    }

    void Prefetch(PacketPipeline p, int i, int step)
    {
        if (_kinds[i] == LinkFrameKind.Received && _fates[i] is HoldFate.None or HoldFate.Released) p.Prefetch(in _keys[i], step);
    }

    /// <summary>
    /// A frame the fragment hold decided (dropped, or absorbed into a reassembled datagram): its verdict, already
    /// counted by the hold, and recorded where it is decided for <c>replay --explain</c>.
    /// </summary>
    static void Decided(out PacketResult r, Verdict v, DropReason reason, StageLog? log)
    {
        r = default;
        r.Verdict = v;
        r.Reason = reason;
        log?.AddDefrag(v, reason);
    }

    /// <summary>
    /// A frame the link layer keeps from the pipelines: its verdict, counted where frames are counted, and recorded
    /// (<paramref name="log"/>: the frame <c>replay --explain</c> traces) where it is decided.
    /// </summary>
    void KeptFromPipeline(out PacketResult r, Verdict v, DropReason reason, StageLog? log)
    {
        r = default;
        r.Verdict = v;
        r.Reason = reason;
        LinkVerdicts.Count(v, reason);
        log?.AddLink(v, reason, _trace?.LinkType ?? 0);
    }
}
