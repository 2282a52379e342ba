using BenchmarkDotNet.Attributes;
using DataPlane.Pipeline;

namespace DataPlane.Benchmarks;

/// <summary>
/// What the counters' seqlock costs the packet path: counting 4096 verdicts (a mix of forwards and drops with
/// reasons) with <see cref="Counters.Count"/>, which brackets each update with two sequence stores so a control
/// client can take a consistent snapshot, against the same increments without the sequence (Baseline, the previous
/// implementation copied here). Per operation = per packet.
/// </summary>
[MemoryDiagnoser]
public class CountersBenchmarks
{
    const int Packets = 4096;
    readonly Verdict[] _verdicts = new Verdict[Packets];
    readonly DropReason[] _reasons = new DropReason[Packets];
    readonly long[] _plainVerdicts = new long[8];
    readonly long[] _plainReasons = new long[64];
    Counters _counters = new();

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(5);
        for (int i = 0; i < Packets; i++)
        {
            bool drop = rng.Next(4) == 0;
            _verdicts[i] = drop ? Verdict.Drop : Verdict.Forward;
            _reasons[i] = drop ? (DropReason)rng.Next(1, 8) : DropReason.None;
        }
        _counters = new Counters();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Packets)]
    public long PlainIncrements()
    {
        for (int i = 0; i < Packets; i++)
        {
            _plainVerdicts[(int)_verdicts[i]]++;
            if (_reasons[i] != DropReason.None) _plainReasons[(int)_reasons[i] & 63]++;
        }
        long forwards = _plainVerdicts[(int)Verdict.Forward];
        return forwards > 0 && forwards % 1 == 0 ? forwards : throw new InvalidOperationException("nothing counted");
    }

    [Benchmark(OperationsPerInvoke = Packets)]
    public long SeqlockCount()
    {
        for (int i = 0; i < Packets; i++) _counters.Count(_verdicts[i], _reasons[i]);
        long forwards = _counters.Verdicts(Verdict.Forward);
        return forwards > 0 ? forwards : throw new InvalidOperationException("nothing counted");
    }
}
