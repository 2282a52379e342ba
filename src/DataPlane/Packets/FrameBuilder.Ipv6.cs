using System.Buffers.Binary;

namespace DataPlane.Packets;

/// <summary>
/// IPv6 frames: Ethernet II, the fixed IPv6 header (hop limit 64, no flow label unless given), the extension headers
/// asked for, then TCP, UDP or ICMPv6 with its checksum over the IPv6 pseudo-header (RFC 8200 §8.1). For tests,
/// fixtures and <c>dataplane trace</c>; the IPv4 builder beside it is unchanged.
/// </summary>
public static partial class FrameBuilder
{
    /// <summary>A bare IPv6 TCP SYN: Ethernet, 40-byte IPv6 header, 20-byte TCP header.</summary>
    public const int TcpSyn6Length = Ethernet.HeaderLength + Ipv6Header.Length + L4.TcpMinLength;
    public const int Udp6Length = Ethernet.HeaderLength + Ipv6Header.Length + L4.UdpLength;

    /// <summary>
    /// A TCP or UDP frame over IPv6, the IPv6 twin of <see cref="Write"/>: TCP flags, sequence number (and with ACK an
    /// acknowledgment number derived from it), <paramref name="payload"/> patterned bytes, then any
    /// <paramref name="extensions"/> between the IPv6 header and the L4 header. With a Fragment header of nonzero
    /// offset the L4 region is written as fragment data (patterned bytes, no L4 header); with one whose M flag is set
    /// the checksum covers only the bytes written. Returns the length written.
    /// </summary>
    public static int Write6(Span<byte> frame, byte proto, Ip6 src, ushort sport, Ip6 dst, ushort dport, byte tcpFlags,
        int payload = 0, uint seq = 1, ReadOnlySpan<Ipv6ExtensionSpec> extensions = default, byte hopLimit = 64,
        uint flowLabel = 0, byte trafficClass = 0)
    {
        if (proto is not (IpProto.Tcp or IpProto.Udp)) throw new ArgumentOutOfRangeException(nameof(proto), proto, "TCP or UDP; ICMPv6 is WriteIcmp6");
        int l4Len = (proto == IpProto.Tcp ? L4.TcpMinLength : L4.UdpLength) + payload;
        Span<byte> l4 = WriteHeaders6(frame, proto, src, dst, extensions, l4Len, hopLimit, flowLabel, trafficClass,
            out Ip6 pseudoDst, out bool laterFragment, out int total);
        if (laterFragment)
        {
            for (int i = 0; i < l4Len; i++) l4[i] = (byte)(i * 7 + seq);
            return total;
        }
        int csumOffset = WriteL4(l4, proto, sport, dport, tcpFlags, payload, seq);
        ushort c = Checksum.Compute6(l4, src, pseudoDst, proto);
        // RFC 8200 §8.1: a UDP checksum that computes to zero is sent as 0xFFFF (zero would read as none, invalid in IPv6).
        L4.WriteU16(l4, csumOffset, proto == IpProto.Udp && c == 0 ? (ushort)0xFFFF : c);
        return total;
    }

    /// <summary>
    /// An ICMPv6 frame: <paramref name="type"/>, <paramref name="code"/>, the 4-byte type-specific word
    /// (<paramref name="word"/>: echo identifier &lt;&lt; 16 | sequence, the MTU of a packet too big, a parameter
    /// problem's pointer), then <paramref name="body"/> (echo data, or the quoted packet of an error), with the
    /// checksum over the pseudo-header (RFC 4443 §2.3). Returns the length written.
    /// </summary>
    public static int WriteIcmp6(Span<byte> frame, Ip6 src, Ip6 dst, byte type, byte code, uint word, ReadOnlySpan<byte> body,
        ReadOnlySpan<Ipv6ExtensionSpec> extensions = default, byte hopLimit = 64)
    {
        int l4Len = Icmp6.HeaderLength + body.Length;
        Span<byte> icmp = WriteHeaders6(frame, IpProto.Icmp6, src, dst, extensions, l4Len, hopLimit, 0, 0,
            out Ip6 pseudoDst, out bool laterFragment, out int total);
        if (laterFragment)
        {
            for (int i = 0; i < l4Len; i++) icmp[i] = (byte)(i * 7);
            return total;
        }
        icmp[Icmp6.TypeOffset] = type;
        icmp[Icmp6.CodeOffset] = code;
        BinaryPrimitives.WriteUInt32BigEndian(icmp.Slice(4), word);
        body.CopyTo(icmp.Slice(Icmp6.HeaderLength));
        L4.WriteU16(icmp, Icmp6.ChecksumOffset, Checksum.Compute6(icmp, src, pseudoDst, IpProto.Icmp6));
        return total;
    }

