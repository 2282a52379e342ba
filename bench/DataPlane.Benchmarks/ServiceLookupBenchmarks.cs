using BenchmarkDotNet.Attributes;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Pipeline.Stages;

namespace DataPlane.Benchmarks;

/// <summary>
/// Frontend lookup (cilium lb4_lookup_service) at 10 / 1 k / 10 k / 100 k services; the flatness target is
/// lookup at 100 k within 1.3x of lookup at 10. Destinations are drawn (seeded) from all services and cycled through a
/// 64 k ring, so at large scale the lookups touch cold map lines as real traffic would (512 repeated keys would stay in
/// L1). Baseline: the previous algorithm, a BCL Dictionary keyed by the same Lb4Key.
/// </summary>
[MemoryDiagnoser]
public class ServiceLookupBenchmarks
{
    const int Ring = 1 << 16;

    [ParamsSource(nameof(ServiceCounts))]
    public int Services;
    public static IEnumerable<int> ServiceCounts => Scale.Services;

    MapSet _maps = null!;
    Dictionary<Lb4Key, Lb4Service> _dictionary = null!;
    uint[] _dst = [];
    int _cursor;

    [GlobalSetup]
    public void Setup()
    {
        _maps = BenchCluster.Build(Services, 1);
        _dictionary = [];
        _maps.Services.ForEach((k, v) => _dictionary[k] = v);
        var rng = new Random(42);
        _dst = new uint[Ring];
        for (int i = 0; i < Ring; i++) _dst[i] = BenchCluster.Vip(rng.Next(Services));
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public int Dictionary()
    {
        int hits = 0, c = _cursor;
        for (int i = 0; i < BenchData.Batch; i++, c = (c + 1) & (Ring - 1))
            if (_dictionary.TryGetValue(new Lb4Key(_dst[c], BenchCluster.ServicePort, IpProto.Tcp), out Lb4Service s) && s.Count != 0) hits++;
        _cursor = c;
        return Check(hits);
    }

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int LookupStage()
    {
        int hits = 0, c = _cursor;
        MapSet maps = _maps;
        for (int i = 0; i < BenchData.Batch; i++, c = (c + 1) & (Ring - 1))
        {
            var ctx = new PacketContext { DstIp = _dst[c], DstPort = BenchCluster.ServicePort, Proto = IpProto.Tcp };
            if (ServiceLookupStage.Run(ref ctx, maps, null!) == Verdict.Continue && ctx.Service.Count != 0) hits++;
        }
        _cursor = c;
        return Check(hits);
    }

    /// <summary>The same lookups with the frontend slot of the key 8 ahead prefetched, as the batched data path does.</summary>
    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int LookupStagePrefetched()
    {
        int hits = 0, c = _cursor;
        MapSet maps = _maps;
        for (int i = 0; i < BenchData.Batch; i++, c = (c + 1) & (Ring - 1))
        {
            maps.Services.Prefetch(new Lb4Key(_dst[(c + 8) & (Ring - 1)], BenchCluster.ServicePort, IpProto.Tcp));
            var ctx = new PacketContext { DstIp = _dst[c], DstPort = BenchCluster.ServicePort, Proto = IpProto.Tcp };
            if (ServiceLookupStage.Run(ref ctx, maps, null!) == Verdict.Continue && ctx.Service.Count != 0) hits++;
        }
        _cursor = c;
        return Check(hits);
    }

    static int Check(int hits) => hits == BenchData.Batch ? hits : throw new InvalidOperationException($"found {hits} of {BenchData.Batch} services");
}
