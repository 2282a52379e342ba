using BenchmarkDotNet.Attributes;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Benchmarks;

/// <summary>
/// The reply path end to end: backends answering 4096 established NodePort connections (backend:8080 ->
/// 192.168.0.2:natPort, 64 B payload) through the whole pipeline: parse, conntrack hit on the reply tuple, reverse
/// DNAT and un-SNAT with incremental checksums. Baseline: <see cref="NaiveDataPlane"/> on the replies to its own
/// connections (same clients, its own NAT choices).
/// </summary>
[MemoryDiagnoser]
public class ReplyPathBenchmarks : IDisposable
{
    const int Flows = 4096;

    PacketPipeline _pipeline = null!;
    NaiveDataPlane _naive = null!;
    FramePool _replies = null!;
    byte[][] _naiveReplies = [];
    uint[] _client = [];
    readonly byte[] _buffer = new byte[2048];
    readonly byte[] _reply = new byte[2048];
    int _cursor;

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
        MapSet maps = BenchCluster.Build(1000, 10, nodePorts: true);
        _pipeline = new PacketPipeline(new MapSetHolder(maps), new PipelineOptions { CtCapacity = 4 * Flows });
        _naive = new NaiveDataPlane(maps);
        _replies = new FramePool(Flows);
        _naiveReplies = new byte[Flows][];
        _client = new uint[Flows];
        var rng = new Random(42);
        Span<byte> syn = stackalloc byte[128];
        for (int i = 0; i < Flows; i++)
        {
            var (ip, port) = BenchCluster.ExternalClient(i, rng);
            ushort nodePort = (ushort)(BenchCluster.FirstNodePort + rng.Next(1000));
            int n = BenchFrames.Write(syn, IpProto.Tcp, ip, port, BenchCluster.Node, nodePort, L4.TcpSyn);
            byte[] copy = syn.Slice(0, n).ToArray();
            if (_pipeline.Process(syn.Slice(0, n), BenchData.Now, _reply, out PacketResult r) != Verdict.Forward)
                throw new InvalidOperationException($"setup: {r.Verdict} {r.Reason}");
            // The reply comes from the backend to the translated source.
            _replies.Add(i, IpProto.Tcp, r.OutDstIp, r.OutDstPort, r.OutSrcIp, r.OutSrcPort, L4.TcpSyn | L4.TcpAck, 64);
            byte[] naiveOut = _naive.Process(copy) ?? throw new InvalidOperationException("naive setup");
            var b = new byte[128];
            int m = BenchFrames.Write(b, IpProto.Tcp, BenchFrames.DstIp(naiveOut), BenchFrames.DstPort(naiveOut), BenchFrames.SrcIp(naiveOut),
                BenchFrames.SrcPort(naiveOut), L4.TcpSyn | L4.TcpAck, 64);
            _naiveReplies[i] = b.AsSpan(0, m).ToArray();
            _client[i] = ip;
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public int Naive()
    {
        int ok = 0, c = _cursor;
        for (int i = 0; i < BenchData.Batch; i++, c = (c + 1) & (Flows - 1))
            if (_naive.Process((byte[])_naiveReplies[c].Clone()) is { } o && BenchFrames.DstIp(o) == _client[c]) ok++;
        _cursor = c;
        return Check(ok);
    }

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int Pipeline()
    {
        int ok = 0, c = _cursor;
        Span<byte> buf = _buffer;
        for (int i = 0; i < BenchData.Batch; i++, c = (c + 1) & (Flows - 1))
        {
            Span<byte> f = _replies[c];
            f.CopyTo(buf);
            if (_pipeline.Process(buf.Slice(0, f.Length), BenchData.Now, _reply, out PacketResult r) == Verdict.Forward
                && r.Direction == CtDirection.Reply && r.OutDstIp == _client[c]) ok++;
        }
        _cursor = c;
        return Check(ok);
    }

    static int Check(int ok) => ok == BenchData.Batch ? ok : throw new InvalidOperationException($"{BenchData.Batch - ok} replies not translated back to the client");
}
