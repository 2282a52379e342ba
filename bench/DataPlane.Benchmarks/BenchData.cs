using System.Net;
using System.Net.NetworkInformation;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using PacketDotNet;

namespace DataPlane.Benchmarks;

/// <summary>Inputs built once, with fixed seeds (Kestrel's RequestParsingData): frames and a seeded pipeline.</summary>
public static class BenchData
{
    /// <summary>Packets per benchmark invocation; OperationsPerInvoke = Batch so results read in ns/packet.</summary>
    public const int Batch = 512;

    public static readonly uint Vip = Ip4.Parse("10.96.0.10");
    public const long Now = 1_000_000_000;

    /// <summary>Batch distinct client flows (10.244.x.y:port) to the ClusterIP 10.96.0.10:80, as ACK frames with 64 B payload.</summary>
    public static byte[][] ClientFrames(int count = Batch, int seed = 42)
    {
        var rng = new Random(seed);
        var frames = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            var tcp = new TcpPacket((ushort)rng.Next(32768, 65535), 80)
            {
                SequenceNumber = (uint)rng.Next(), AcknowledgmentNumber = (uint)rng.Next(), WindowSize = 64240,
                Flags = 0x10, PayloadData = new byte[64],
            };
            var ip = new IPv4Packet(new IPAddress(new byte[] { 10, 244, (byte)rng.Next(0, 255), (byte)rng.Next(1, 255) }), IPAddress.Parse("10.96.0.10"))
            { TimeToLive = 64, PayloadPacket = tcp };
            var eth = new EthernetPacket(PhysicalAddress.Parse("02-00-00-00-00-01"), PhysicalAddress.Parse("02-00-00-00-00-02"), EthernetType.IPv4)
            { PayloadPacket = ip };
            eth.UpdateCalculatedValues();
            tcp.UpdateTcpChecksum();
            ip.UpdateIPChecksum();
            frames[i] = eth.Bytes;
        }
        return frames;
    }

    /// <summary>A CIDR written in the benchmark's source; a typo fails the set-up instead of benchmarking 0.0.0.0/0.</summary>
    public static Cidr4 Cidr(string text) => Cidr4.TryParse(text, out Cidr4 c) ? c : throw new ArgumentException($"not a CIDR: {text}", nameof(text));

    /// <summary>One node, one ClusterIP service on :80 with <paramref name="backends"/> endpoints on :8080.</summary>
    public static MapSet Maps(int backends = 10)
    {
        Cidr4 pod = BenchData.Cidr("10.244.1.0/24"), cluster = BenchData.Cidr("10.244.0.0/16");
        uint node = Ip4.Parse("192.168.0.2");
        var b = new MapSetBuilder(new NodeInfo("node-1", node, [node, 0x7F000001], pod, [cluster]));
        ushort rev = b.AddServicePort("default/web:http", Vip, 80, IpProto.Tcp);
        var ids = Enumerable.Range(0, backends).Select(i => b.AddBackend(Ip4.Parse("10.244.2.0") + (uint)(10 + i), 8080, IpProto.Tcp)).ToArray();
        b.AddFrontend(new Lb4Key(Vip, 80, IpProto.Tcp), rev, ServiceFlags.ClusterIp | ServiceFlags.MasqueradeOffCluster, ids);
        return b.Build(1);
    }
}
