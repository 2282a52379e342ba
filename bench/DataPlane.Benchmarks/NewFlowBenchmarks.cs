using BenchmarkDotNet.Attributes;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Benchmarks;

/// <summary>
/// What the new-flow benchmarks share: a ring of 64 k first packets (SYNs with distinct tuples), pushed through the
/// whole pipeline. New flows must never silently become hits or fill the table: at each lap of the ring the packet clock
/// jumps past the SYN timeout, so every connection of the previous lap has expired; when its tuple comes back, the
/// expired entry is deleted on the spot (conntrack lookup, as the kernel does) and a new connection is created, with a
/// new backend draw. So the numbers include one connection deletion per new connection, the cost every connection pays
/// once in a steady state. Each packet is checked to be forwarded as a NEW connection.
/// Baseline: <see cref="NaiveDataPlane"/> (PacketDotNet + Dictionaries), its connections cleared per lap (counted).
/// </summary>
public abstract class NewFlowBenchmarksBase : IDisposable
{
    protected const int Ring = 1 << 16;
    const long Lap = 120_000_000_000; // 2 min > SYN timeout (60 s)

    protected FramePool Frames = null!;
    byte[][] _arrays = [];
    protected PacketPipeline Pipeline = null!;

    /// <summary>Releases the tables' native memory once BenchmarkDotNet is done with this instance.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        Pipeline?.Dispose();
        GC.SuppressFinalize(this);
    }

    NaiveDataPlane _naive = null!;
    readonly byte[] _buffer = new byte[2048];
    readonly byte[] _reply = new byte[2048];
    int _cursor;
    long _now = BenchData.Now;

    protected void Init(MapSet maps)
    {
        Pipeline = new PacketPipeline(new MapSetHolder(maps), new PipelineOptions { CtCapacity = 2 * Ring });
        _naive = new NaiveDataPlane(maps);
        _arrays = Enumerable.Range(0, Ring).Select(Frames.ToArray).ToArray();
    }

    protected abstract bool Expected(in PacketResult r);

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public int Naive()
    {
        int ok = 0, c = _cursor;
        if (c == 0) _naive.Clear();
        for (int i = 0; i < BenchData.Batch; i++, c++)
            if (_naive.Process((byte[])_arrays[c].Clone()) is { } o && o.Length > 0) ok++;
        _cursor = c & (Ring - 1);
        return Check(ok);
    }

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int PipelineNewFlow()
    {
        int ok = 0, c = _cursor;
        if (c == 0) _now += Lap;
        Span<byte> buf = _buffer;
        for (int i = 0; i < BenchData.Batch; i++, c++)
        {
            Span<byte> f = Frames[c];
            f.CopyTo(buf);
            if (Pipeline.Process(buf.Slice(0, f.Length), _now, _reply, out PacketResult r) == Verdict.Forward && r.NewFlow && Expected(in r)) ok++;
        }
        _cursor = c & (Ring - 1);
        return Check(ok);
    }

    /// <summary>The same with the batch prefetch the replay issues (PacketPipeline.Prefetch 16 and 8 frames ahead).</summary>
    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int PipelineNewFlowPrefetched()
    {
        int ok = 0, c = _cursor;
        if (c == 0) _now += Lap;
        Span<byte> buf = _buffer;
        for (int i = 0; i < BenchData.Batch; i++, c++)
        {
            Pipeline.Prefetch(Frames[(c + 16) & (Ring - 1)], 1);
            Pipeline.Prefetch(Frames[(c + 8) & (Ring - 1)], 2);
            Span<byte> f = Frames[c];
            f.CopyTo(buf);
            if (Pipeline.Process(buf.Slice(0, f.Length), _now, _reply, out PacketResult r) == Verdict.Forward && r.NewFlow && Expected(in r)) ok++;
        }
        _cursor = c & (Ring - 1);
        return Check(ok);
    }

    static int Check(int ok) => ok == BenchData.Batch ? ok : throw new InvalidOperationException($"{BenchData.Batch - ok} of {BenchData.Batch} first packets were not new, translated flows");
}

/// <summary>
/// New ClusterIP flow (SYN from a pod: parse, CT miss, service lookup, backend selection, masquerade decision, CT
/// insert, DNAT), at 10 / 1 k / 10 k / 100 k services with 10 backends each (target in the README: at most 150 ns).
/// </summary>
[MemoryDiagnoser]
public class NewClusterIpFlowBenchmarks : NewFlowBenchmarksBase
{
    [ParamsSource(nameof(ServiceCounts))]
    public int Services;
    public static IEnumerable<int> ServiceCounts => Scale.Services;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        Frames = new FramePool(Ring);
        for (int i = 0; i < Ring; i++)
        {
            var (ip, port) = BenchCluster.PodClient(i);
            Frames.Add(i, IpProto.Tcp, ip, port, BenchCluster.Vip(rng.Next(Services)), 80, L4.TcpSyn);
        }
        Init(BenchCluster.Build(Services, 10));
    }

    protected override bool Expected(in PacketResult r) => !r.Masqueraded && BenchCluster.IsBackend(r.OutDstIp, r.OutDstPort);
}

/// <summary>
/// New NodePort flow with SNAT (SYN from an external client in 198.18.0.0/15 to 192.168.0.2:30000-30999: DNAT to one of
/// 10 backends and masquerade to the node address, keeping the client's port when it is in the SNAT range and free,
/// else a seeded random port with linear probing), 1 k NodePort services (target in the README: at most 250 ns).
/// </summary>
[MemoryDiagnoser]
public class NewNodePortFlowBenchmarks : NewFlowBenchmarksBase
{
    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        Frames = new FramePool(Ring);
        for (int i = 0; i < Ring; i++)
        {
            var (ip, port) = BenchCluster.ExternalClient(i, rng);
            Frames.Add(i, IpProto.Tcp, ip, port, BenchCluster.Node, (ushort)(BenchCluster.FirstNodePort + rng.Next(1000)), L4.TcpSyn);
        }
        Init(BenchCluster.Build(1000, 10, nodePorts: true));
    }

    protected override bool Expected(in PacketResult r) =>
        r.Masqueraded && r.OutSrcIp == BenchCluster.Node && BenchCluster.IsBackend(r.OutDstIp, r.OutDstPort);
}
