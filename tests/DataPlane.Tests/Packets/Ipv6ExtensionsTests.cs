using System.Buffers.Binary;
using CsCheck;
using DataPlane.IO.Pcap;
using DataPlane.Packets;
using DataPlane.Tests.IO;

namespace DataPlane.Tests.Packets;

/// <summary>
/// The extension header walk: chains built by FrameBuilder.Write6, the IPv6 captures of the corpus (pcaps/corpus, their
/// expected values from tcpdump's decoding of each), every truncation, and arbitrary bytes.
/// </summary>
public class Ipv6ExtensionsTests
{
    static readonly Ip6 Client = Ip6.Parse("fd00:10:244:1::5");
    static readonly Ip6 Vip = Ip6.Parse("fd00:10:96::a");

    static byte[] Udp(params Ipv6ExtensionSpec[] ext)
    {
        var f = new byte[2048];
        int n = FrameBuilder.Write6(f, IpProto.Udp, Client, 40000, Vip, 53, 0, payload: 12, extensions: ext);
        return f[..n];
    }

    static ReadOnlySpan<byte> Ip(byte[] frame) => frame.AsSpan(Ethernet.HeaderLength);

    public static TheoryData<string, byte[], Ipv6ExtStatus, byte, int, int> Chains => new()
    {
        // description, frame, status, upper-layer protocol, its offset in the IPv6 packet, extension headers walked
        { "no extension headers", Udp(), Ipv6ExtStatus.Ok, IpProto.Udp, 40, 0 },
        { "hop-by-hop first", Udp(Ipv6ExtensionSpec.HopByHop()), Ipv6ExtStatus.Ok, IpProto.Udp, 48, 1 },
        { "a 24-byte hop-by-hop: (len+1)*8", Udp(Ipv6ExtensionSpec.HopByHop(24)), Ipv6ExtStatus.Ok, IpProto.Udp, 64, 1 },
        {
            "RFC 8200 §4.1's order: HBH, DO, RH (nothing left), FH (atomic), AH, DO",
            Udp(Ipv6ExtensionSpec.HopByHop(), Ipv6ExtensionSpec.DestinationOptions(16), Ipv6ExtensionSpec.Routing(2, 0, Vip),
                Ipv6ExtensionSpec.Fragment(0, false, 7), Ipv6ExtensionSpec.Auth(24), Ipv6ExtensionSpec.DestinationOptions()),
            Ipv6ExtStatus.Ok, IpProto.Udp, 40 + 8 + 16 + 24 + 8 + 24 + 8, 6
        },
        { "AH: (len+2)*4 bytes", Udp(Ipv6ExtensionSpec.Auth(16)), Ipv6ExtStatus.Ok, IpProto.Udp, 56, 1 },
        { "hop-by-hop after destination options", Udp(Ipv6ExtensionSpec.DestinationOptions(), Ipv6ExtensionSpec.HopByHop()), Ipv6ExtStatus.HopByHopNotFirst, 0, 0, 1 },
        { "a second hop-by-hop", Udp(Ipv6ExtensionSpec.HopByHop(), Ipv6ExtensionSpec.HopByHop()), Ipv6ExtStatus.HopByHopNotFirst, 0, 0, 1 },
        { "RH0 with a segment left: flagged, walked through", Udp(Ipv6ExtensionSpec.Routing(0, 1, Vip)), Ipv6ExtStatus.RoutingType0, IpProto.Udp, 64, 1 },
        { "RH0 with nothing left: ignored (RFC 5095 §3)", Udp(Ipv6ExtensionSpec.Routing(0, 0, Vip)), Ipv6ExtStatus.Ok, IpProto.Udp, 64, 1 },
        { "segment routing (type 4) with segments left", Udp(Ipv6ExtensionSpec.Routing(4, 2, Vip)), Ipv6ExtStatus.Ok, IpProto.Udp, 80, 1 },
        { "first fragment", Udp(Ipv6ExtensionSpec.Fragment(0, true, 9)), Ipv6ExtStatus.Ok, IpProto.Udp, 48, 1 },
        { "later fragment: ends at the fragment header", Udp(Ipv6ExtensionSpec.Fragment(1448, false, 9), Ipv6ExtensionSpec.DestinationOptions()), Ipv6ExtStatus.Ok, Ipv6Extensions.DestinationOptions, 48, 1 },
        {
            "three headers pass cilium's bound",
            Udp(Ipv6ExtensionSpec.HopByHop(), Ipv6ExtensionSpec.DestinationOptions(), Ipv6ExtensionSpec.DestinationOptions()),
            Ipv6ExtStatus.Ok, IpProto.Udp, 64, 3
        },
    };

