namespace DataPlane.Pipeline;

/// <summary>
/// Preallocated per-verdict and per-drop-reason packet counters (katran's stats array, cilium's metrics map). Written
/// only by the owning pipeline worker; readers on other threads may see slightly stale values.
/// <para>
/// A packet's verdict and its reason are two increments; a reader wanting both as of the same packet boundary (so the
/// drop total equals the sum of the drop reasons) takes a <see cref="Snapshot"/>: the writer brackets each update with
/// a sequence counter (odd while updating), the Linux seqcount pattern (include/linux/seqlock.h), so the packet path
/// never waits and the reader retries only when it raced an update.
/// </para>
/// </summary>
public sealed class Counters
{
    readonly long[] _verdicts = new long[8];
    readonly long[] _reasons = new long[64];
    long _sequence;

    /// <summary>Number of verdict slots a <see cref="Snapshot"/> fills.</summary>
    public const int VerdictSlots = 8;
    /// <summary>Number of reason slots a <see cref="Snapshot"/> fills.</summary>
    public const int ReasonSlots = 64;

    public void Count(Verdict v, DropReason r)
    {
        // Single writer: plain increments between two release stores of the sequence (odd = update in progress).
        long s = _sequence;
        Volatile.Write(ref _sequence, s + 1);
        // smp_wmb(): the odd sequence must be visible before the counters change. x86 never reorders stores with
        // stores (and the check folds to a constant there); weaker memory models need the fence.
        if (!System.Runtime.Intrinsics.X86.X86Base.IsSupported) Interlocked.MemoryBarrier();
        _verdicts[(int)v]++;
        if (r != DropReason.None) _reasons[(int)r & 63]++;
        Volatile.Write(ref _sequence, s + 2);
    }

    public long Verdicts(Verdict v) => Volatile.Read(ref _verdicts[(int)v]);
    public long Reasons(DropReason r) => Volatile.Read(ref _reasons[(int)r & 63]);

    /// <summary>
    /// Copies every verdict and reason counter as of one packet boundary (<paramref name="verdicts"/> indexed by
    /// <see cref="Verdict"/>, at least <see cref="VerdictSlots"/> long; <paramref name="reasons"/> by
    /// <see cref="DropReason"/>, at least <see cref="ReasonSlots"/>). Safe from any thread; never blocks the writer.
    /// </summary>
    public void Snapshot(Span<long> verdicts, Span<long> reasons)
    {
        var spin = new SpinWait();
        while (true)
        {
            long before = Volatile.Read(ref _sequence);
            if ((before & 1) == 0)
            {
                for (int i = 0; i < VerdictSlots; i++) verdicts[i] = Volatile.Read(ref _verdicts[i]);
                for (int i = 0; i < ReasonSlots; i++) reasons[i] = Volatile.Read(ref _reasons[i]);
                // The loads above are acquire loads, so this one cannot move before them.
                if (Volatile.Read(ref _sequence) == before) return;
            }
            spin.SpinOnce();
        }
    }
}
