using DataPlane.FixtureBuilder;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Pipeline;

/// <summary>
/// The one read of a frame's key that steering and prefetch share: it finds the IPv4 header where the parse stage
/// does (through 802.1Q and 802.1ad tags, past IP options) and reads ports only where a frame carries them.
/// </summary>
public class FrameKeyTests
{
    static byte[] Syn(ushort port = 40001) => Frames.TcpFrame("10.244.1.5", port, "10.96.0.10", 80, Frames.Tcp.Syn, 1, 0);

    /// <summary>Inserts a VLAN tag (TPID <paramref name="tpid"/>) after the MAC addresses, as a switch port would.</summary>
    static byte[] Tagged(byte[] frame, ushort tpid, ushort vid)
    {
        byte[] t = new byte[frame.Length + 4];
        frame.AsSpan(0, 12).CopyTo(t);
        t[12] = (byte)(tpid >> 8); t[13] = (byte)tpid;
        t[14] = (byte)(vid >> 8); t[15] = (byte)vid;
        frame.AsSpan(12).CopyTo(t.AsSpan(16));
        return t;
    }

    [Fact]
    public void A_plain_frame_gives_its_addresses_protocol_and_ports()
    {
        FrameKey k = FrameKey.Read(Syn());
        Assert.Equal(14, k.L3Offset);
        Assert.Equal(34, k.L4Offset);
        Assert.Equal(IpProto.Tcp, k.Proto);
        Assert.Equal(Ip4.Parse("10.244.1.5"), k.Src);
        Assert.Equal(Ip4.Parse("10.96.0.10"), k.Dst);
        Assert.True(k.HasPorts);
        Assert.Equal((40001, 80), ((int)k.SrcPort, (int)k.DstPort));
    }

    [Fact]
    public void Vlan_and_qinq_tags_are_looked_through_as_the_parse_stage_does()
    {
        byte[] one = Tagged(Syn(), Ethernet.EtherTypeVlan, 10);
        byte[] two = Tagged(one, Ethernet.EtherTypeQinQ, 20);
        Assert.Equal(18, FrameKey.Read(one).L3Offset);
        Assert.Equal(22, FrameKey.Read(two).L3Offset);
        Assert.Equal(FrameKey.Read(Syn()).SrcPort, FrameKey.Read(two).SrcPort);
    }

    [Fact]
    public void A_later_fragment_has_no_ports_and_a_truncated_or_foreign_frame_no_key()
    {
        byte[] later = Syn();
        later[20] = 0x00; later[21] = 0x10; // fragment offset 16 x 8 bytes
        FrameKey k = FrameKey.Read(later);
        Assert.True(k.IsIpv4 && k.IsLaterFragment);
        Assert.False(k.HasPorts);
        Assert.False(FrameKey.Read(Syn().AsSpan(0, 20)).IsIpv4);
        byte[] arp = Syn(); arp[12] = 0x08; arp[13] = 0x06;
        Assert.False(FrameKey.Read(arp).IsIpv4);
        byte[] ihl4 = Syn(); ihl4[14] = 0x44;
        Assert.False(FrameKey.Read(ihl4).IsIpv4);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void A_vlan_tagged_connection_is_steered_by_its_client_port_like_an_untagged_one(int n)
    {
        var holder = new MapSetHolder(TestWorld.Build(backends: 1));
        var steering = new FlowSteering(n, new PipelineOptions());
        for (ushort port = 40000; port < 40064; port += 5)
        {
            byte[] plain = Syn(port), tagged = Tagged(Syn(port), Ethernet.EtherTypeVlan, 100);
            int expected = PipelineOptions.ClassOf(port, 64) % n;
            Assert.Equal(expected, steering.WorkerFor(plain, holder.Current));
            Assert.Equal(expected, steering.WorkerFor(tagged, holder.Current));
        }
    }
}