    [Theory]
    [MemberData(nameof(Chains))]
    public void Chains_built_by_the_builder(string name, byte[] frame, Ipv6ExtStatus status, byte proto, int l4Offset, int headers)
    {
        Assert.Equal(status, Ipv6Extensions.Walk(Ip(frame), out Ipv6Chain c));
        Assert.Equal(status, c.Status);
        Assert.Equal(headers, c.HeaderCount);
        if (c.HasUpperLayer)
        {
            Assert.Equal((proto, l4Offset), (c.Proto, c.L4Offset));
            if (!c.IsLaterFragment) Assert.Equal(40000, BinaryPrimitives.ReadUInt16BigEndian(Ip(frame).Slice(l4Offset)));
        }
        _ = name;
    }

    [Fact]
    public void Fragment_fields_are_read()
    {
        Ipv6Extensions.Walk(Ip(Udp(Ipv6ExtensionSpec.Fragment(0, false, 0xDEADBEEF))), out Ipv6Chain atomic);
        Assert.True(atomic.HasFragmentHeader && atomic.IsAtomicFragment && !atomic.IsFragment && !atomic.IsLaterFragment);
        Assert.Equal((40, 0xDEADBEEFu), (atomic.FragmentHeaderOffset, atomic.FragmentId));

        Ipv6Extensions.Walk(Ip(Udp(Ipv6ExtensionSpec.HopByHop(), Ipv6ExtensionSpec.Fragment(0, true, 5))), out Ipv6Chain first);
        Assert.True(first.IsFragment && first.MoreFragments && !first.IsLaterFragment && !first.IsAtomicFragment);
        Assert.Equal((48, 0, 5u), (first.FragmentHeaderOffset, first.FragmentOffset, first.FragmentId));

        Ipv6Extensions.Walk(Ip(Udp(Ipv6ExtensionSpec.Fragment(65528, true, 6))), out Ipv6Chain later);
        Assert.True(later.IsFragment && later.IsLaterFragment && later.MoreFragments);
        Assert.Equal((65528, IpProto.Udp), (later.FragmentOffset, later.Proto));

        Ipv6Extensions.Walk(Ip(Udp()), out Ipv6Chain none);
        Assert.False(none.HasFragmentHeader || none.IsFragment || none.IsAtomicFragment);
        Assert.Equal(-1, none.FragmentHeaderOffset);
    }

    [Fact]
    public void Parameter_problem_pointers_name_the_offending_field()
    {
        // RFC 4443 §3.4: code 1 points at the Next Header that names the misplaced HBH (the DO's, at 40), code 0 at the
        // routing type (ipv6_rthdr_rcv's unknown_rh: &hdr->type).
        Ipv6Extensions.Walk(Ip(Udp(Ipv6ExtensionSpec.DestinationOptions(), Ipv6ExtensionSpec.HopByHop())), out Ipv6Chain hbh);
        Assert.Equal(40, hbh.ProblemPointer);
        Ipv6Extensions.Walk(Ip(Udp(Ipv6ExtensionSpec.HopByHop(), Ipv6ExtensionSpec.Routing(0, 2, Vip))), out Ipv6Chain rh0);
        Assert.Equal((48 + 2, 48, (byte)0, (byte)2), (rh0.ProblemPointer, rh0.RoutingHeaderOffset, rh0.RoutingType, rh0.SegmentsLeft));
        Ipv6Extensions.Walk(Ip(Udp(Ipv6ExtensionSpec.Routing(0, 0, Vip))), out Ipv6Chain ignored);
        Assert.Equal(-1, ignored.ProblemPointer);
    }

    [Fact]
    public void No_next_header_ends_the_chain_without_an_upper_layer()
    {
        byte[] f = Udp(Ipv6ExtensionSpec.DestinationOptions());
        f[Ethernet.HeaderLength + 40] = Ipv6Extensions.NoNextHeader;
        Assert.Equal(Ipv6ExtStatus.NoNextHeader, Ipv6Extensions.Walk(Ip(f), out Ipv6Chain c));
        Assert.Equal((Ipv6Extensions.NoNextHeader, 48), (c.Proto, c.L4Offset));
        Assert.False(c.HasUpperLayer);
    }

