using BenchmarkDotNet.Attributes;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Pipeline.Stages;

namespace DataPlane.Benchmarks;

/// <summary>
/// Backend selection with Maglev (cilium pkg/maglev, the Maglev paper) for 1 / 10 / 100 endpoints: hash the connection's 5-tuple, one load from
/// the frontend's 16381-slot table. Baseline: the default random selection (one draw, one slot load), same frontend.
/// Connections cycle through 4096 distinct client ports; the check verifies every pick is a backend and that Maglev
/// picks the same backend again for the same connection (what makes it consistent).
/// </summary>
[MemoryDiagnoser]
public class MaglevSelectBenchmarks : IDisposable
{
    [ParamsSource(nameof(BackendCounts))]
    public int Backends;
    public static IEnumerable<int> BackendCounts => Scale.BackendsPerService;

    MapSet _maps = null!;
    Lb4Service _random, _maglev;
    WorkerState _w = null!;
    DeterministicRandom _rng = new(1);
    int _port;

    /// <summary>Releases the tables' native memory once BenchmarkDotNet is done with this instance.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _w?.Dispose();
        GC.SuppressFinalize(this);
    }

    [GlobalSetup]
    public void Setup()
    {
        var b = new MapSetBuilder(BenchCluster.NodeInfo());
        ushort rev = b.AddServicePort("default/svc:http", BenchCluster.Vip(0), BenchCluster.ServicePort, IpProto.Tcp);
        uint[] ids = [.. Enumerable.Range(0, Backends).Select(j => b.AddBackend(Ip4.Parse("10.244.2.0") + 10 + (uint)j, 8080, IpProto.Tcp))];
        b.AddFrontend(new Lb4Key(BenchCluster.Vip(0), BenchCluster.ServicePort, IpProto.Tcp), rev, ServiceFlags.ClusterIp, ids);
        b.AddFrontend(new Lb4Key(BenchCluster.Vip(1), BenchCluster.ServicePort, IpProto.Tcp), rev, ServiceFlags.ClusterIp | ServiceFlags.Maglev, ids);
        _maps = b.Build(1);
        _random = _maps.Frontend(new Lb4Key(BenchCluster.Vip(0), BenchCluster.ServicePort, IpProto.Tcp));
        _maglev = _maps.Frontend(new Lb4Key(BenchCluster.Vip(1), BenchCluster.ServicePort, IpProto.Tcp));
        _w = new WorkerState(new PipelineOptions { CtCapacity = 64 }, _maps.Generation);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public long Random() => Select(_random, BenchCluster.Vip(0));

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public long Maglev()
    {
        long sum = Select(_maglev, BenchCluster.Vip(1));
        var again = new PacketContext { Service = _maglev, SrcIp = Ip4.Parse("10.244.1.5"), SrcPort = (ushort)(1024 + ((_port - 1) & 4095)), DstIp = BenchCluster.Vip(1), DstPort = BenchCluster.ServicePort, Proto = IpProto.Tcp };
        var first = again;
        BackendSelectStage.Run(ref again, _maps, _w);
        BackendSelectStage.Run(ref first, _maps, _w);
        return again.BackendId == first.BackendId ? sum : throw new InvalidOperationException("Maglev picked two backends for one connection");
    }

    long Select(Lb4Service service, uint vip)
    {
        long sum = 0;
        int hits = 0;
        for (int p = 0; p < BenchData.Batch; p++)
        {
            var ctx = new PacketContext
            {
                Service = service, SrcIp = Ip4.Parse("10.244.1.5"), SrcPort = (ushort)(1024 + (_port++ & 4095)),
                DstIp = vip, DstPort = BenchCluster.ServicePort, Proto = IpProto.Tcp,
            };
            if (BackendSelectStage.Run(ref ctx, _maps, _w) == Verdict.Continue && ctx.BackendId != 0) hits++;
            sum += ctx.BackendId;
        }
        return hits == BenchData.Batch ? sum : throw new InvalidOperationException($"{BenchData.Batch - hits} selections returned no backend");
    }
}

/// <summary>
/// Building one Maglev table (16381 slots, the default size) for 1 / 10 / 100 endpoints: what a service's endpoint
/// change costs the control plane per frontend backend list. Baseline: the non-consistent alternative, filling the
/// same table with <c>ids[slot % n]</c> (hash-mod-N: every change remaps almost every flow).
/// </summary>
[MemoryDiagnoser]
public class MaglevBuildBenchmarks
{
    [ParamsSource(nameof(BackendCounts))]
    public int Backends;
    public static IEnumerable<int> BackendCounts => Scale.BackendsPerService;

    uint[] _ids = [];
    readonly uint[] _table = new uint[MaglevTable.DefaultSize];

    [GlobalSetup]
    public void Setup() => _ids = [.. Enumerable.Range(1, Backends).Select(i => (uint)i)];

    [Benchmark(Baseline = true)]
    public uint ModuloTable()
    {
        uint[] ids = _ids;
        for (int i = 0; i < _table.Length; i++) _table[i] = ids[i % ids.Length];
        return Check();
    }

    [Benchmark]
    public uint BuildMaglevTable()
    {
        MaglevTable.Build(_ids, id => (Ip4.Parse("10.244.2.0") + id, (ushort)8080), _table);
        return Check();
    }

    uint Check() => Array.IndexOf(_table, 0u) < 0 ? _table[^1] : throw new InvalidOperationException("table has empty slots");
}
