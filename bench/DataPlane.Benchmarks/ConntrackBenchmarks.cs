using System.Numerics;
using BenchmarkDotNet.Attributes;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Pipeline.Stages;

namespace DataPlane.Benchmarks;

/// <summary>Live connections for the conntrack benchmarks: pod clients to pool backends, never expiring.</summary>
static class LiveTable
{
    public static CtTuple4 Original(int i) { var (ip, port) = BenchCluster.PodClient(i); return new(ip, port, BenchCluster.Vip(i % 1000), 80, IpProto.Tcp); }
    public static CtTuple4 Reply(int i) { var o = Original(i); return new(BenchCluster.BackendBase + (uint)(i & 0x7FFF), 8080, o.SrcIp, o.SrcPort, IpProto.Tcp); }

    /// <summary>A table holding <paramref name="flows"/> live connections (generation 1, expiring never).</summary>
    public static ConntrackMap Fill(int flows, int capacity)
    {
        var ct = new ConntrackMap(capacity);
        for (int i = 0; i < flows; i++)
        {
            if (ct.TryCreate(Original(i), Reply(i), out int e) != MapStatus.Ok) throw new InvalidOperationException("fill failed");
            ct[e].ExpiresNs = long.MaxValue;
            ct[e].Generation = 1;
            ct[e].Flags |= CtFlags.Dnat;
        }
        return ct;
    }

    public static int CapacityFor(int flows) => (int)BitOperations.RoundUpToPowerOf2((uint)flows + BenchData.Batch);
}

/// <summary>
/// Conntrack hit (ConntrackStage.Lookup: index probe, tuple compare, expiry/generation checks) with 1 k and 1 M live
/// connections; lookups cycle through a 64 k ring of seeded random live tuples, so at 1 M nearly every lookup misses the
/// caches (index line + entry line). Baseline: the previous algorithm, a BCL Dictionary from tuple to entry index.
/// </summary>
[MemoryDiagnoser]
public class ConntrackHitBenchmarks : IDisposable
{
    const int Ring = 1 << 16;

    [ParamsSource(nameof(FlowCounts))]
    public int LiveFlows;
    public static IEnumerable<int> FlowCounts => Scale.LiveFlows;

    WorkerState _w = null!;
    ConntrackMap _ct = null!;
    MapSet _maps = null!;
    Dictionary<CtTuple4, int> _dictionary = null!;
    CtTuple4[] _ring = [];
    int _cursor;

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
        _ct = LiveTable.Fill(LiveFlows, LiveTable.CapacityFor(LiveFlows));
        _maps = BenchCluster.Build(1, 1);
        _w = new WorkerState(new PipelineOptions { CtCapacity = _ct.Capacity }, _maps.Generation, _ct);
        _dictionary = new Dictionary<CtTuple4, int>(2 * LiveFlows);
        for (int i = 0; i < LiveFlows; i++) { _dictionary[LiveTable.Original(i)] = i; _dictionary[LiveTable.Reply(i)] = i; }
        var rng = new Random(42);
        _ring = new CtTuple4[Ring];
        for (int i = 0; i < Ring; i++) _ring[i] = LiveTable.Original(rng.Next(LiveFlows));
        Console.WriteLine($"// conntrack: {LiveFlows} live flows, capacity {_ct.Capacity}, {ConntrackMap.BytesPerFlow} B per flow preallocated");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public int Dictionary()
    {
        int hits = 0, c = _cursor;
        for (int i = 0; i < BenchData.Batch; i++, c = (c + 1) & (Ring - 1))
            if (_dictionary.TryGetValue(_ring[c], out int e) && e >= 0) hits++;
        _cursor = c;
        return Check(hits);
    }

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int LookupStage()
    {
        int hits = 0, c = _cursor;
        for (int i = 0; i < BenchData.Batch; i++, c = (c + 1) & (Ring - 1))
        {
            ref readonly CtTuple4 t = ref _ring[c];
            var ctx = new PacketContext { SrcIp = t.SrcIp, SrcPort = t.SrcPort, DstIp = t.DstIp, DstPort = t.DstPort, Proto = t.Proto, NowNs = BenchData.Now };
            if (ConntrackStage.Lookup(ref ctx, _maps, _w) == Verdict.Forward) hits++;
        }
        _cursor = c;
        return Check(hits);
    }

