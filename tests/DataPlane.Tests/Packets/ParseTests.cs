using CsCheck;
using DataPlane.FixtureBuilder;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Packets;

/// <summary>Every truncation prefix of valid frames, and corrupted headers: a verdict and a reason, never an exception.</summary>
public class ParseTests
{
    public static TheoryData<string, byte[]> ValidFrames() => new()
    {
        { "tcp with payload", Frames.TcpFrame("10.244.1.5", 40000, "10.96.0.10", 80, Frames.Tcp.Psh | Frames.Tcp.Ack, 1, 1, "hello") },
        { "udp", Frames.UdpFrame("10.244.1.5", 50000, "10.96.0.10", 80, [1, 2, 3, 4]) },
    };

    [Theory]
    [MemberData(nameof(ValidFrames))]
    public void Every_truncation_prefix_gets_a_named_drop(string name, byte[] frame)
    {
        var p = TestWorld.NewPipeline();
        for (int len = 0; len < frame.Length; len++)
        {
            var (v, r, _) = TestWorld.Run(p, frame[..len]);
            Assert.True(v == Verdict.Drop, $"{name}: prefix {len} gave {v}");
            DropReason expected = len < 14 ? DropReason.TruncatedEthernet
                : len < 14 + 20 ? DropReason.TruncatedIpv4
                : DropReason.InvalidIpv4Length; // total length now exceeds the captured bytes
            Assert.Equal(expected, r.Reason);
        }
        Assert.Equal(Verdict.Forward, TestWorld.Run(p, frame).V);
    }

    [Fact]
    public void Ethernet_padding_is_trimmed_from_forwarded_frames()
    {
        byte[] syn = TestWorld.Syn("10.244.1.5", 40000, "10.96.0.10", 80);
        byte[] padded = [.. syn, 0, 0, 0, 0, 0, 0];
        var (v, r, o) = TestWorld.Run(TestWorld.NewPipeline(), padded);
        Assert.Equal(Verdict.Forward, v);
        Assert.Equal(syn.Length, r.OutLength);
        Oracle.AssertChecksums(o);
    }

    [Fact]
    public void A_vlan_tagged_frame_is_parsed_and_its_tag_kept()
    {
        byte[] syn = TestWorld.Syn("10.244.1.5", 40000, "10.96.0.10", 80);
        byte[] tagged = [.. syn[..12], 0x81, 0x00, 0x00, 0x2A, .. syn[12..]];
        var (v, _, o) = TestWorld.Run(TestWorld.NewPipeline(), tagged);
        Assert.Equal(Verdict.Forward, v);
        Assert.Equal(tagged[..16], o[..16]);
        Oracle.AssertChecksums([.. o[..12], .. o[16..]]);
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        var p = TestWorld.NewPipeline();
        CsCheck.Gen.Byte[0, 255].Array[0, 200].Sample(bytes =>
        {
            // Half of the samples get an IPv4 EtherType so the deeper parsers are exercised too.
            if (bytes.Length > 14 && bytes[0] % 2 == 0) { bytes[12] = 0x08; bytes[13] = 0x00; bytes[14] = (byte)(0x40 | (bytes[14] & 0xF)); }
            var (v, _, _) = TestWorld.Run(p, bytes);
            Assert.NotEqual(Verdict.Continue, v);
        }, iter: 20000);
    }
}

public class IcmpParseTests
{
    [Fact]
    public void An_icmp_error_with_its_quoted_header_and_ports_is_read()
    {
        byte[] syn = Frames.TcpFrame("10.244.1.5", 41003, "10.96.0.10", 80, Frames.Tcp.Syn, 1, 0);
        byte[] err = Frames.IcmpPortUnreachable(syn, "192.168.0.3", 5, false);
        var ctx = new PacketContext { Frame = err, Length = err.Length };
        Assert.Equal(Verdict.Continue, DataPlane.Pipeline.Stages.ParseStage.Run(ref ctx, null!, null!));
        Assert.Equal((3, 6, 41003, 80), (ctx.IcmpType, ctx.InnerProto, ctx.InnerSrcPort, ctx.InnerDstPort));
        Assert.Equal(DataPlane.Packets.Ip4.Parse("10.96.0.10"), ctx.InnerDstIp);
        // Every cut inside the quote (but past the outer ICMP header) is a truncated ICMP error.
        for (int cut = 14 + 20 + 8; cut < 14 + 20 + 8 + 20 + 8; cut++)
        {
            byte[] t = err[..cut];
            t[16] = (byte)((cut - 14) >> 8); t[17] = (byte)(cut - 14);
            t[24] = t[25] = 0;
            ushort c = Frames.InternetChecksum(t.AsSpan(14, 20));
            t[24] = (byte)(c >> 8); t[25] = (byte)c;
            var c2 = new PacketContext { Frame = t, Length = t.Length };
            Assert.Equal(Verdict.Drop, DataPlane.Pipeline.Stages.ParseStage.Run(ref c2, null!, null!));
            Assert.Equal(DropReason.TruncatedIcmpError, c2.Reason);
        }
    }
}
