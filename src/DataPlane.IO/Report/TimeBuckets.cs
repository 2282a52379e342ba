namespace DataPlane.IO.Report;

/// <summary>
/// A capture-clock histogram of a few columns whose memory does not depend on the capture: at most
/// <see cref="MaxBuckets"/> buckets of one width, the width a power-of-two multiple of <see cref="FirstWidthNs"/>.
/// A capture streams in, so its span is not known until its last frame; rather than read it twice, the width starts at
/// one microsecond and doubles (neighbouring buckets merged pairwise) each time a frame falls past the last bucket, so a
/// capture of any span ends with between <see cref="MaxBuckets"/>/2 and <see cref="MaxBuckets"/> buckets (fewer only
/// when it spans less than that many microseconds). Doubling keeps every old bucket boundary a boundary of the new
/// buckets, so the merge is exact: no count is split between buckets or estimated.
/// <para>
/// A column is either a sum (frames per verdict: merged buckets add) or a maximum (occupancy samples: merged buckets
/// keep the highest). Times are nanoseconds past the capture's first frame; a frame stamped before it (a capture
/// merged from several, or a clock step) is counted in the first bucket rather than dropped.
/// </para>
/// </summary>
public sealed class TimeBuckets
{
    /// <summary>About 100-200 bars across a page: each several pixels wide, and enough of them to see a burst.</summary>
    public const int MaxBuckets = 200;
    /// <summary>The narrowest bucket: pcap's usual resolution is 1 µs, so a narrower bucket would only be empty.</summary>
    public const long FirstWidthNs = 1_000;
    /// <summary>
    /// Times past this (about 146 years) are clamped to it, so the width, doubled until it holds the time, never overflows:
    /// 1 µs × 2^45 is the widest, well inside a long.
    /// </summary>
    const long MaxTimeNs = 1L << 62;

    readonly bool[] _isMax;
    readonly long[] _cells;

    /// <param name="maxColumns">Per column, whether it merges by maximum (true) or by sum (false).</param>
    public TimeBuckets(params bool[] maxColumns)
    {
        ArgumentOutOfRangeException.ThrowIfZero(maxColumns.Length);
        _isMax = maxColumns;
        _cells = new long[MaxBuckets * maxColumns.Length];
    }

    /// <summary>The buckets' width, in nanoseconds.</summary>
    public long WidthNs { get; private set; } = FirstWidthNs;

    /// <summary>Buckets in use: the last one holds the latest time seen.</summary>
    public int Count { get; private set; }

    public int Columns => _isMax.Length;

    /// <summary>The bucket of <paramref name="sinceFirstNs"/>, widening the buckets first if it falls past the last.</summary>
    public int BucketOf(long sinceFirstNs)
    {
        long t = Math.Clamp(sinceFirstNs, 0, MaxTimeNs);
        while (t / WidthNs >= MaxBuckets) Widen();
        int i = (int)(t / WidthNs);
        if (i >= Count) Count = i + 1;
        return i;
    }

    /// <summary>Adds <paramref name="value"/> to a sum column, or raises a maximum column to it.</summary>
    public void Add(long sinceFirstNs, int column, long value = 1)
    {
        ref long cell = ref _cells[BucketOf(sinceFirstNs) * Columns + column];
        cell = _isMax[column] ? Math.Max(cell, value) : cell + value;
    }

    public long this[int bucket, int column] => (uint)bucket < (uint)Count ? _cells[bucket * Columns + column] : 0;

    /// <summary>Doubles the width: bucket i becomes the merge of buckets 2i and 2i + 1.</summary>
    void Widen()
    {
        int columns = Columns, merged = (Count + 1) / 2;
        for (int i = 0; i < merged; i++)
            for (int c = 0; c < columns; c++)
            {
                long a = _cells[2 * i * columns + c], b = 2 * i + 1 < Count ? _cells[(2 * i + 1) * columns + c] : 0;
                _cells[i * columns + c] = _isMax[c] ? Math.Max(a, b) : a + b;
            }
        Array.Clear(_cells, merged * columns, _cells.Length - merged * columns);
        Count = merged;
        WidthNs *= 2;
    }
}
