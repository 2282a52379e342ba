using System.Net;
using BenchmarkDotNet.Attributes;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Pipeline.Stages;
using PacketDotNet;

namespace DataPlane.Benchmarks;

/// <summary>
/// DNAT + checksums: rewrite destination address and port, TTL - 1, incremental IPv4 and TCP checksum updates
/// (RFC 1624), on the 512 established-flow frames (64 B payload). Both sides first copy the frame (ours into a work
/// buffer, since it rewrites in place). Baseline: PacketDotNet, which must parse before it can rewrite, then recomputes
/// both checksums in full and serialises; that parse is part of what the baseline costs.
/// </summary>
[MemoryDiagnoser]
public class DnatRewriteBenchmarks
{
    byte[][] _frames = [];
    uint[] _src = [];
    ushort[] _sport = [];
    readonly byte[] _buffer = new byte[2048];
    static readonly uint Backend = Ip4.Parse("10.244.2.10");
    static readonly IPAddress BackendAddress = IPAddress.Parse("10.244.2.10");

    [GlobalSetup]
    public void Setup()
    {
        _frames = BenchData.ClientFrames();
        _src = _frames.Select(f => BenchFrames.SrcIp(f)).ToArray();
        _sport = _frames.Select(f => BenchFrames.SrcPort(f)).ToArray();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public int PacketDotNetRewrite()
    {
        byte[] last = [];
        foreach (byte[] f in _frames)
        {
            var eth = Packet.ParsePacket(LinkLayers.Ethernet, (byte[])f.Clone());
            var ip = eth.Extract<IPv4Packet>();
            var tcp = eth.Extract<TcpPacket>();
            ip.DestinationAddress = BackendAddress;
            tcp.DestinationPort = 8080;
            ip.TimeToLive--;
            tcp.UpdateTcpChecksum();
            ip.UpdateIPChecksum();
            last = eth.Bytes;
        }
        return Check(last);
    }

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int NatStageRewrite()
    {
        Span<byte> buf = _buffer;
        byte[][] frames = _frames;
        int length = 0;
        for (int i = 0; i < frames.Length; i++)
        {
            byte[] f = frames[i];
            f.CopyTo(buf);
            var ctx = new PacketContext
            {
                Frame = buf, Length = f.Length, L3Offset = Ethernet.HeaderLength, L4Offset = Ethernet.HeaderLength + Ipv4Header.MinLength,
                Proto = IpProto.Tcp, SrcIp = _src[i], SrcPort = _sport[i], DstIp = BenchData.Vip, DstPort = 80,
            };
            NatStage.Rewrite(ref ctx, ctx.SrcIp, ctx.SrcPort, Backend, 8080);
            length = ctx.Length;
        }
        return Check(buf.Slice(0, length));
    }

    /// <summary>The last rewritten frame must carry the backend and verify from scratch.</summary>
    static int Check(ReadOnlySpan<byte> f) =>
        BenchFrames.DstIp(f) == Backend && BenchFrames.DstPort(f) == 8080 && BenchFrames.ChecksumsValid(f)
            ? f.Length : throw new InvalidOperationException("DNAT produced a wrong frame");
}

/// <summary>
/// SNAT port allocation for new NodePort connections (ConntrackStage.Create with masquerade, then Update: the CT entry
/// whose reply tuple is the NAT binding). External clients (198.18.0.0/15) with seeded random source ports: those in
/// the SNAT range are kept when free, the others get a random port then bounded linear probing. 32 k distinct
/// connections are cycled; at each lap the packet clock moves past the SYN timeout, so every previous connection has
/// expired and its slot and binding are reclaimed when its tuple comes back (the deletion every connection pays once;
/// counted here). Baseline: the previous algorithm, the same policy over BCL Dictionaries (cleared per lap, counted).
/// </summary>
[MemoryDiagnoser]
public class SnatAllocationBenchmarks : IDisposable
{
    const int Ring = 1 << 15;
    const long Lap = 120_000_000_000; // 2 min > SYN timeout (60 s)