    static int Check(int hits) => hits == BenchData.Batch ? hits : throw new InvalidOperationException($"{BenchData.Batch - hits} conntrack misses on live flows");
}

/// <summary>
/// Conntrack insert into a table already holding 1 k / 1 M live connections: 512 new connections (both tuples indexed,
/// BPF_NOEXIST on each) and then their deletion, so the table never fills and no tuple repeats while live; the numbers
/// are insert + delete per connection, the steady-state cost every connection pays once. Baseline: the previous
/// algorithm, a BCL Dictionary with both tuples added and removed.
/// </summary>
[MemoryDiagnoser]
public class ConntrackInsertBenchmarks
{
    const int Ring = 1 << 16;

    [ParamsSource(nameof(FlowCounts))]
    public int LiveFlows;
    public static IEnumerable<int> FlowCounts => Scale.LiveFlows;

    ConntrackMap _ct = null!;
    Dictionary<CtTuple4, int> _dictionary = null!;
    CtTuple4[] _original = [], _reply = [];
    readonly int[] _created = new int[BenchData.Batch];
    int _cursor;

    [GlobalSetup]
    public void Setup()
    {
        _ct = LiveTable.Fill(LiveFlows, LiveTable.CapacityFor(LiveFlows));
        _dictionary = new Dictionary<CtTuple4, int>(2 * LiveFlows + 2 * BenchData.Batch);
        for (int i = 0; i < LiveFlows; i++) { _dictionary[LiveTable.Original(i)] = i; _dictionary[LiveTable.Reply(i)] = i; }
        // New connections: clients beyond the live ones (distinct tuples), shuffled.
        var rng = new Random(42);
        _original = new CtTuple4[Ring];
        _reply = new CtTuple4[Ring];
        int[] perm = Enumerable.Range(0, Ring).ToArray();
        rng.Shuffle(perm);
        for (int i = 0; i < Ring; i++)
        {
            int k = LiveFlows + perm[i];
            _original[i] = LiveTable.Original(k);
            _reply[i] = LiveTable.Reply(k);
        }
        for (int i = 0; i < Ring; i++) // a duplicate within a batch would be Exists: make the ring distinct
            if (_dictionary.ContainsKey(_original[i])) throw new InvalidOperationException("ring overlaps live flows");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public int Dictionary()
    {
        int ok = 0, c = _cursor;
        var d = _dictionary;
        for (int i = 0; i < BenchData.Batch; i++)
        {
            int k = (c + i) & (Ring - 1);
            if (d.TryAdd(_reply[k], k) && d.TryAdd(_original[k], k)) ok++;
        }
        for (int i = 0; i < BenchData.Batch; i++)
        {
            int k = (c + i) & (Ring - 1);
            d.Remove(_reply[k]);
            d.Remove(_original[k]);
        }
        _cursor = (c + BenchData.Batch) & (Ring - 1);
        return Check(ok, d.Count / 2);
    }

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int TryCreateThenDelete()
    {
        int ok = 0, c = _cursor;
        ConntrackMap ct = _ct;
        for (int i = 0; i < BenchData.Batch; i++)
        {
            int k = (c + i) & (Ring - 1);
            if (ct.TryCreate(_original[k], _reply[k], out _created[i], BenchData.Now) == MapStatus.Ok) ok++;
        }
        for (int i = 0; i < BenchData.Batch; i++) ct.Delete(_created[i]);
        _cursor = (c + BenchData.Batch) & (Ring - 1);
        return Check(ok, ct.Count);
    }

    int Check(int ok, int live) =>
        ok == BenchData.Batch && live == LiveFlows ? ok : throw new InvalidOperationException($"inserted {ok} of {BenchData.Batch}; {live} live, expected {LiveFlows}");
}