    /// <summary>
    /// Clears the frame up to the end of an upper-layer packet of <paramref name="l4Len"/> bytes and writes Ethernet, the
    /// fixed IPv6 header and the extension headers in front of it; returns the upper-layer region to fill.
    /// <paramref name="pseudoDst"/> is the destination the L4 checksum uses: a Routing header's final destination while
    /// it has segments left (RFC 8200 §8.1), else <paramref name="dst"/>.
    /// </summary>
    static Span<byte> WriteHeaders6(Span<byte> frame, byte proto, Ip6 src, Ip6 dst, ReadOnlySpan<Ipv6ExtensionSpec> extensions,
        int l4Len, byte hopLimit, uint flowLabel, byte trafficClass, out Ip6 pseudoDst, out bool laterFragment, out int total)
    {
        int extLen = 0;
        foreach (Ipv6ExtensionSpec e in extensions) extLen += e.Length;
        int payloadLength = extLen + l4Len;
        if (payloadLength > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(l4Len), payloadLength, "IPv6 payload above 65535 bytes (no jumbograms)");
        total = Ethernet.HeaderLength + Ipv6Header.Length + payloadLength;
        Span<byte> f = frame.Slice(0, total);
        f.Clear();
        DstMac.CopyTo(f);
        SrcMac.CopyTo(f.Slice(Ethernet.SrcMacOffset));
        BinaryPrimitives.WriteUInt16BigEndian(f.Slice(Ethernet.EtherTypeOffset), Ethernet.EtherTypeIPv6);
        Span<byte> ip = f.Slice(Ethernet.HeaderLength);
        BinaryPrimitives.WriteUInt32BigEndian(ip, 6u << 28 | (uint)trafficClass << 20 | (flowLabel & Ipv6Header.FlowLabelMask));
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv6Header.PayloadLengthOffset), (ushort)payloadLength);
        ip[Ipv6Header.NextHeaderOffset] = extensions.Length > 0 ? extensions[0].Type : proto;
        ip[Ipv6Header.HopLimitOffset] = hopLimit;
        src.Write(ip.Slice(Ipv6Header.SrcOffset));
        dst.Write(ip.Slice(Ipv6Header.DstOffset));

        pseudoDst = dst;
        laterFragment = false;
        int off = Ipv6Header.Length;
        for (int k = 0; k < extensions.Length; k++)
        {
            Ipv6ExtensionSpec e = extensions[k];
            Span<byte> h = ip.Slice(off, e.Length);
            h[Ipv6Extensions.NextHeaderOffset] = k + 1 < extensions.Length ? extensions[k + 1].Type : proto;
            switch (e.Type)
            {
                case Ipv6Extensions.Fragment:
                    BinaryPrimitives.WriteUInt16BigEndian(h.Slice(Ipv6Extensions.FragmentOffsetOffset),
                        (ushort)(e.FragmentOffset | (e.MoreFragments ? Ipv6Extensions.FragmentMoreFlag : 0)));
                    BinaryPrimitives.WriteUInt32BigEndian(h.Slice(Ipv6Extensions.FragmentIdOffset), e.FragmentId);
                    laterFragment |= e.FragmentOffset != 0;
                    break;
                case Ipv6Extensions.Auth:
                    h[Ipv6Extensions.HdrExtLenOffset] = (byte)(e.Length / 4 - 2);
                    BinaryPrimitives.WriteUInt32BigEndian(h.Slice(4), 0x100); // SPI: 1-255 are reserved (RFC 4302 §2.4)
                    BinaryPrimitives.WriteUInt32BigEndian(h.Slice(8), 1);     // sequence number
                    break;
                case Ipv6Extensions.Routing:
                    h[Ipv6Extensions.HdrExtLenOffset] = (byte)(e.Length / 8 - 1);
                    h[Ipv6Extensions.RoutingTypeOffset] = e.RoutingType;
                    h[Ipv6Extensions.SegmentsLeftOffset] = e.SegmentsLeft;
                    e.FinalDestination.Write(h.Slice(e.Length - Ip6.Length));
                    if (e.SegmentsLeft != 0) pseudoDst = e.FinalDestination;
                    break;
                default:
                    // Hop-by-hop and destination options: one PadN option fills the option area (RFC 8200 §4.2).
                    h[Ipv6Extensions.HdrExtLenOffset] = (byte)(e.Length / 8 - 1);
                    h[2] = 1;
                    h[3] = (byte)(e.Length - 4);
                    break;
            }
            off += e.Length;
        }
        return ip.Slice(off, l4Len);
    }
}
