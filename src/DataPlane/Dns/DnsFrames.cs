using System.Buffers.Binary;
using DataPlane.Packets;

namespace DataPlane.Dns;

/// <summary>Query frames for <c>dataplane dns</c>, tests and benchmarks: a DNS message in UDP, or in one TCP segment with its length prefix.</summary>
public static class DnsFrames
{
    /// <summary>Writes Ethernet/IPv4/UDP carrying <paramref name="message"/>; returns the frame length.</summary>
    public static int Udp(Span<byte> frame, uint src, ushort sport, uint dst, ReadOnlySpan<byte> message, ushort dport = 53) =>
        Write(frame, IpProto.Udp, src, sport, dst, dport, message, 0, 0, 0);

    /// <summary>Writes one TCP segment (ACK|PSH) carrying the two-byte length and <paramref name="message"/>.</summary>
    public static int Tcp(Span<byte> frame, uint src, ushort sport, uint dst, ReadOnlySpan<byte> message, uint seq, uint ack, ushort dport = 53) =>
        Write(frame, IpProto.Tcp, src, sport, dst, dport, message, L4.TcpAck | L4.TcpPsh, seq, ack);

    /// <summary>Writes the SYN that opens a DNS connection, with an MSS option of <paramref name="mss"/> (a client on a 1500-byte MTU).</summary>
    public static int Syn(Span<byte> frame, uint src, ushort sport, uint dst, uint isn, ushort dport = 53, ushort mss = 1460)
    {
        int len = FrameBuilder.Write(frame, IpProto.Tcp, src, sport, dst, dport, L4.TcpSyn, 4, isn);
        int l4 = Ethernet.HeaderLength + Ipv4Header.MinLength;
        Span<byte> seg = frame[l4..len];
        seg[L4.TcpDataOffsetOffset] = 6 << 4;
        seg[20] = 2; seg[21] = 4; // kind MSS, length 4
        BinaryPrimitives.WriteUInt16BigEndian(seg[22..], mss);
        L4.WriteU16(seg, L4.TcpChecksumOffset, 0);
        L4.WriteU16(seg, L4.TcpChecksumOffset, Checksum.Compute(seg, Checksum.PseudoHeaderSum(src, dst, IpProto.Tcp, seg.Length)));
        return len;
    }

    /// <summary>A TCP frame's sequence number (the server's ISN in its SYN-ACK: the third ACK acknowledges it + 1).</summary>
    public static uint TcpSeq(ReadOnlySpan<byte> frame)
    {
        int l3 = Ethernet.HeaderLength;
        return BinaryPrimitives.ReadUInt32BigEndian(frame[(l3 + (frame[l3] & 0xF) * 4 + L4.TcpSeqOffset)..]);
    }

    static int Write(Span<byte> frame, byte proto, uint src, ushort sport, uint dst, ushort dport, ReadOnlySpan<byte> message, byte flags, uint seq, uint ack)
    {
        int prefix = proto == IpProto.Tcp ? 2 : 0;
        int len = FrameBuilder.Write(frame, proto, src, sport, dst, dport, flags, prefix + message.Length, seq);
        int l4 = Ethernet.HeaderLength + Ipv4Header.MinLength;
        int hdr = proto == IpProto.Tcp ? L4.TcpMinLength : L4.UdpLength;
        Span<byte> seg = frame.Slice(l4, len - l4);
        if (prefix > 0) BinaryPrimitives.WriteUInt16BigEndian(seg[hdr..], (ushort)message.Length);
        message.CopyTo(seg[(hdr + prefix)..]);
        int csum = proto == IpProto.Tcp ? L4.TcpChecksumOffset : L4.UdpChecksumOffset;
        if (proto == IpProto.Tcp) BinaryPrimitives.WriteUInt32BigEndian(seg[L4.TcpAckOffset..], ack);
        L4.WriteU16(seg, csum, 0);
        ushort c = Checksum.Compute(seg, Checksum.PseudoHeaderSum(src, dst, proto, seg.Length));
        L4.WriteU16(seg, csum, proto == IpProto.Udp && c == 0 ? (ushort)0xFFFF : c);
        return len;
    }

    /// <summary>The DNS message inside an answered frame (UDP payload, or TCP payload after its length prefix).</summary>
    public static ReadOnlySpan<byte> Payload(ReadOnlySpan<byte> frame)
    {
        int l3 = Ethernet.HeaderLength;
        int ihl = (frame[l3] & 0xF) * 4;
        int total = BinaryPrimitives.ReadUInt16BigEndian(frame[(l3 + 2)..]);
        ReadOnlySpan<byte> l4 = frame.Slice(l3 + ihl, total - ihl);
        if (frame[l3 + 9] == IpProto.Udp) return l4[L4.UdpLength..];
        ReadOnlySpan<byte> data = l4[((l4[L4.TcpDataOffsetOffset] >> 4) * 4)..];
        return data.Length < 2 ? [] : data[2..];
    }
}
