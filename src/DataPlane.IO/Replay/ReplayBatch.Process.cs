using DataPlane.IO.Pcap;
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
        List<int> share = _shares[worker];
        PacketResult[] res = _results[worker];
        for (int k = 0; k < share.Count; k++)
        {
            // Warm the conntrack lines of the frames 16 and 8 ahead (PacketPipeline.Prefetch): with a large table their
            // misses overlap this frame's work instead of following it.
            if (k + 16 < share.Count) Prefetch(p, share[k + 16], 1);
            if (k + 8 < share.Count) Prefetch(p, share[k + 8], 2);
            int i = share[k];
            switch (_kinds[i])
            {
                case LinkFrameKind.Outgoing:
                    KeptFromPipeline(out res[k], Verdict.Pass, DropReason.OutgoingCopy);
                    continue;
                case LinkFrameKind.Unsupported:
                    KeptFromPipeline(out res[k], Verdict.Drop, DropReason.UnsupportedLinkType);
                    continue;
            }
            p.Process(_arena.AsSpan(_offsets[i], _lengths[i]), _stamps[i], _replies.AsSpan(i * ReplySlot, ReplySlot), out res[k]);
        }
    }

    void Prefetch(PacketPipeline p, int i, int step)
    {
        if (_kinds[i] == LinkFrameKind.Received) p.Prefetch(in _keys[i], step);
    }

    /// <summary>A frame the link layer keeps from the pipelines: its verdict, counted where frames are counted.</summary>
    void KeptFromPipeline(out PacketResult r, Verdict v, DropReason reason)
    {
        r = default;
        r.Verdict = v;
        r.Reason = reason;
        LinkVerdicts.Count(v, reason);
    }
}
