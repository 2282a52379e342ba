using System.Net;
using System.Net.NetworkInformation;
using BenchmarkDotNet.Attributes;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Pipeline.Stages;
using PacketDotNet;
using PacketDotNet.Utils;

namespace DataPlane.Benchmarks;

/// <summary>
/// ICMP reject build: a SYN to a service without endpoints is answered with port unreachable built like Linux's REJECT
/// (new IPv4 header, ICMP header, quoted datagram, two checksums) into a reply buffer. Baseline: PacketDotNet building
/// the same reply from objects (ICMP packet with the quote as payload, IPv4 and Ethernet layers, checksums, serialise).
/// </summary>
[MemoryDiagnoser]
public class IcmpRejectBenchmarks
{
    MapSet _maps = null!;
    FramePool _frames = null!;
    uint[] _src = [];
    readonly byte[] _reply = new byte[2048];
    static readonly uint Vip = BenchCluster.Vip(0);

    [GlobalSetup]
    public void Setup()
    {
        var b = new MapSetBuilder(BenchCluster.NodeInfo());
        ushort rev = b.AddServicePort("default/empty:http", Vip, 80, IpProto.Tcp);
        b.AddFrontend(new Lb4Key(Vip, 80, IpProto.Tcp), rev, ServiceFlags.ClusterIp | ServiceFlags.MasqueradeOffCluster, []);
        _maps = b.Build(1);
        _frames = new FramePool(BenchData.Batch);
        _src = new uint[BenchData.Batch];
        for (int i = 0; i < BenchData.Batch; i++)
        {
            var (ip, port) = BenchCluster.PodClient(i);
            _frames.Add(i, IpProto.Tcp, ip, port, Vip, 80, L4.TcpSyn);
            _src[i] = ip;
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public int PacketDotNetBuild()
    {
        int ok = 0;
        var gw = IPAddress.Parse("192.168.0.2");
        for (int i = 0; i < BenchData.Batch; i++)
        {
            var orig = (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, _frames.ToArray(i));
            var origIp = orig.Extract<IPv4Packet>();
            byte[] quote = origIp.Bytes;
            var icmp = new IcmpV4Packet(new ByteArraySegment(new byte[8 + quote.Length]))
            { TypeCode = IcmpV4TypeCode.UnreachablePort };
            quote.CopyTo(icmp.Bytes, 8);
            var ip = new IPv4Packet(gw, origIp.SourceAddress) { TimeToLive = 64, TypeOfService = 0xc0, PayloadPacket = icmp };
            var eth = new EthernetPacket(orig.DestinationHardwareAddress, orig.SourceHardwareAddress, EthernetType.IPv4) { PayloadPacket = ip };
            icmp.UpdateIcmpChecksum();
            ip.UpdateCalculatedValues();
            ip.UpdateIPChecksum();
            if (eth.Bytes.Length > 34 && icmp.TypeCode == IcmpV4TypeCode.UnreachablePort) ok++;
        }
        return Check(ok);
    }

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int RejectStageBuild()
    {
        int ok = 0;
        Span<byte> reply = _reply;
        for (int i = 0; i < BenchData.Batch; i++)
        {
            var ctx = new PacketContext
            {
                Frame = _frames[i], Length = _frames.Length(i), L3Offset = Ethernet.HeaderLength, L4Offset = 34,
                SrcIp = _src[i], DstIp = Vip, Proto = IpProto.Tcp, ReplyBuffer = reply,
            };
            if (RejectStage.PortUnreachable(ref ctx, _maps, 1) == Verdict.Reject && ctx.ReplyLength > 34 && reply[34] == L4.IcmpDestUnreachable) ok++;
        }
        if (!Checksum.Ipv4HeaderValid(reply.Slice(14, 20))) throw new InvalidOperationException("reject built a bad IPv4 header");
        return Check(ok);
    }

    static int Check(int ok) => ok == BenchData.Batch ? ok : throw new InvalidOperationException($"{BenchData.Batch - ok} rejects not built");
}
