using DataPlane.Pipeline;

namespace DataPlane.Tests.Stress;

/// <summary>
/// <c>counters</c> under load: a packet's verdict and its drop reason are two increments, and a reader on another
/// thread must never see one without the other. A writer counts a fixed, seeded sequence of verdicts as fast as it
/// can while the reader samples <see cref="Counters.Snapshot"/>: in every sample the drop total equals the sum of
/// the drop reasons, the reject total the sum of the reject reasons, and nothing ever goes backwards.
/// </summary>
public class CountersSnapshotTests
{
    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void Snapshots_taken_during_counting_are_never_torn(int seed)
    {
        const int packets = 3_000_000;
        // Drops carry reasons 1..3, rejects reason 4 only, forwards none: each kind's total is its reasons' sum.
        var rng = new Random(seed);
        var plan = new byte[packets];
        rng.NextBytes(plan);
        var counters = new Counters();
        long written = 0;
        int sampledMidway = 0;
        var writer = new Thread(() =>
        {
            for (int i = 0; i < packets; i++)
            {
                // Halfway, wait until the reader has sampled counters in the middle of the count: on a busy machine the
                // reader may otherwise be off the CPU for the writer's whole run (about 70 ms), and the race this test
                // is about would not have happened (CI failed on that once). The rest of the run races freely.
                if (i == packets / 2) SpinWait.SpinUntil(() => Volatile.Read(ref sampledMidway) != 0, TimeSpan.FromSeconds(30));
                switch (plan[i] & 7)
                {
                    case 0 or 1 or 2: counters.Count(Verdict.Drop, (DropReason)(1 + plan[i] % 3)); break;
                    case 3: counters.Count(Verdict.Reject, (DropReason)4); break;
                    default: counters.Count(Verdict.Forward, DropReason.None); break;
                }
                if ((i & 1023) == 0) Volatile.Write(ref written, i);
            }
            Volatile.Write(ref written, packets);
        })
        { IsBackground = true };
        var v = new long[Counters.VerdictSlots];
        var r = new long[Counters.ReasonSlots];
        long lastTotal = -1;
        int samples = 0, midway = 0;
        writer.Start();
        while (true)
        {
            bool done = Volatile.Read(ref written) == packets;
            counters.Snapshot(v, r);
            samples++;
            long drops = v[(int)Verdict.Drop], rejects = v[(int)Verdict.Reject];
            long total = v.Sum();
            Assert.True(drops == r[1] + r[2] + r[3], $"sample {samples}: drop={drops} but reasons sum to {r[1] + r[2] + r[3]}");
            Assert.True(rejects == r[4], $"sample {samples}: reject={rejects} but its reason counts {r[4]}");
            Assert.True(total >= lastTotal, "counters went backwards");
            if (total > 0 && total < packets)
            {
                midway++;
                Volatile.Write(ref sampledMidway, 1);
            }
            lastTotal = total;
            if (done) break;
        }
        Assert.True(writer.Join(TimeSpan.FromMinutes(1)));
        Assert.Equal(packets, lastTotal);
        // The reader really raced the writer (on one core, samples still land between time slices).
        Assert.True(midway > 0, "no sample was taken while counting");
    }
}
