using DataPlane.FixtureBuilder;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Tests.Sctp;

/// <summary>Hand-seeded maps with SCTP frontends: ClusterIP 10.96.0.132:3868 and NodePort 30132 -> n backends :3869.</summary>
public static class SctpWorld
{
    public static readonly uint Node = Ip4.Parse("192.168.0.2");
    public static readonly uint Vip = Ip4.Parse("10.96.0.132");
    public const ushort Port = 3868, TargetPort = 3869, NodePort = 30132;

    public static uint Backend(int i) => Ip4.Parse("10.244.2.0") + (uint)(30 + i);

    public static MapSet Build(int backends = 3)
    {
        Assert.True(Cidr4.TryParse("10.244.1.0/24", out var pod));
        Assert.True(Cidr4.TryParse("10.244.0.0/16", out var cluster));
        var node = new NodeInfo("node-1", Node, [Node, 0x7F000001], pod, [cluster]);
        var b = new MapSetBuilder(node);
        ushort svc = b.AddServicePort("default/diameter:diameter", Vip, Port, IpProto.Sctp);
        var ids = Enumerable.Range(0, backends).Select(i => b.AddBackend(Backend(i), TargetPort, IpProto.Sctp)).ToArray();
        b.AddFrontend(new Lb4Key(Vip, Port, IpProto.Sctp), svc, ServiceFlags.ClusterIp | ServiceFlags.MasqueradeOffCluster, ids);
        b.AddFrontend(new Lb4Key(Node, NodePort, IpProto.Sctp), svc, ServiceFlags.NodePort | ServiceFlags.MasqueradeAll | ServiceFlags.LocalAddress, ids);
        return b.Build(1);
    }

    public static PacketPipeline NewPipeline(int backends = 3) =>
        new(new MapSetHolder(Build(backends)), new PipelineOptions { CtCapacity = 1 << 12 });

    /// <summary>The SCTP packet of an Ethernet + 20-byte IPv4 frame.</summary>
    public static ReadOnlySpan<byte> SctpOf(byte[] frame) => frame.AsSpan(14 + 20);

    public static bool CrcValid(byte[] frame)
    {
        byte[] s = SctpOf(frame).ToArray();
        uint stored = BitConverter.ToUInt32(s, 8);   // little-endian on the wire, like the field
        s[8] = s[9] = s[10] = s[11] = 0;
        return stored == SctpFrames.Crc32cBitwise(s);
    }
}
