using BenchmarkDotNet.Attributes;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Pipeline.Stages;

namespace DataPlane.Benchmarks;

/// <summary>
/// What SCTP's CRC32c costs a DNAT, against TCP in the same run (TCP the baseline): the rewrite alone (address and port,
/// TTL - 1; TCP patches its checksum incrementally, SCTP recomputes CRC32c over the whole packet), and the whole
/// pipeline on an established flow (SCTP also verifies the incoming CRC and walks the chunks). 512 flows to one
/// ClusterIP, 64 B and 1400 B payloads; each frame is first copied from its template (the pipeline rewrites in place).
/// </summary>
[MemoryDiagnoser]
public class SctpBenchmarks : IDisposable
{
    [Params(64, 1400)]
    public int Payload;

    static readonly uint Backend = Ip4.Parse("10.244.2.10");
    FramePool _tcp = null!, _sctp = null!;
    PacketPipeline _tcpPipeline = null!, _sctpPipeline = null!;
    readonly byte[] _buffer = new byte[2048];
    readonly byte[] _reply = new byte[2048];

    static MapSet Maps(byte proto, ushort port, ushort target)
    {
        Cidr4 pod = BenchData.Cidr("10.244.1.0/24"), cluster = BenchData.Cidr("10.244.0.0/16");
        uint node = Ip4.Parse("192.168.0.2");
        var b = new MapSetBuilder(new NodeInfo("node-1", node, [node, 0x7F000001], pod, [cluster]));
        ushort rev = b.AddServicePort("default/svc:p", BenchData.Vip, port, proto);
        uint id = b.AddBackend(Backend, target, proto);
        b.AddFrontend(new Lb4Key(BenchData.Vip, port, proto), rev, ServiceFlags.ClusterIp | ServiceFlags.MasqueradeOffCluster, [id]);
        return b.Build(1);
    }

    /// <summary>Releases the tables' native memory once BenchmarkDotNet is done with this instance.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _tcpPipeline?.Dispose();
        _sctpPipeline?.Dispose();
        GC.SuppressFinalize(this);
    }

    [GlobalSetup]
    public void Setup()
    {
        _tcpPipeline = new PacketPipeline(new MapSetHolder(Maps(IpProto.Tcp, 80, 8080)), new PipelineOptions { CtCapacity = 1 << 12 });
        _sctpPipeline = new PacketPipeline(new MapSetHolder(Maps(IpProto.Sctp, 3868, 3869)), new PipelineOptions { CtCapacity = 1 << 12 });
        _tcp = new FramePool(BenchData.Batch, stride: 1536);
        _sctp = new FramePool(BenchData.Batch, stride: 1536);
        Span<byte> f = stackalloc byte[2048];
        for (int i = 0; i < BenchData.Batch; i++)
        {
            uint client = Ip4.Parse("10.244.1.0") + (uint)(i % 200 + 2);
            ushort port = (ushort)(40000 + i);
            // Open each flow: TCP SYN and SYN-ACK (an ACK in SYN_SENT would be INVALID), SCTP INIT.
            int n = BenchFrames.Write(f, IpProto.Tcp, client, port, BenchData.Vip, 80, L4.TcpSyn);
            Expect(_tcpPipeline.Process(f.Slice(0, n), BenchData.Now, _reply, out PacketResult r), "TCP SYN");
            n = BenchFrames.Write(f, IpProto.Tcp, Backend, 8080, client, port, (byte)(L4.TcpSyn | L4.TcpAck));
            Expect(_tcpPipeline.Process(f.Slice(0, n), BenchData.Now, _reply, out r), "TCP SYN-ACK");
            n = SctpFrameBuilder.Write(f, client, port, BenchData.Vip, 3868);
            Expect(_sctpPipeline.Process(f.Slice(0, n), BenchData.Now, _reply, out r), "SCTP INIT");
            _tcp.Add(i, IpProto.Tcp, client, port, BenchData.Vip, 80, L4.TcpAck, Payload);
            _sctp.SetLength(i, SctpFrameBuilder.Write(_sctp.Slot(i), client, port, BenchData.Vip, 3868, data: true, payload: Payload, vtag: 0x5EA7BEEF, tsn: (uint)i));
        }
    }

    static void Expect(Verdict v, string what)
    {
        if (v != Verdict.Forward) throw new InvalidOperationException($"{what} not forwarded: {v}");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public int TcpDnatRewrite() => Rewrite(_tcp, IpProto.Tcp, 80, 8080);

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int SctpDnatRewrite() => Rewrite(_sctp, IpProto.Sctp, 3868, 3869);

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int TcpPipeline() => Pipeline(_tcpPipeline, _tcp, 8080);

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int SctpPipeline() => Pipeline(_sctpPipeline, _sctp, 3869);

    int Rewrite(FramePool pool, byte proto, ushort port, ushort target)
    {
        Span<byte> buf = _buffer;
        int length = 0;
        for (int i = 0; i < pool.Count; i++)
        {
            ReadOnlySpan<byte> f = pool[i];
            f.CopyTo(buf);
            var ctx = new PacketContext
            {
                Frame = buf, Length = f.Length, L3Offset = Ethernet.HeaderLength, L4Offset = Ethernet.HeaderLength + Ipv4Header.MinLength,
                L4Length = f.Length - Ethernet.HeaderLength - Ipv4Header.MinLength,
                Proto = proto, SrcIp = BenchFrames.SrcIp(f), SrcPort = BenchFrames.SrcPort(f), DstIp = BenchData.Vip, DstPort = port,
            };
            NatStage.Rewrite(ref ctx, ctx.SrcIp, ctx.SrcPort, Backend, target);
            if (proto == IpProto.Sctp) Crc32c.WriteSctp(buf.Slice(ctx.L4Offset, ctx.L4Length));
            length = ctx.Length;
        }
        return Check(buf.Slice(0, length), proto, target);
    }

    int Pipeline(PacketPipeline p, FramePool pool, ushort target)
    {
        Span<byte> buf = _buffer;
        int length = 0;
        for (int i = 0; i < pool.Count; i++)
        {
            ReadOnlySpan<byte> f = pool[i];
            f.CopyTo(buf);
            p.Process(buf.Slice(0, f.Length), BenchData.Now, _reply, out int n);
            length = n;
        }
        return Check(buf.Slice(0, length), buf[Ethernet.HeaderLength + Ipv4Header.ProtocolOffset], target);
    }

    /// <summary>The last frame must be translated to the backend and verify from scratch (IPv4 + TCP sum, or CRC32c).</summary>
    static int Check(ReadOnlySpan<byte> f, byte proto, ushort target)
    {
        bool ok = f.Length > 0 && BenchFrames.DstIp(f) == Backend && BenchFrames.DstPort(f) == target
            && (proto == IpProto.Sctp
                ? Checksum.Ipv4HeaderValid(f.Slice(Ethernet.HeaderLength, Ipv4Header.MinLength)) && Crc32c.SctpValid(f.Slice(Ethernet.HeaderLength + Ipv4Header.MinLength))
                : BenchFrames.ChecksumsValid(f));
        return ok ? f.Length : throw new InvalidOperationException($"{IpProto.Name(proto)} DNAT produced a wrong frame");
    }
}
