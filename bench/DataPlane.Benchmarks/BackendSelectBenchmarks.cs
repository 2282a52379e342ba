using BenchmarkDotNet.Attributes;
using DataPlane.Maps;
using DataPlane.Pipeline;
using DataPlane.Pipeline.Stages;

namespace DataPlane.Benchmarks;

/// <summary>
/// Backend selection for a new connection with 1 / 10 / 100 endpoints: the stage draws one slot (cilium
/// <c>(prandom % count) + 1</c>). Baseline: the previous algorithm, kube-proxy's iptables cascade, a linear walk over
/// the service's endpoint rules where rule i matches with probability 1/(n - i) (<c>-m statistic --mode random
/// --probability</c>), one draw per rule tried; same generator for both.
/// </summary>
[MemoryDiagnoser]
public class BackendSelectBenchmarks : IDisposable
{
    [ParamsSource(nameof(BackendCounts))]
    public int Backends;
    public static IEnumerable<int> BackendCounts => Scale.BackendsPerService;

    MapSet _maps = null!;
    Lb4Service _service;
    uint[] _ids = [];
    WorkerState _w = null!;
    DeterministicRandom _rng = new(1);

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
        _maps = BenchCluster.Build(1, Backends);
        _service = _maps.Services.Lookup(new Lb4Key(BenchCluster.Vip(0), BenchCluster.ServicePort, Packets.IpProto.Tcp));
        _ids = _maps.BackendSlots.AsSpan((int)_service.SlotOffset, _service.Count).ToArray();
        if (_ids.Length != Backends) throw new InvalidOperationException("service not built");
        _w = new WorkerState(new PipelineOptions { CtCapacity = 64 }, _maps.Generation);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public long IptablesCascade()
    {
        long sum = 0;
        int hits = 0;
        uint[] ids = _ids;
        int n = ids.Length;
        for (int p = 0; p < BenchData.Batch; p++)
        {
            uint id = 0;
            for (int i = 0; i < n; i++)
                if (i == n - 1 || _rng.Next((uint)(n - i)) == 0) { id = ids[i]; break; }
            sum += id;
            if (id != 0) hits++;
        }
        return Check(hits, sum);
    }

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public long SelectStage()
    {
        long sum = 0;
        int hits = 0;
        for (int p = 0; p < BenchData.Batch; p++)
        {
            var ctx = new PacketContext { Service = _service };
            if (BackendSelectStage.Run(ref ctx, _maps, _w) == Verdict.Continue && ctx.BackendId != 0) hits++;
            sum += ctx.BackendId;
        }
        return Check(hits, sum);
    }

    // Every selection must land on a real backend id (ids start at 1).
    static long Check(int hits, long sum) => hits == BenchData.Batch ? sum : throw new InvalidOperationException($"{BenchData.Batch - hits} selections returned no backend");
}