    WorkerState _w = null!;
    ConntrackMap _ct = null!;
    MapSet _maps = null!;
    readonly PipelineOptions _options = new();
    CtTimeouts _timeouts;
    DeterministicRandom _rng = new(1);
    Lb4Service _service;
    CtTuple4[] _tuples = [];
    uint[] _backend = [];
    Dictionary<CtTuple4, int> _dictionary = [];
    readonly Random _baselineRng = new(1);
    (uint Ip, ushort Port)[] _backendAddress = [];
    int _cursor;
    long _now = BenchData.Now;

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
        _maps = BenchCluster.Build(10, 10, nodePorts: true);
        _service = _maps.Services.Lookup(new Lb4Key(BenchCluster.Node, BenchCluster.FirstNodePort, IpProto.Tcp));
        _timeouts = new CtTimeouts(_options);
        _ct = new ConntrackMap(2 * Ring);
        _w = new WorkerState(_options with { CtCapacity = _ct.Capacity }, _maps.Generation, _ct);
        var rng = new Random(42);
        _tuples = new CtTuple4[Ring];
        _backend = new uint[Ring];
        _backendAddress = new (uint, ushort)[Ring];
        for (int i = 0; i < Ring; i++)
        {
            var (ip, port) = BenchCluster.ExternalClient(i, rng);
            _tuples[i] = new CtTuple4(ip, port, BenchCluster.Node, BenchCluster.FirstNodePort, IpProto.Tcp);
            _backend[i] = _maps.BackendSlots[_service.SlotOffset + (uint)rng.Next(_service.Count)];
            Lb4Backend b = _maps.Backends[_backend[i]];
            _backendAddress[i] = (b.Address, b.Port);
        }
        _dictionary = new Dictionary<CtTuple4, int>(2 * Ring);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public int Dictionary()
    {
        int ok = 0, c = _cursor;
        var d = _dictionary;
        if (c == 0) d.Clear();
        for (int i = 0; i < BenchData.Batch; i++, c++)
        {
            CtTuple4 o = _tuples[c];
            var (bip, bport) = _backendAddress[c];
            var reply = new CtTuple4(bip, bport, BenchCluster.Node, o.SrcPort, IpProto.Tcp);
            if (o.SrcPort < 32768 || d.ContainsKey(reply))
            {
                int p = _baselineRng.Next(32768), tries = 0;
                do reply = new CtTuple4(bip, bport, BenchCluster.Node, (ushort)(32768 + (p++ & 32767)), IpProto.Tcp);
                while (d.ContainsKey(reply) && ++tries < 128);
            }
            if (d.TryAdd(reply, c) && d.TryAdd(o, c)) ok++;
        }
        _cursor = c & (Ring - 1);
        return Check(ok);
    }

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int CreateWithSnat()
    {
        int ok = 0, c = _cursor;
        if (c == 0) _now += Lap;
        for (int i = 0; i < BenchData.Batch; i++, c++)
        {
            CtTuple4 t = _tuples[c];
            var ctx = new PacketContext
            {
                SrcIp = t.SrcIp, SrcPort = t.SrcPort, DstIp = t.DstIp, DstPort = t.DstPort, Proto = t.Proto, TcpFlags = L4.TcpSyn,
                NowNs = _now, Service = _service, BackendId = _backend[c], Masquerade = true, MasqueradeIp = BenchCluster.Node,
            };
            if (ConntrackStage.Create(ref ctx, _maps, _w) != Verdict.Continue) continue;
            ref CtEntry e = ref _ct[ctx.CtIndex];
            ConntrackStage.Update(ref ctx, ref e, in _timeouts);
            if (e.Reply.DstIp == BenchCluster.Node && e.Reply.DstPort >= 32768) ok++;
        }
        _cursor = c & (Ring - 1);
        return Check(ok);
    }

    static int Check(int ok) => ok == BenchData.Batch ? ok : throw new InvalidOperationException($"{BenchData.Batch - ok} SNAT allocations failed");
}
