using DataPlane.FixtureBuilder;
using DataPlane.Maps;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Pipeline;

/// <summary>
/// The worker set: what each worker gets (its conntrack share, seed, index and flow ids), where steering sends a
/// connection, the summed counters, and that the set releases its tables' native memory.
/// </summary>
public sealed class WorkerSetTests
{
    static MapSetHolder World() => new(TestWorld.Build(backends: 1));

    public static TheoryData<int, int, int> Shares => new()
    {
        { 4096, 1, 4096 },  // one worker has the whole table
        { 4096, 2, 2048 },  // an exact split
        { 4096, 3, 1024 },  // 1365 per worker: the largest power of two below it
        { 4096, 4, 1024 },
        { 4096, 5, 512 },   // 819
        { 4096, 64, 64 },
        { 2, 4, 2 },        // a share is at least 2, even when the total is smaller than the worker count
        { 1, 1, 1 },        // a single pipeline keeps any power of two, 1 included
    };

    [Theory]
    [MemberData(nameof(Shares))]
    public void Each_worker_gets_its_share_and_otherwise_the_nodes_options(int total, int workers, int share)
    {
        var node = new PipelineOptions { CtCapacity = total, Seed = 41, SnatPortMin = 40000, SnatPortMax = 50000 };
        using var set = new WorkerSet(World(), node, workers);
        Assert.Equal(workers, set.Count);
        for (int i = 0; i < workers; i++)
        {
            Assert.Equal(node with { CtCapacity = share }, set[i].Options);
            Assert.Equal(share, set[i].Conntrack.Capacity);
        }
    }

    [Fact]
    public void Flow_ids_count_per_flow_class_so_one_id_names_one_connection_on_the_node()
    {
        const int n = 3;
        using var set = new WorkerSet(World(), new PipelineOptions { CtCapacity = 1 << 10 }, n);
        var seen = new HashSet<uint>();
        for (int k = 0; k < 5; k++)
            for (int c = 0; c < 2; c++)
            {
                // The c-th connection of flow class k (client port 40000 + k, 40000 mod 64 = 0; pod -> ClusterIP, DNAT
                // only) is c * 64 + k + 1, whichever worker owns class k.
                byte[] syn = Frames.TcpFrame($"10.244.1.{10 + c}", (ushort)(40000 + k), "10.96.0.10", 80, Frames.Tcp.Syn, 1, 0);
                var (v, r, _) = TestWorld.Run(set[set.WorkerFor(syn)], syn);
                Assert.Equal(Verdict.Forward, v);
                Assert.Equal((uint)(c * 64 + k + 1), r.FlowId);
                Assert.True(seen.Add(r.FlowId));
            }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void A_connection_to_a_frontend_goes_to_the_worker_that_owns_its_client_ports_flow_class(int n)
    {
        using var set = new WorkerSet(World(), new PipelineOptions { CtCapacity = 1 << 10 }, n);
        for (ushort port = 40000; port < 40016; port++)
            Assert.Equal((port & 63) % n, set.WorkerFor(Frames.TcpFrame("10.244.1.7", port, "10.96.0.10", 80, Frames.Tcp.Syn, 1, 0)));
    }

    [Fact]
    public void Summed_counters_count_every_frame_of_every_worker_once()
    {
        using var set = new WorkerSet(World(), new PipelineOptions { CtCapacity = 1 << 10 }, 3);
        int forwarded = 0, dropped = 0;
        for (ushort port = 40000; port < 40010; port++)
        {
            byte[] syn = Frames.TcpFrame("10.244.1.7", port, "10.96.0.10", 80, Frames.Tcp.Syn, 1, 0);
            TestWorld.Run(set[set.WorkerFor(syn)], syn);
            forwarded++;
        }
        for (int i = 0; i < 3; i++)
        {
            // A frame shorter than an Ethernet header: dropped, reason truncated-ethernet, on whichever worker runs it.
            TestWorld.Run(set[i], new byte[10]);
            dropped++;
        }
        var verdicts = new long[Counters.VerdictSlots];
        var reasons = new long[Counters.ReasonSlots];
        Array.Fill(verdicts, -1); // overwritten, not added to
        set.SumCounters(verdicts, reasons);
        Assert.Equal(forwarded, verdicts[(int)Verdict.Forward]);
        Assert.Equal(dropped, verdicts[(int)Verdict.Drop]);
        Assert.Equal(forwarded + dropped, verdicts.Sum());
        Assert.Equal(dropped, reasons[(int)DropReason.TruncatedEthernet]);
        Assert.Equal(dropped, reasons.Sum());
    }

    [Fact]
    public void Disposing_the_set_releases_every_worker_conntrack_memory()
    {
        var set = new WorkerSet(World(), new PipelineOptions { CtCapacity = 1 << 12 }, 4);
        PacketPipeline[] workers = [.. set.Pipelines];
        // 1024 connections per worker at 96 bytes each (a 64-byte entry and four 8-byte index slots).
        Assert.All(workers, p => Assert.Equal(1024L * 96, p.Conntrack.NativeBytes));
        set.Dispose();
        Assert.All(workers, p => Assert.Equal(0L, p.Conntrack.NativeBytes));
        set.Dispose(); // idempotent
        Assert.All(workers, p => Assert.Equal(0L, p.Conntrack.NativeBytes));
    }

    [Fact]
    public void A_pipeline_disposes_its_conntrack_and_a_set_over_a_callers_pipeline_leaves_it_alone()
    {
        var p = new PacketPipeline(World(), new PipelineOptions { CtCapacity = 1 << 8 });
        WorkerSet.Over(p).Dispose();
        Assert.Equal(256L * 96, p.Conntrack.NativeBytes);
        Assert.Equal(Verdict.Forward, TestWorld.Run(p, Frames.TcpFrame("10.244.1.7", 40000, "10.96.0.10", 80, Frames.Tcp.Syn, 1, 0)).V);
        p.Dispose();
        Assert.Equal(0L, p.Conntrack.NativeBytes);
        p.Dispose();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(WorkerSet.MaxWorkers + 1)]
    public void A_worker_count_outside_1_to_64_is_refused(int n) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerSet(World(), new PipelineOptions { CtCapacity = 1 << 10 }, n));
}
