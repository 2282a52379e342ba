using System.Numerics;

namespace DataPlane.Benchmarks;

/// <summary>
/// A fixed-size log-linear histogram of durations in Stopwatch ticks (HdrHistogram's layout with 32 sub-buckets per
/// power of two, so a percentile is within ~3 % of the true value): recording is a few instructions and never allocates,
/// so the packet thread can record every gap without itself causing the collections it is there to observe.
/// One writer; read it only after the writer has stopped.
/// </summary>
public sealed class GapHistogram
{
    const int SubBits = 5, Sub = 1 << SubBits, Linear = 2 * Sub;
    // Values below 64 ticks are exact; above, (64 - 6) octaves of 32 buckets reach every positive long.
    readonly long[] _counts = new long[Linear + (64 - SubBits - 1) * Sub];

    public long Count { get; private set; }
    public long Max { get; private set; }
    public long Sum { get; private set; }

    public void Record(long ticks)
    {
        if (ticks < 0) ticks = 0;
        _counts[Bucket(ticks)]++;
        Count++;
        Sum += ticks;
        if (ticks > Max) Max = ticks;
    }

    static int Bucket(long v)
    {
        if (v < Linear) return (int)v;
        int e = 63 - BitOperations.LeadingZeroCount((ulong)v); // >= SubBits + 1
        return Linear + (e - SubBits - 1) * Sub + (int)((v >> (e - SubBits)) & (Sub - 1));
    }

    /// <summary>The largest value bucket <paramref name="b"/> holds.</summary>
    static long UpperBound(int b)
    {
        if (b < Linear) return b;
        int e = (b - Linear) / Sub + SubBits + 1, s = (b - Linear) % Sub;
        return ((long)(Sub + s + 1) << (e - SubBits)) - 1;
    }

    /// <summary>The value at quantile <paramref name="q"/> (0..1): the upper bound of the bucket holding it, at most <see cref="Max"/>.</summary>
    public long Percentile(double q)
    {
        if (Count == 0) return 0;
        long rank = Math.Max(1, (long)Math.Ceiling(q * Count)), seen = 0;
        for (int b = 0; b < _counts.Length; b++)
        {
            seen += _counts[b];
            if (seen >= rank) return Math.Min(UpperBound(b), Max);
        }
        return Max;
    }

    /// <summary>How many recorded values were at least <paramref name="ticks"/> (bucket resolution).</summary>
    public long CountAtLeast(long ticks)
    {
        long n = 0;
        for (int b = Bucket(ticks); b < _counts.Length; b++) n += _counts[b];
        return n;
    }
}
