using System.Buffers.Binary;

namespace DataPlane.Packets;

/// <summary>
/// Builds the first frame of a new connection (a TCP SYN or a UDP datagram) for `dataplane trace`, the way cilium's
/// pktgen builds test packets: Ethernet II, a 20-byte IPv4 header (TTL 64, DF), full checksums.
/// </summary>
public static partial class FrameBuilder
{
    public const int TcpSynLength = Ethernet.HeaderLength + Ipv4Header.MinLength + L4.TcpMinLength;
    public const int UdpLength = Ethernet.HeaderLength + Ipv4Header.MinLength + L4.UdpLength;

    static ReadOnlySpan<byte> SrcMac => [0x02, 0, 0, 0, 0, 0x01];
    static ReadOnlySpan<byte> DstMac => [0x02, 0, 0, 0, 0, 0x02];

    /// <summary>Writes the frame into <paramref name="frame"/> and returns its length.</summary>
    public static int FirstPacket(Span<byte> frame, byte proto, uint src, ushort sport, uint dst, ushort dport) =>
        proto == IpProto.Sctp ? SctpFrameBuilder.Write(frame, src, sport, dst, dport)   // an INIT
            : Write(frame, proto, src, sport, dst, dport, L4.TcpSyn);

    /// <summary>
    /// Any TCP or UDP frame of that shape (benchmarks and tests build millions with it): TCP flags, sequence number
    /// (and, with ACK, an acknowledgment number derived from it), a payload of <paramref name="payload"/> patterned bytes,
    /// an IP id. Returns the length written.
    /// </summary>
    public static int Write(Span<byte> frame, byte proto, uint src, ushort sport, uint dst, ushort dport, byte tcpFlags,
        int payload = 0, uint seq = 1, ushort ipId = 0)
    {
        int l4Len = (proto == IpProto.Tcp ? L4.TcpMinLength : L4.UdpLength) + payload;
        int total = Ipv4Header.MinLength + l4Len;
        Span<byte> l4 = WriteHeaders(frame, proto, src, dst, l4Len, ipId);
        int csumOffset = WriteL4(l4, proto, sport, dport, tcpFlags, payload, seq);
        ushort c = Checksum.Compute(l4, Checksum.PseudoHeaderSum(src, dst, proto, l4Len));
        L4.WriteU16(l4, csumOffset, proto == IpProto.Udp && c == 0 ? (ushort)0xFFFF : c);
        return Ethernet.HeaderLength + total;
    }

    /// <summary>
    /// The TCP or UDP header and patterned payload of a segment filling <paramref name="l4"/>, either IP version:
    /// ports, TCP sequence (and, with ACK, acknowledgment), data offset, flags and window, or the UDP length. The
    /// checksum field stays zero; returns its offset for the caller to fill over its own pseudo-header.
    /// </summary>
    internal static int WriteL4(Span<byte> l4, byte proto, ushort sport, ushort dport, byte tcpFlags, int payload, uint seq)
    {
        int l4Len = l4.Length;
        L4.WriteU16(l4, L4.SrcPortOffset, sport);
        L4.WriteU16(l4, L4.DstPortOffset, dport);
        for (int i = l4Len - payload; i < l4Len; i++) l4[i] = (byte)(i * 7 + seq);
        if (proto != IpProto.Tcp)
        {
            L4.WriteU16(l4, L4.UdpLengthOffset, (ushort)l4Len);
            return L4.UdpChecksumOffset;
        }
        BinaryPrimitives.WriteUInt32BigEndian(l4.Slice(L4.TcpSeqOffset), seq);
        if ((tcpFlags & L4.TcpAck) != 0) BinaryPrimitives.WriteUInt32BigEndian(l4.Slice(L4.TcpAckOffset), seq ^ 0x5a5a5a5a);
        l4[L4.TcpDataOffsetOffset] = 5 << 4;
        l4[L4.TcpFlagsOffset] = tcpFlags;
        L4.WriteU16(l4, 14, 64240); // window
        return L4.TcpChecksumOffset;
    }

    /// <summary>
    /// Clears <paramref name="frame"/> up to the end of an L4 segment of <paramref name="l4Len"/> bytes and writes the
    /// Ethernet and IPv4 headers (DF, TTL 64, header checksum) in front of it; returns the L4 segment to fill.
    /// </summary>
    internal static Span<byte> WriteHeaders(Span<byte> frame, byte proto, uint src, uint dst, int l4Len, ushort ipId)
    {
        int total = Ipv4Header.MinLength + l4Len;
        Span<byte> f = frame.Slice(0, Ethernet.HeaderLength + total);
        f.Clear();
        DstMac.CopyTo(f);
        SrcMac.CopyTo(f.Slice(Ethernet.SrcMacOffset));
        BinaryPrimitives.WriteUInt16BigEndian(f.Slice(Ethernet.EtherTypeOffset), Ethernet.EtherTypeIPv4);
        Span<byte> ip = f.Slice(Ethernet.HeaderLength);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.TotalLengthOffset), (ushort)total);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.IdOffset), ipId);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.FlagsFragmentOffset), Ipv4Header.FlagDontFragment);
        ip[Ipv4Header.TtlOffset] = 64;
        ip[Ipv4Header.ProtocolOffset] = proto;
        BinaryPrimitives.WriteUInt32BigEndian(ip.Slice(Ipv4Header.SrcOffset), src);
        BinaryPrimitives.WriteUInt32BigEndian(ip.Slice(Ipv4Header.DstOffset), dst);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.ChecksumOffset), Checksum.Compute(ip.Slice(0, Ipv4Header.MinLength)));
        return ip.Slice(Ipv4Header.MinLength, l4Len);
    }
}
