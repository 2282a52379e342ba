namespace DataPlane.Pipeline;

/// <summary>
/// Preallocated per-verdict and per-drop-reason packet counters (katran's stats array, cilium's metrics map). Written
/// only by the owning pipeline worker; readers on other threads may see slightly stale values.
/// </summary>
public sealed class Counters
{
    readonly long[] _verdicts = new long[8];
    readonly long[] _reasons = new long[64];

    public void Count(Verdict v, DropReason r)
    {
        _verdicts[(int)v]++;
        if (r != DropReason.None) _reasons[(int)r & 63]++;
    }

    public long Verdicts(Verdict v) => Volatile.Read(ref _verdicts[(int)v]);
    public long Reasons(DropReason r) => Volatile.Read(ref _reasons[(int)r & 63]);
}
