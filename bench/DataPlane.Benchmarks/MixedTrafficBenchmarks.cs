using BenchmarkDotNet.Attributes;
using DataPlane.Kubernetes;
using DataPlane.Maps;
using DataPlane.Pipeline;

namespace DataPlane.Benchmarks;

/// <summary>
/// Mixed realistic traffic (<see cref="TrafficMix"/>: handshakes, data both ways, DNS, statsd, NodePort clients,
/// non-service traffic) against the bundled cluster, pcaps/cluster as compiled for node-1. A ring of 16 k frames is
/// replayed; at each lap the clock moves 7 h on (past every timeout), so each lap does exactly what the first did: new
/// connections, hits, replies, passes. The check: every lap forwards as many frames as a fresh pipeline did on the same
/// frames. Baseline: <see cref="NaiveDataPlane"/> (its connections cleared per lap).
/// </summary>
[MemoryDiagnoser]
public class MixedTrafficBenchmarks : IDisposable
{
    const int Ring = 1 << 14;
    const long Lap = 7L * 3600 * 1_000_000_000;

    FramePool _frames = null!;
    long[] _time = [];
    byte[][] _arrays = [];
    PacketPipeline _pipeline = null!;
    NaiveDataPlane _naive = null!;
    readonly byte[] _buffer = new byte[2048];
    readonly byte[] _reply = new byte[2048];
    int _cursor, _lapForwards, _expectedForwards;
    long _offset;

    /// <summary>Releases the tables' native memory once BenchmarkDotNet is done with this instance.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _pipeline?.Dispose();
        GC.SuppressFinalize(this);
    }

    [GlobalSetup]
    public void Setup()
    {
        MapSet maps = ControlPlane.LoadAndCompile(Path.Combine(TrafficMix.RepoRoot(), "pcaps", "cluster"), "node-1");
        var mix = new TrafficMix(maps);
        _frames = new FramePool(Ring, 1536);
        _time = new long[Ring];
        for (int i = 0; i < Ring; i++)
        {
            _frames.SetLength(i, mix.Next(_frames.Slot(i)));
            _time[i] = mix.NowNs;
        }
        _arrays = Enumerable.Range(0, Ring).Select(_frames.ToArray).ToArray();
        var fresh = new PacketPipeline(new MapSetHolder(maps));
        for (int i = 0; i < Ring; i++)
            if (fresh.Process(_frames.ToArray(i), _time[i], _reply, out PacketResult _) == Verdict.Forward) _expectedForwards++;
        var v = Enum.GetValues<Verdict>().Select(x => $"{x}={fresh.Counters.Verdicts(x)}");
        Console.WriteLine($"// mixed traffic ring: {Ring} frames, {string.Join(' ', v)}");
        if (_expectedForwards < Ring / 2) throw new InvalidOperationException("the mix should be mostly forwarded");
        _pipeline = new PacketPipeline(new MapSetHolder(maps));
        _naive = new NaiveDataPlane(maps);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public int Naive()
    {
        int ok = 0, c = _cursor;
        if (c == 0) _naive.Clear();
        for (int i = 0; i < BenchData.Batch; i++, c++)
            if (_naive.Process((byte[])_arrays[c].Clone()) is not null) ok++;
        _cursor = c & (Ring - 1);
        return ok > 0 ? ok : throw new InvalidOperationException("naive forwarded nothing");
    }

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int Pipeline()
    {
        int ok = 0, c = _cursor;
        if (c == 0)
        {
            if (_offset != 0 && _lapForwards != _expectedForwards)
                throw new InvalidOperationException($"a lap forwarded {_lapForwards} frames, a fresh pipeline {_expectedForwards}");
            _offset += Lap;
            _lapForwards = 0;
        }
        Span<byte> buf = _buffer;
        for (int i = 0; i < BenchData.Batch; i++, c++)
        {
            Span<byte> f = _frames[c];
            f.CopyTo(buf);
            if (_pipeline.Process(buf.Slice(0, f.Length), _time[c] + _offset, _reply, out PacketResult _) == Verdict.Forward) ok++;
        }
        _cursor = c & (Ring - 1);
        _lapForwards += ok;
        return ok > 0 ? ok : throw new InvalidOperationException("pipeline forwarded nothing");
    }
}
