using System.Net;
using BenchmarkDotNet.Attributes;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Pipeline.Stages;
using PacketDotNet;

namespace DataPlane.Benchmarks;

/// <summary>
/// Reverse NAT, the reply-path stages: conntrack lookup of a backend's reply (matching the reply tuple) and the
/// translation back (source = service frontend, destination = the client, un-SNAT), for 4096 NodePort connections (DNAT +
/// SNAT). Stage-level: the tuple comes pre-parsed. Baseline: the previous algorithm, PacketDotNet parse + a BCL
/// Dictionary from reply tuple to original tuple + PacketDotNet rewrite with full checksums.
/// </summary>
[MemoryDiagnoser]
public class ReverseNatBenchmarks : IDisposable
{
    const int Flows = 4096;

    WorkerState _w = null!;
    ConntrackMap _ct = null!;
    MapSet _maps = null!;
    FramePool _replies = null!;
    CtTuple4[] _tuples = [];
    uint[] _client = [];
    Dictionary<CtTuple4, CtTuple4> _dictionary = [];
    readonly byte[] _buffer = new byte[256];
    int _cursor;

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
        Lb4Service svc = _maps.Services.Lookup(new Lb4Key(BenchCluster.Node, BenchCluster.FirstNodePort, IpProto.Tcp));
        _ct = new ConntrackMap(2 * Flows);
        _w = new WorkerState(new PipelineOptions { CtCapacity = _ct.Capacity }, _maps.Generation, _ct);
        _replies = new FramePool(Flows);
        _tuples = new CtTuple4[Flows];
        _client = new uint[Flows];
        var rng = new Random(42);
        for (int i = 0; i < Flows; i++)
        {
            var (ip, port) = BenchCluster.ExternalClient(i, rng);
            var original = new CtTuple4(ip, port, BenchCluster.Node, BenchCluster.FirstNodePort, IpProto.Tcp);
            Lb4Backend b = _maps.Backends[_maps.BackendSlots[svc.SlotOffset + (uint)rng.Next(svc.Count)]];
            var reply = new CtTuple4(b.Address, b.Port, BenchCluster.Node, (ushort)(32768 + i), IpProto.Tcp);
            if (_ct.TryCreate(original, reply, out int e) != MapStatus.Ok) throw new InvalidOperationException("setup");
            ref CtEntry entry = ref _ct[e];
            entry.ExpiresNs = long.MaxValue;
            entry.Generation = 1;
            entry.Flags |= CtFlags.Dnat | CtFlags.Snat | CtFlags.NodePort;
            _dictionary[reply] = original;
            _replies.Add(i, IpProto.Tcp, reply.SrcIp, reply.SrcPort, reply.DstIp, reply.DstPort, L4.TcpAck, 64);
            _tuples[i] = reply;
            _client[i] = ip;
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public int PacketDotNetAndDictionary()
    {
        int ok = 0, c = _cursor;
        for (int i = 0; i < BenchData.Batch; i++, c = (c + 1) & (Flows - 1))
        {
            var eth = Packet.ParsePacket(LinkLayers.Ethernet, _replies.ToArray(c));
            var ip = eth.Extract<IPv4Packet>();
            var tcp = eth.Extract<TcpPacket>();
            var t = new CtTuple4(ToUint(ip.SourceAddress), tcp.SourcePort, ToUint(ip.DestinationAddress), tcp.DestinationPort, IpProto.Tcp);
            if (!_dictionary.TryGetValue(t, out CtTuple4 o)) continue;
            ip.SourceAddress = ToAddress(o.DstIp);
            tcp.SourcePort = o.DstPort;
            ip.DestinationAddress = ToAddress(o.SrcIp);
            tcp.DestinationPort = o.SrcPort;
            ip.TimeToLive--;
            tcp.UpdateTcpChecksum();
            ip.UpdateIPChecksum();
            if (ToUint(ip.DestinationAddress) == _client[c]) ok++;
        }
        _cursor = c;
        return Check(ok);
    }

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int LookupAndTranslate()
    {
        int ok = 0, c = _cursor;
        Span<byte> buf = _buffer;
        for (int i = 0; i < BenchData.Batch; i++, c = (c + 1) & (Flows - 1))
        {
            Span<byte> f = _replies[c];
            f.CopyTo(buf);
            ref readonly CtTuple4 t = ref _tuples[c];
            var ctx = new PacketContext
            {
                Frame = buf, Length = f.Length, L3Offset = Ethernet.HeaderLength, L4Offset = Ethernet.HeaderLength + Ipv4Header.MinLength,
                SrcIp = t.SrcIp, SrcPort = t.SrcPort, DstIp = t.DstIp, DstPort = t.DstPort, Proto = t.Proto, NowNs = BenchData.Now,
            };
            if (ConntrackStage.Lookup(ref ctx, _maps, _w) != Verdict.Forward || ctx.Direction != CtDirection.Reply) continue;
            NatStage.Translate(ref ctx, in _ct[ctx.CtIndex], ctx.Direction);
            if (ctx.DstIp == _client[c]) ok++;
        }
        _cursor = c;
        if (!BenchFrames.ChecksumsValid(buf)) throw new InvalidOperationException("reverse NAT broke a checksum");
        return Check(ok);
    }

    static int Check(int ok) => ok == BenchData.Batch ? ok : throw new InvalidOperationException($"{BenchData.Batch - ok} replies not translated back");

    internal static uint ToUint(IPAddress a)
    {
        Span<byte> b = stackalloc byte[4];
        a.TryWriteBytes(b, out _);
        return (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
    }

    internal static IPAddress ToAddress(uint a) => new([(byte)(a >> 24), (byte)(a >> 16), (byte)(a >> 8), (byte)a]);
}
