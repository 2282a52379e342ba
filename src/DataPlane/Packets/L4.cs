using System.Buffers.Binary;

namespace DataPlane.Packets;

/// <summary>Fixed offsets of the TCP (RFC 9293), UDP (RFC 768) and ICMP (RFC 792) headers, relative to the L4 start.</summary>
public static class L4
{
    public const int SrcPortOffset = 0;
    public const int DstPortOffset = 2;

    public const int TcpMinLength = 20;
    public const int TcpSeqOffset = 4;
    public const int TcpAckOffset = 8;
    public const int TcpDataOffsetOffset = 12;
    public const int TcpFlagsOffset = 13;
    public const int TcpChecksumOffset = 16;

    public const byte TcpFin = 0x01;
    public const byte TcpSyn = 0x02;
    public const byte TcpRst = 0x04;
    public const byte TcpPsh = 0x08;
    public const byte TcpAck = 0x10;

    public const int UdpLength = 8;
    public const int UdpLengthOffset = 4;
    public const int UdpChecksumOffset = 6;

    public const int IcmpHeaderLength = 8;
    public const int IcmpChecksumOffset = 2;
    public const int IcmpEchoIdOffset = 4;
    public const byte IcmpEchoReply = 0;
    public const byte IcmpDestUnreachable = 3;
    public const byte IcmpEchoRequest = 8;
    public const byte IcmpTimeExceeded = 11;
    public const byte IcmpPortUnreachableCode = 3;

    public static ushort ReadU16(ReadOnlySpan<byte> b, int offset) => BinaryPrimitives.ReadUInt16BigEndian(b.Slice(offset, 2));
    public static void WriteU16(Span<byte> b, int offset, ushort v) => BinaryPrimitives.WriteUInt16BigEndian(b.Slice(offset, 2), v);

    /// <summary>Offset of the L4 checksum field, or -1 for protocols without one we maintain.</summary>
    public static int ChecksumOffset(byte proto) => proto switch
    {
        IpProto.Tcp => TcpChecksumOffset,
        IpProto.Udp => UdpChecksumOffset,
        _ => -1,
    };
}
