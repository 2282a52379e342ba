using BenchmarkDotNet.Attributes;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Benchmarks;

/// <summary>
/// What the stage log costs: established ClusterIP flows (1 k live, pod clients to 100 services x 10 backends, as in
/// <see cref="EstablishedFlowBenchmarks"/>) through one pipeline, untraced (the replay path: <c>Log</c> null, the
/// runner's <see cref="Untraced"/> instantiation) against traced (every stage's record copied). The untraced path's cost against the runner without
/// the recording lines is EstablishedFlowBenchmarks.Pipeline before/after (README, "trace").
/// </summary>
[MemoryDiagnoser]
public class StageLogBenchmarks
{
    const int Flows = 1_000;
    FramePool _ring = null!;
    readonly byte[] _buffer = new byte[2048];
    readonly byte[] _reply = new byte[2048];
    readonly StageLog _log = new();
    PacketPipeline _pipeline = null!;
    int _cursor;

    [GlobalSetup]
    public void Setup()
    {
        const int services = 100;
        _pipeline = BenchCluster.Established(Flows, services, _reply);
        int ring = 1024;
        _ring = new FramePool(ring);
        for (int k = 0; k < ring; k++)
        {
            var (ip, port) = BenchCluster.PodClient(k % Flows);
            _ring.Add(k, IpProto.Tcp, ip, port, BenchCluster.Vip(k % Flows % services), 80, L4.TcpAck, 64);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public int Untraced()
    {
        _pipeline.Log = null;
        return Run(expectRecords: 0);
    }

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int Traced()
    {
        _pipeline.Log = _log;
        return Run(expectRecords: 5); // parse, conntrack hit, ttl, nat, verdict
    }

    int Run(int expectRecords)
    {
        _log.Clear();
        int n = 0, c = _cursor, mask = _ring.Count - 1;
        Span<byte> buf = _buffer;
        PacketResult r = default;
        for (int i = 0; i < BenchData.Batch; i++, c = (c + 1) & mask)
        {
            Span<byte> f = _ring[c];
            f.CopyTo(buf);
            if (_pipeline.Process(buf.Slice(0, f.Length), BenchData.Now, _reply, out r) == Verdict.Forward && !r.NewFlow) n++;
        }
        _cursor = c;
        return n == BenchData.Batch && _log.Count == expectRecords && BenchCluster.IsBackend(r.OutDstIp, r.OutDstPort)
            ? n
            : throw new InvalidOperationException($"forwarded {n} of {BenchData.Batch}, {_log.Count} records (expected {expectRecords})");
    }
}