    [Fact]
    public void The_header_bound_is_the_callers()
    {
        byte[] four = Udp(Ipv6ExtensionSpec.HopByHop(), Ipv6ExtensionSpec.DestinationOptions(),
            Ipv6ExtensionSpec.Routing(2, 0, Vip), Ipv6ExtensionSpec.DestinationOptions());
        Assert.Equal(Ipv6ExtStatus.Ok, Ipv6Extensions.Walk(Ip(four), out _));
        Assert.Equal(Ipv6ExtStatus.TooManyHeaders, Ipv6Extensions.Walk(Ip(four), out Ipv6Chain c, Ipv6Extensions.CiliumMaxHeaders));
        Assert.Equal(3, c.HeaderCount);
        Assert.Equal(Ipv6ExtStatus.Ok, Ipv6Extensions.Walk(Ip(Udp()), out _, maxHeaders: 0));
    }

    [Fact]
    public void Esp_is_an_upper_layer()
    {
        byte[] f = Udp();
        f[Ethernet.HeaderLength + Ipv6Header.NextHeaderOffset] = Ipv6Extensions.Esp;
        Assert.Equal(Ipv6ExtStatus.Ok, Ipv6Extensions.Walk(Ip(f), out Ipv6Chain c));
        Assert.Equal((Ipv6Extensions.Esp, 40), (c.Proto, c.L4Offset));
    }

    [Fact]
    public void Ethernet_padding_after_the_payload_is_not_walked()
    {
        byte[] f = Udp(Ipv6ExtensionSpec.HopByHop());
        byte[] padded = [.. f, 0x3c, 0x00, 0, 0, 0, 0, 0, 0];
        Assert.Equal(Ipv6ExtStatus.Ok, Ipv6Extensions.Walk(Ip(padded), out Ipv6Chain c));
        Assert.Equal(48, c.L4Offset);
        // A payload length that stops inside the chain: the walk stays inside it and calls it truncated.
        BinaryPrimitives.WriteUInt16BigEndian(padded.AsSpan(Ethernet.HeaderLength + 4), 4);
        Assert.Equal(Ipv6ExtStatus.Truncated, Ipv6Extensions.Walk(Ip(padded), out _));
    }

    /// <summary>Every prefix of a long chain: cut captures are truncated; a shortened payload length is truncated until the upper layer fits.</summary>
    [Fact]
    public void Every_truncation_is_named()
    {
        byte[] f = Udp(Ipv6ExtensionSpec.HopByHop(16), Ipv6ExtensionSpec.Routing(0, 0, Vip), Ipv6ExtensionSpec.Fragment(0, false, 1),
            Ipv6ExtensionSpec.Auth(), Ipv6ExtensionSpec.DestinationOptions());
        byte[] ip = f[Ethernet.HeaderLength..];
        Assert.Equal(Ipv6ExtStatus.Ok, Ipv6Extensions.Walk(ip, out Ipv6Chain whole));
        for (int len = 0; len < ip.Length; len++)
        {
            // The capture cut short: the payload length now claims bytes that are not there.
            Assert.Equal(Ipv6ExtStatus.Truncated, Ipv6Extensions.Walk(ip.AsSpan(0, len), out _));
            if (len < Ipv6Header.Length) continue;
            // The datagram itself shortened (payload length agrees): fine once the chain fits.
            byte[] cut = ip[..len];
            BinaryPrimitives.WriteUInt16BigEndian(cut.AsSpan(4), (ushort)(len - Ipv6Header.Length));
            Ipv6ExtStatus s = Ipv6Extensions.Walk(cut, out Ipv6Chain c);
            Assert.Equal(len >= whole.L4Offset ? Ipv6ExtStatus.Ok : Ipv6ExtStatus.Truncated, s);
            if (s == Ipv6ExtStatus.Ok) Assert.Equal(whole.L4Offset, c.L4Offset);
        }
    }

