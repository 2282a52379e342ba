using BenchmarkDotNet.Attributes;
using DataPlane.Pipeline;
using DataPlane.Pipeline.Stages;
using PacketDotNet;

namespace DataPlane.Benchmarks;

/// <summary>Parse only: our fixed-offset span parse vs PacketDotNet's object-per-layer parse, per packet.</summary>
[MemoryDiagnoser]
public class ParseBenchmarks
{
    byte[][] _frames = [];

    [GlobalSetup]
    public void Setup() => _frames = BenchData.ClientFrames();

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public int PacketDotNetParse()
    {
        int ports = 0;
        foreach (byte[] f in _frames)
        {
            var tcp = Packet.ParsePacket(LinkLayers.Ethernet, f).Extract<TcpPacket>();
            ports += tcp.DestinationPort;
        }
        return Check(ports);
    }

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int SpanParse()
    {
        int ports = 0;
        foreach (byte[] f in _frames)
        {
            var ctx = new PacketContext { Frame = f, Length = f.Length };
            if (ParseStage.Run(ref ctx, null!, null!) == Verdict.Continue) ports += ctx.DstPort;
        }
        return Check(ports);
    }

    /// <summary>A benchmark that silently stops doing its work must fail, not get faster.</summary>
    static int Check(int ports) =>
        ports == 80 * BenchData.Batch ? ports : throw new InvalidOperationException($"parsed {ports / 80} of {BenchData.Batch} frames");
}
