using BenchmarkDotNet.Attributes;
using DataPlane.IO.Pcap;
using DataPlane.Pipeline;
using DataPlane.Pipeline.Stages;

namespace DataPlane.Benchmarks;

/// <summary>
/// What reading a <c>tcpdump -i any</c> capture costs over an Ethernet one: the replay copies every frame into its
/// batch buffer anyway; for LINUX_SLL that copy also writes the synthesized Ethernet header. Per frame, copy + parse.
/// </summary>
[MemoryDiagnoser]
public class LinkLayerBenchmarks
{
    byte[][] _ethernet = [], _sll = [];
    readonly byte[] _buffer = new byte[2048 + LinkLayer.MaxGrowth];

    [GlobalSetup]
    public void Setup()
    {
        _ethernet = BenchData.ClientFrames();
        // The same packets as a cooked capture: packet type HOST, ARPHRD_ETHER, the source MAC as address, IPv4.
        _sll = [.. _ethernet.Select(f => (byte[])[0, 0, 0, 1, 0, 6, .. f.AsSpan(6, 6), 0, 0, 0x08, 0x00, .. f.AsSpan(14)])];
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public int EthernetCopyAndParse() => Run(_ethernet, LinkType.Ethernet);

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int SllConvertAndParse() => Run(_sll, LinkType.LinuxSll);

    int Run(byte[][] frames, LinkType link)
    {
        int ports = 0;
        foreach (byte[] f in frames)
        {
            if (LinkLayer.ToEthernet(link, f, _buffer, out int length) != LinkFrameKind.Received) continue;
            var ctx = new PacketContext { Frame = _buffer, Length = length };
            if (ParseStage.Run(ref ctx, null!, null!) == Verdict.Continue) ports += ctx.DstPort;
        }
        return Check(ports);
    }

    /// <summary>A benchmark that silently stops doing its work must fail, not get faster.</summary>
    static int Check(int ports) =>
        ports == 80 * BenchData.Batch ? ports : throw new InvalidOperationException($"parsed {ports / 80} of {BenchData.Batch} frames");
}