    /// <summary>Arbitrary bytes never throw (a read out of bounds would), and what is reported lies within the packet.</summary>
    [Fact]
    public void Arbitrary_bytes_never_throw_and_stay_in_bounds()
    {
        byte[] seed = Udp(Ipv6ExtensionSpec.HopByHop(), Ipv6ExtensionSpec.Routing(0, 1, Vip), Ipv6ExtensionSpec.Fragment(8, true, 1),
            Ipv6ExtensionSpec.Auth(), Ipv6ExtensionSpec.DestinationOptions())[Ethernet.HeaderLength..];
        var random = Gen.Byte.Array[0, 400];
        // Half the samples are a valid chain with a few bytes changed, so the deeper headers are reached.
        var mutated = Gen.Select(Gen.Int[0, 200].Array[1, 6], Gen.Byte.Array[6], Gen.Int[0, 200]).Select(t =>
        {
            byte[] b = seed[..Math.Max(0, seed.Length - t.Item3 % 40)];
            for (int i = 0; i < t.Item1.Length; i++)
                if (t.Item1[i] < b.Length) b[t.Item1[i]] = t.Item2[i];
            return b;
        });
        Gen.OneOf(random, mutated).Sample(bytes =>
        {
            if (bytes.Length > 0) bytes[0] = (byte)(0x60 | (bytes[0] & 0x0F));
            Ipv6ExtStatus s = Ipv6Extensions.Walk(bytes, out Ipv6Chain c);
            Assert.Equal(s, c.Status);
            int end = bytes.Length < 40 ? 0 : 40 + BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(4));
            if (c.HasUpperLayer || s == Ipv6ExtStatus.NoNextHeader)
            {
                Assert.InRange(c.L4Offset, 40, end);
                Assert.True(end <= bytes.Length);
            }
            if (c.HasFragmentHeader) Assert.InRange(c.FragmentHeaderOffset + 8, 48, end);
            if (c.RoutingHeaderOffset >= 0) Assert.InRange(c.RoutingHeaderOffset + 8, 48, end);
            Assert.InRange(c.HeaderCount, 0, Ipv6Extensions.KernelMaxHeaders);
        }, iter: 50000);
    }

    [Fact]
    public void Walking_allocates_nothing()
    {
        byte[] ip = Udp(Ipv6ExtensionSpec.HopByHop(), Ipv6ExtensionSpec.Fragment(0, true, 1))[Ethernet.HeaderLength..];
        Ipv6Extensions.Walk(ip, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int sum = 0;
        for (int i = 0; i < 1000; i++)
        {
            Ipv6Extensions.Walk(ip, out Ipv6Chain c);
            sum += c.L4Offset;
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(56_000, sum);
    }

    /// <summary>One frame of a corpus capture: what tcpdump 4.99 decoded (-vv), as the walk must see it.</summary>
    public static TheoryData<string, int, Ipv6ExtStatus, byte, int, int> CorpusFrames => new()
    {
        // file, frame index, status, upper-layer protocol, its offset, extension headers
        { "ipv6_http.pcap", 0, Ipv6ExtStatus.Ok, IpProto.Tcp, 40, 0 },                      // SYN with options
        { "ipv6_http.pcap", 4, Ipv6ExtStatus.Ok, IpProto.Tcp, 40, 0 },                      // 1432 bytes of HTTP, with a flow label
        { "port4242.pcap", 3, Ipv6ExtStatus.Ok, IpProto.Tcp, 40, 0 },                       // ::1 to ::1
        { "ipv6_icmpv6_hopbyhop_packet.pcap", 0, Ipv6ExtStatus.Ok, IpProto.Icmp6, 48, 1 },  // MLDv2 report behind HBH (router alert)
        // HBH, then 33 × (RH0 with nothing left, atomic fragment, DO), then UDP 12345 > 54321: 100 headers, all walked.
        { "ipv6_ext_headers.pcap", 0, Ipv6ExtStatus.Ok, IpProto.Udp, 840, 100 },
        // RH0 with segments left 1 and 2 (type 0 "[Deprecated]"): ICMPv6 echo, then UDP 5645 > 5642.
        { "ipv6-routing-header.pcap", 0, Ipv6ExtStatus.RoutingType0, IpProto.Icmp6, 64, 1 },
        { "ipv6-routing-header.pcap", 1, Ipv6ExtStatus.RoutingType0, IpProto.Icmp6, 80, 1 },
        { "ipv6-routing-header.pcap", 2, Ipv6ExtStatus.RoutingType0, IpProto.Udp, 64, 1 },
        { "ipv6-routing-header.pcap", 3, Ipv6ExtStatus.RoutingType0, IpProto.Udp, 80, 1 },
        // DNS over UDP, whole and in fragments: "frag (0x00000002:0|1432)" is a first fragment, ":1432|" and
        // ":2864|" later ones, and frame 3 the last fragment of a datagram whose others were not captured.
        { "ipv6-fragmented-dns.pcap", 0, Ipv6ExtStatus.Ok, IpProto.Udp, 40, 0 },
        { "ipv6-fragmented-dns.pcap", 3, Ipv6ExtStatus.Ok, IpProto.Udp, 48, 1 },
        { "ipv6-fragmented-dns.pcap", 5, Ipv6ExtStatus.Ok, IpProto.Udp, 48, 1 },
        { "ipv6-fragmented-dns.pcap", 6, Ipv6ExtStatus.Ok, IpProto.Udp, 48, 1 },
        { "ipv6-fragmented-dns.pcap", 7, Ipv6ExtStatus.Ok, IpProto.Udp, 48, 1 },
        { "icmp6-toobig.pcap", 0, Ipv6ExtStatus.Ok, IpProto.Icmp6, 40, 0 },
        { "icmp6-destunreach-ip6ext-udp.pcap", 0, Ipv6ExtStatus.Ok, IpProto.Icmp6, 40, 0 },
        { "ip6-udp-bad-chksum.pcap", 0, Ipv6ExtStatus.Ok, IpProto.Udp, 40, 0 },
        // Malformed: 39 bytes of IPv6 header; a header cut at 34 bytes; a hop-by-hop header 20 bytes short.
        { "ipv6_invalid_length.pcap", 0, Ipv6ExtStatus.Truncated, 0, 0, 0 },
        { "ip6-trunc.pcap", 0, Ipv6ExtStatus.Truncated, 0, 0, 0 },
        { "ip6-ext-trunc.pcap", 0, Ipv6ExtStatus.Truncated, 0, 0, 0 },
    };

    [Theory]
    [MemberData(nameof(CorpusFrames))]
    public void Corpus_captures_walk_as_tcpdump_decodes_them(string file, int index, Ipv6ExtStatus status, byte proto, int l4Offset, int headers)
    {
        byte[] ip = CorpusIp(file, index);
        Assert.Equal(status, Ipv6Extensions.Walk(ip, out Ipv6Chain c));
        Assert.Equal(headers, c.HeaderCount);
        if (c.HasUpperLayer) Assert.Equal((proto, l4Offset), (c.Proto, c.L4Offset));
    }

    [Fact]
    public void Corpus_fragments_carry_tcpdumps_offsets_and_ids()
    {
        // (frame, id, offset, M): tcpdump prints "frag (id:offset|length)"; M is set on all but a datagram's last.
        (int Frame, uint Id, int Offset, bool More)[] expected = [(3, 1, 2896, false), (5, 2, 0, true), (6, 2, 1432, true), (7, 2, 2864, false)];
        foreach (var e in expected)
        {
            Ipv6Extensions.Walk(CorpusIp("ipv6-fragmented-dns.pcap", e.Frame), out Ipv6Chain c);
            Assert.Equal((e.Id, e.Offset, e.More, 40), (c.FragmentId, c.FragmentOffset, c.MoreFragments, c.FragmentHeaderOffset));
            Assert.Equal(e.Offset != 0, c.IsLaterFragment);
        }
        // Cilium's bound stops the 100-header chain after three.
        Assert.Equal(Ipv6ExtStatus.TooManyHeaders, Ipv6Extensions.Walk(CorpusIp("ipv6_ext_headers.pcap", 0), out _, Ipv6Extensions.CiliumMaxHeaders));
    }

    /// <summary>The IPv6 packet of frame <paramref name="index"/> of a corpus capture (Ethernet, no VLAN tags in these).</summary>
    internal static byte[] CorpusIp(string file, int index)
    {
        using var r = new CaptureReader(CaptureCorpus.File(file));
        for (int i = 0; r.TryRead(out CaptureFrame f); i++)
        {
            if (i != index) continue;
            int l3 = Ethernet.L3Offset(f.Data, out ushort etherType);
            Assert.Equal(Ethernet.EtherTypeIPv6, etherType);
            return f.Data[l3..].ToArray();
        }
        throw new InvalidOperationException($"{file} has no frame {index}");
    }
}
