using BenchmarkDotNet.Attributes;
using DataPlane.Maps;

namespace DataPlane.Benchmarks;

/// <summary>
/// Garbage collection cost per expired connection, in a 2^20-entry table (2^16 in the dry run) that is full
/// except for one slot in 16: each invocation creates 65536 connections in those slots, already expired, then removes
/// them. Baseline: deleting each by its index, as a caller that knew exactly which ones expired would (create + delete,
/// no search). GcSweep: the incremental collector run over the whole table (every slot inspected, the 1-in-16 expired
/// ones deleted, CT and NAT binding together), the way the pipeline runs it a few slots per packet. The difference is
/// the sweep's share: the cost of finding expired entries, per expired entry, at this density.
/// </summary>
[MemoryDiagnoser]
public class GcBenchmarks
{
    const int Expired = 1 << 16;

    ConntrackMap _ct = null!;
    CtTuple4[] _original = [], _reply = [];
    readonly int[] _created = new int[Expired];
    int _capacity, _expired;

    [GlobalSetup]
    public void Setup()
    {
        _capacity = Scale.Pick(1 << 20, 1 << 16);
        _expired = _capacity / 16; // OperationsPerInvoke is Expired: the dry run's numbers are not per entry
        _ct = LiveTable.Fill(_capacity, _capacity);
        for (int i = 0; i < _capacity; i += 16) _ct.Delete(i); // free one slot in 16
        _original = new CtTuple4[_expired];
        _reply = new CtTuple4[_expired];
        for (int i = 0; i < _expired; i++) { _original[i] = LiveTable.Original(_capacity + i); _reply[i] = LiveTable.Reply(_capacity + i); }
        if (_ct.Count != _capacity - _expired) throw new InvalidOperationException("setup");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Expired)]
    public int CreateThenDelete()
    {
        Create();
        for (int i = 0; i < _expired; i++) _ct.Delete(_created[i]);
        return Check(_expired);
    }

    [Benchmark(OperationsPerInvoke = Expired)]
    public int CreateThenGcSweep()
    {
        Create();
        return Check(_ct.Collect(BenchData.Now, _capacity));
    }

    void Create()
    {
        for (int i = 0; i < _expired; i++)
            if (_ct.TryCreate(_original[i], _reply[i], out _created[i], BenchData.Now) != MapStatus.Ok) throw new InvalidOperationException("create failed");
    }

    int Check(int deleted) =>
        deleted == _expired && _ct.Count == _capacity - _expired ? deleted : throw new InvalidOperationException($"GC deleted {deleted} of {_expired}");
}
