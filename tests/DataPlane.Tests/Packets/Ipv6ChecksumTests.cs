using System.Buffers.Binary;
using CsCheck;
using DataPlane.FixtureBuilder;
using DataPlane.Packets;

namespace DataPlane.Tests.Packets;

/// <summary>
/// Checksums over the IPv6 pseudo-header (RFC 8200 §8.1): against a byte-by-byte oracle and PacketDotNet, the RFC 1624
/// patch after a NAT66 address rewrite against a full recompute, UDP's mandatory checksum, and the corpus.
/// </summary>
public class Ipv6ChecksumTests
{
    static readonly Gen<Ip6> GenIp6 = Gen.Select(Gen.ULong, Gen.ULong).Select(t => new Ip6(t.Item1, t.Item2));

    /// <summary>The pseudo-header laid out in bytes as RFC 8200 §8.1 draws it, summed by the fixture builder's RFC 1071.</summary>
    static ushort OracleChecksum(ReadOnlySpan<byte> upperWithZeroField, Ip6 src, Ip6 dst, byte nextHeader)
    {
        var b = new byte[40 + upperWithZeroField.Length];
        src.Write(b);
        dst.Write(b.AsSpan(16));
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(32), (uint)upperWithZeroField.Length);
        b[39] = nextHeader;
        upperWithZeroField.CopyTo(b.AsSpan(40));
        return Frames.InternetChecksum(b);
    }

    [Fact]
    public void Compute6_matches_a_byte_layout_oracle()
    {
        Gen.Select(GenIp6, GenIp6, Gen.Byte.Array[0, 1500], Gen.Byte).Sample(t =>
        {
            var (src, dst, data, nh) = t;
            Assert.Equal(OracleChecksum(data, src, dst, nh), Checksum.Compute6(data, src, dst, nh));
        });
    }

    [Fact]
    public void A_payload_above_65535_bytes_carries_its_length_in_32_bits()
    {
        // Jumbograms (RFC 2675) are not built, but the pseudo-header length is 32 bits and must not be truncated to 16.
        var data = new byte[70000];
        data[69999] = 0x42;
        Ip6 a = Ip6.Parse("2001:db8::1"), b = Ip6.Parse("2001:db8::2");
        Assert.Equal(OracleChecksum(data, a, b, IpProto.Udp), Checksum.Compute6(data, a, b, IpProto.Udp));
    }

    /// <summary>A built TCP, UDP or ICMPv6 frame with random addresses, ports and payload; the L4 span and its checksum offset.</summary>
    static readonly Gen<(byte[] Frame, byte Proto, Ip6 Src, Ip6 Dst)> GenFrame =
        Gen.Select(Gen.Int[0, 2], GenIp6, GenIp6, Gen.UShort, Gen.UShort, Gen.Int[0, 300], Gen.UInt).Select(t =>
        {
            var (kind, src, dst, sport, dport, payload, seq) = t;
            var f = new byte[2048];
            byte proto = kind switch { 0 => IpProto.Tcp, 1 => IpProto.Udp, _ => IpProto.Icmp6 };
            int n = proto == IpProto.Icmp6
                ? FrameBuilder.WriteIcmp6(f, src, dst, Icmp6.EchoRequest, 0, (uint)sport << 16 | dport, new byte[payload])
                : FrameBuilder.Write6(f, proto, src, sport, dst, dport, L4.TcpAck | L4.TcpPsh, payload, seq);
            return (f[..n], proto, src, dst);
        });

    static int CsumOffset(byte proto) => proto == IpProto.Icmp6 ? Icmp6.ChecksumOffset : L4.ChecksumOffset(proto);

    [Fact]
    public void Built_frames_verify_and_match_the_oracle()
    {
        GenFrame.Sample(t =>
        {
            byte[] l4 = t.Frame[(14 + 40)..];
            Assert.True(Checksum.UpperLayerValid6(l4, t.Src, t.Dst, t.Proto));
            ushort field = L4.ReadU16(l4, CsumOffset(t.Proto));
            L4.WriteU16(l4, CsumOffset(t.Proto), 0);
            ushort expected = OracleChecksum(l4, t.Src, t.Dst, t.Proto);
            Assert.Equal(t.Proto == IpProto.Udp && expected == 0 ? 0xFFFF : expected, field);
        });
    }

    /// <summary>
    /// NAT66: rewrite the source or the destination (and the port), patch the L4 checksum with Diff128 (+ Diff16), and
    /// the result equals a full recompute, for TCP, UDP and ICMPv6 alike (RFC 1624 eqn. 3, no -0 pitfall).
    /// </summary>
    [Fact]
    public void Incremental_update_after_an_address_rewrite_equals_a_full_recompute()
    {
        Gen.Select(GenFrame, GenIp6, Gen.Bool, Gen.UShort).Sample(t =>
        {
            var ((frame, proto, src, dst), to, rewriteSrc, newPort) = t;
            var ip = new Ipv6Header(frame.AsSpan(14));
            Span<byte> l4 = frame.AsSpan(14 + 40);
            int csum = CsumOffset(proto);
            ushort check = L4.ReadU16(l4, csum);
            uint diff;
            if (rewriteSrc)
            {
                diff = Checksum.Diff128(ip.Src, to);
                ip.Src = to;
            }
            else
            {
                diff = Checksum.Diff128(ip.Dst, to);
                ip.Dst = to;
            }
            if (proto != IpProto.Icmp6)
            {
                int portOffset = rewriteSrc ? L4.SrcPortOffset : L4.DstPortOffset;
                diff += Checksum.Diff16(L4.ReadU16(l4, portOffset), newPort);
                L4.WriteU16(l4, portOffset, newPort);
            }
            ushort patched = proto == IpProto.Udp ? Checksum.ApplyUdp(check, diff) : Checksum.Apply(check, diff);
            L4.WriteU16(l4, csum, patched);
            Assert.True(Checksum.UpperLayerValid6(l4, ip.Src, ip.Dst, proto));
            L4.WriteU16(l4, csum, 0);
            ushort full = Checksum.Compute6(l4, ip.Src, ip.Dst, proto);
            Assert.Equal(proto == IpProto.Udp && full == 0 ? 0xFFFF : full, patched);
        });
    }

    [Fact]
    public void Icmp6_checksums_follow_an_address_change_unlike_icmpv4()
    {
        var f = new byte[200];
        Ip6 src = Ip6.Parse("fd00:10:244:1::5"), vip = Ip6.Parse("fd00:10:96::a"), pod = Ip6.Parse("fd00:10:244:2::7");
        int n = FrameBuilder.WriteIcmp6(f, src, vip, Icmp6.EchoRequest, 0, 0x1234_0001, [1, 2, 3, 4]);
        Span<byte> icmp = f.AsSpan(54, n - 54);
        var ip = new Ipv6Header(f.AsSpan(14));
        ushort check = L4.ReadU16(icmp, Icmp6.ChecksumOffset);
        ip.Dst = pod;
        Assert.False(Checksum.UpperLayerValid6(icmp, src, pod, IpProto.Icmp6));
        L4.WriteU16(icmp, Icmp6.ChecksumOffset, Checksum.Apply(check, Checksum.Diff128(vip, pod)));
        Assert.True(Checksum.UpperLayerValid6(icmp, src, pod, IpProto.Icmp6));
    }

    [Fact]
    public void An_echo_request_turned_reply_is_patched_by_its_type_word()
    {
        // katran's handle_icmp.h: 128 -> 129 changes one word; the addresses swap, which leaves the sum unchanged.
        var f = new byte[200];
        Ip6 a = Ip6.Parse("2001:db8::1"), b = Ip6.Parse("2001:db8::2");
        int n = FrameBuilder.WriteIcmp6(f, a, b, Icmp6.EchoRequest, 0, 0xBEEF_0007, [9, 8, 7]);
        Span<byte> icmp = f.AsSpan(54, n - 54);
        ushort check = L4.ReadU16(icmp, Icmp6.ChecksumOffset);
        icmp[Icmp6.TypeOffset] = Icmp6.EchoReply;
        L4.WriteU16(icmp, Icmp6.ChecksumOffset, Checksum.Apply(check, Checksum.Diff16(Icmp6.EchoRequest << 8, Icmp6.EchoReply << 8)));
        Assert.True(Checksum.UpperLayerValid6(icmp, b, a, IpProto.Icmp6));
    }

    [Fact]
    public void A_zero_udp_checksum_is_invalid_over_ipv6_and_kept_by_nat()
    {
        var f = new byte[200];
        Ip6 a = Ip6.Parse("2001:db8::1"), b = Ip6.Parse("2001:db8::2");
        int n = FrameBuilder.Write6(f, IpProto.Udp, a, 1000, b, 53, 0, payload: 4);
        Span<byte> udp = f.AsSpan(54, n - 54);
        Assert.True(Checksum.UpperLayerValid6(udp, a, b, IpProto.Udp));
        Assert.False(Checksum.IsZeroUdpChecksum6(udp));
        L4.WriteU16(udp, L4.UdpChecksumOffset, 0);
        // RFC 8200 §8.1: never "no checksum" over IPv6, even where the data would sum right.
        Assert.True(Checksum.IsZeroUdpChecksum6(udp));
        Assert.False(Checksum.UpperLayerValid6(udp, a, b, IpProto.Udp));
        // nf_nat's udp_manip_pkt leaves a zero checksum zero, in both families: the receiver drops it.
        Assert.Equal(0, Checksum.ApplyUdp(0, Checksum.Diff128(b, a)));
        // The same zero on TCP or ICMPv6 is just a wrong checksum, judged by the sum.
        Assert.False(Checksum.IsZeroUdpChecksum6(udp[..7]));
    }

    [Fact]
    public void A_udp_checksum_computing_to_zero_is_sent_as_ffff()
    {
        // Find a source port for which the datagram sums to 0xFFFF before complement: the builder must write 0xFFFF.
        var f = new byte[200];
        Ip6 a = Ip6.Parse("2001:db8::1"), b = Ip6.Parse("2001:db8::2");
        int n = FrameBuilder.Write6(f, IpProto.Udp, a, 0, b, 53, 0, payload: 2);
        Span<byte> udp = f.AsSpan(54, n - 54);
        L4.WriteU16(udp, L4.UdpChecksumOffset, 0);
        ushort c = Checksum.Compute6(udp, a, b, IpProto.Udp);
        // Raising the source port by c makes the complement sum exactly 0xFFFF (c fits the port field, the port was 0).
        n = FrameBuilder.Write6(f, IpProto.Udp, a, c, b, 53, 0, payload: 2);
        udp = f.AsSpan(54, n - 54);
        Assert.Equal(0xFFFF, L4.ReadU16(udp, L4.UdpChecksumOffset));
        Assert.True(Checksum.UpperLayerValid6(udp, a, b, IpProto.Udp));
    }

    public static TheoryData<string, int, bool> CorpusChecksums => new()
    {
        // file, frame, valid: tcpdump's "cksum … (correct)", "sum ok", or "bad udp cksum 0x0001 -> 0xbc54!".
        { "ipv6_http.pcap", 0, true },
        { "ipv6_http.pcap", 3, true },
        { "ipv6_http.pcap", 4, true },
        { "port4242.pcap", 0, true },
        { "port4242.pcap", 3, true },
        { "ipv6_icmpv6_hopbyhop_packet.pcap", 0, true },
        { "ipv6_ext_headers.pcap", 0, true },
        // Behind RH0 with segments left: the pseudo-header holds the final destination, the last address listed.
        { "ipv6-routing-header.pcap", 0, true },
        { "ipv6-routing-header.pcap", 1, true },
        { "ipv6-routing-header.pcap", 2, true },
        { "ipv6-routing-header.pcap", 3, true },
        { "ipv6-fragmented-dns.pcap", 0, true },
        { "ipv6-fragmented-dns.pcap", 1, true },
        { "icmp6-toobig.pcap", 0, true },
        { "icmp6-destunreach-ip6ext-udp.pcap", 0, true },
        { "ip6-udp-bad-chksum.pcap", 0, false },
    };

    [Theory]
    [MemberData(nameof(CorpusChecksums))]
    public void Corpus_checksums_verify_as_tcpdump_reports(string file, int index, bool valid)
    {
        byte[] ip = Ipv6ExtensionsTests.CorpusIp(file, index);
        Assert.True(Ipv6Extensions.Walk(ip, out Ipv6Chain c) is Ipv6ExtStatus.Ok or Ipv6ExtStatus.RoutingType0);
        var h = new Ipv6Header(ip);
        // RFC 8200 §8.1: with a Routing header that still has segments left, the final destination (for type 0, the
        // last address it lists).
        Ip6 dst = Ipv6Extensions.PseudoHeaderDestination(ip, c);
        Assert.Equal(file == "ipv6-routing-header.pcap" ? Ip6.Parse(index % 2 == 0 ? "2200::210:2:0:0:4" : "2200::240:2:0:0:4") : h.Dst, dst);
        ReadOnlySpan<byte> upper = ip.AsSpan(c.L4Offset, 40 + h.PayloadLength - c.L4Offset);
        Assert.Equal(valid, Checksum.UpperLayerValid6(upper, h.Src, dst, c.Proto));
        if (!valid)
        {
            byte[] copy = upper.ToArray();
            L4.WriteU16(copy, L4.UdpChecksumOffset, 0);
            Assert.Equal(0xbc54, Checksum.Compute6(copy, h.Src, dst, c.Proto));
        }
    }

    [Fact]
    public void Corpus_icmp6_errors_carry_their_fields()
    {
        byte[] tooBig = Ipv6ExtensionsTests.CorpusIp("icmp6-toobig.pcap", 0);
        Assert.Equal(Icmp6.PacketTooBig, tooBig[40 + Icmp6.TypeOffset]);
        Assert.Equal(1280u, BinaryPrimitives.ReadUInt32BigEndian(tooBig.AsSpan(40 + Icmp6.MtuOffset)));
        Assert.True(Icmp6.IsError(tooBig[40]));
        // The quote is an IPv6 packet again, walked like any: here IPv6 + UDP, and IPv6 + hop-by-hop + UDP.
        Assert.Equal(Ipv6ExtStatus.Ok, Ipv6Extensions.Walk(tooBig.AsSpan(40 + Icmp6.ErrorQuoteOffset), out Ipv6Chain quoted));
        Assert.Equal((IpProto.Udp, 40), (quoted.Proto, quoted.L4Offset));

        byte[] unreach = Ipv6ExtensionsTests.CorpusIp("icmp6-destunreach-ip6ext-udp.pcap", 0);
        Assert.Equal((Icmp6.DestUnreachable, Icmp6.NoRouteCode), (unreach[40], unreach[41]));
        Assert.Equal(Ipv6ExtStatus.Ok, Ipv6Extensions.Walk(unreach.AsSpan(40 + Icmp6.ErrorQuoteOffset), out quoted));
        Assert.Equal((IpProto.Udp, 48, 1), (quoted.Proto, quoted.L4Offset, quoted.HeaderCount));
    }
}
