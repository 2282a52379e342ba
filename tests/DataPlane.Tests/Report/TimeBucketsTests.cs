using DataPlane.IO.Report;

namespace DataPlane.Tests.Report;

/// <summary>The report's time buckets: bounded whatever the span, merged exactly when they widen.</summary>
public class TimeBucketsTests
{
    [Fact]
    public void A_long_span_ends_with_between_half_and_all_of_the_buckets_and_no_count_is_lost()
    {
        var b = new TimeBuckets(false);
        long total = 0;
        // One frame every 7 ms for 100 s: 14 286 frames, far past 200 buckets of 1 µs.
        for (long t = 0; t <= 100_000_000_000; t += 7_000_000)
        {
            b.Add(t, 0);
            total++;
        }
        Assert.InRange(b.Count, TimeBuckets.MaxBuckets / 2, TimeBuckets.MaxBuckets);
        // 1 µs × 2^k.
        Assert.True(b.WidthNs % TimeBuckets.FirstWidthNs == 0 && long.IsPow2(b.WidthNs / TimeBuckets.FirstWidthNs), $"width {b.WidthNs}");
        long sum = 0;
        for (int i = 0; i < b.Count; i++) sum += b[i, 0];
        Assert.Equal(total, sum);
        // Each bucket holds exactly the frames whose time falls in it (the merge never splits a bucket).
        for (int i = 0; i < b.Count; i++)
        {
            long lo = i * b.WidthNs, hi = lo + b.WidthNs;
            long expected = 0;
            for (long t = 0; t <= 100_000_000_000; t += 7_000_000) if (t >= lo && t < hi) expected++;
            Assert.Equal(expected, b[i, 0]);
        }
    }

    [Fact]
    public void Maximum_columns_keep_the_highest_sample_when_buckets_merge_and_sum_columns_add()
    {
        var b = new TimeBuckets(false, true);
        b.Add(0, 0, 3);
        b.Add(0, 1, 10);
        b.Add(1_500, 0, 4);   // second bucket of 1 µs
        b.Add(1_500, 1, 7);
        Assert.Equal(2, b.Count);
        Assert.Equal(TimeBuckets.FirstWidthNs, b.WidthNs);
        b.Add(TimeBuckets.MaxBuckets * TimeBuckets.FirstWidthNs, 0, 1); // one past the last bucket: the width doubles
        Assert.Equal(2 * TimeBuckets.FirstWidthNs, b.WidthNs);
        Assert.Equal(7, b[0, 0]);   // 3 + 4
        Assert.Equal(10, b[0, 1]);  // max(10, 7), not 17
        Assert.Equal(1, b[TimeBuckets.MaxBuckets / 2, 0]);
    }

    [Fact]
    public void Times_before_the_origin_count_in_the_first_bucket_and_huge_times_do_not_overflow()
    {
        var b = new TimeBuckets(false);
        b.Add(-5_000_000_000, 0);
        Assert.Equal(1, b[0, 0]);
        b.Add(long.MaxValue, 0);
        Assert.InRange(b.Count, 1, TimeBuckets.MaxBuckets);
        Assert.True(b.WidthNs > 0);
        Assert.Equal(2, Enumerable.Range(0, b.Count).Sum(i => b[i, 0]));
    }
}
