using System.Net;
using BenchmarkDotNet.Attributes;
using DataPlane.Maps;
using DataPlane.Pipeline;
using PacketDotNet;

namespace DataPlane.Benchmarks;

/// <summary>
/// The full pipeline for packets of established ClusterIP flows (a hot set of 512 flows): parse, conntrack hit, DNAT
/// with incremental checksums, TTL. Each packet is first copied from its template (the pipeline rewrites in place), in
/// both benchmarks. Baseline: PacketDotNet parse + rewrite + full checksum recompute + serialise.
/// </summary>
[MemoryDiagnoser]
public class EstablishedFlowBenchmarks
{
    byte[][] _frames = [];
    byte[] _buffer = new byte[2048];
    byte[] _reply = new byte[2048];
    PacketPipeline _pipeline = null!;
    static readonly IPAddress Backend = IPAddress.Parse("10.244.2.10");

    [GlobalSetup]
    public void Setup()
    {
        _frames = BenchData.ClientFrames();
        _pipeline = new PacketPipeline(new MapSetHolder(BenchData.Maps()), new PipelineOptions { CtCapacity = 1 << 16 });
        // Establish every flow once, so the measured packets all hit conntrack.
        foreach (byte[] f in _frames) _pipeline.Process((byte[])f.Clone(), BenchData.Now, _reply, out int _);
        if (_pipeline.Conntrack.Count != BenchData.Batch) throw new InvalidOperationException("flows not established");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public int PacketDotNetRewrite()
    {
        int n = 0;
        foreach (byte[] f in _frames)
        {
            var eth = Packet.ParsePacket(LinkLayers.Ethernet, f);
            var ip = eth.Extract<IPv4Packet>();
            var tcp = eth.Extract<TcpPacket>();
            ip.DestinationAddress = Backend;
            tcp.DestinationPort = 8080;
            ip.TimeToLive--;
            tcp.UpdateTcpChecksum();
            ip.UpdateIPChecksum();
            n += eth.Bytes.Length > 0 ? 1 : 0;
        }
        return Check(n);
    }

    /// <summary>Copy + the whole program (parse, CT hit, DNAT, TTL, GC step, the report behind verdict lines).</summary>
    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int Pipeline()
    {
        int n = 0;
        Span<byte> buf = _buffer;
        foreach (byte[] f in _frames)
        {
            f.CopyTo(buf);
            if (_pipeline.Process(buf.Slice(0, f.Length), BenchData.Now, _reply, out int _) == Verdict.Forward) n++;
        }
        return Check(n);
    }

    static int Check(int forwarded) =>
        forwarded == BenchData.Batch ? forwarded : throw new InvalidOperationException($"forwarded {forwarded} of {BenchData.Batch}");
}
