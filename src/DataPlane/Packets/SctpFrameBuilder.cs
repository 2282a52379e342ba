using System.Buffers.Binary;

namespace DataPlane.Packets;

/// <summary>
/// Builds SCTP frames for `dataplane trace --proto sctp`, the benchmarks and tests: Ethernet II, a 20-byte IPv4 header
/// (TTL 64, DF), the SCTP common header and one chunk: an INIT (RFC 9260 §3.3.2, verification tag 0) or a DATA chunk
/// (§3.3.1, B and E flags) carrying <c>payload</c> patterned bytes, padded to 4; CRC32c computed.
/// </summary>
public static class SctpFrameBuilder
{
    public const int InitChunkLength = 20;       // chunk header + initiate tag, a_rwnd, streams, initial TSN
    public const int DataChunkHeaderLength = 16; // chunk header + TSN, stream id, stream sequence, PPID

    /// <summary>Writes an INIT (<paramref name="data"/> false) or a DATA chunk frame; returns its length.</summary>
    public static int Write(Span<byte> frame, uint src, ushort sport, uint dst, ushort dport, bool data = false,
        int payload = 0, uint vtag = 0, uint tsn = 1, ushort ipId = 0)
    {
        int chunkLen = data ? DataChunkHeaderLength + payload : InitChunkLength;
        int l4Len = Sctp.CommonHeaderLength + ((chunkLen + 3) & ~3);
        int total = Ipv4Header.MinLength + l4Len;
        Span<byte> s = FrameBuilder.WriteHeaders(frame, IpProto.Sctp, src, dst, l4Len, ipId);
        L4.WriteU16(s, Sctp.SrcPortOffset, sport);
        L4.WriteU16(s, Sctp.DstPortOffset, dport);
        BinaryPrimitives.WriteUInt32BigEndian(s.Slice(Sctp.VerificationTagOffset), data ? vtag : 0);
        Span<byte> c = s.Slice(Sctp.CommonHeaderLength);
        L4.WriteU16(c, Sctp.ChunkLengthOffset, (ushort)chunkLen);
        if (data)
        {
            c[Sctp.ChunkTypeOffset] = Sctp.Data;
            c[Sctp.ChunkFlagsOffset] = 0x03; // B and E: one whole user message
            BinaryPrimitives.WriteUInt32BigEndian(c.Slice(4), tsn);
            for (int i = 0; i < payload; i++) c[DataChunkHeaderLength + i] = (byte)(i * 7 + tsn);
        }
        else
        {
            c[Sctp.ChunkTypeOffset] = Sctp.Init;
            BinaryPrimitives.WriteUInt32BigEndian(c.Slice(Sctp.InitiateTagOffset), vtag != 0 ? vtag : 0x1C0FFEE1u);
            BinaryPrimitives.WriteUInt32BigEndian(c.Slice(8), 106496);  // a_rwnd
            L4.WriteU16(c, 12, 10);                                     // outbound streams
            L4.WriteU16(c, 14, 65535);                                  // inbound streams
            BinaryPrimitives.WriteUInt32BigEndian(c.Slice(16), tsn);    // initial TSN
        }
        Crc32c.WriteSctp(s);
        return Ethernet.HeaderLength + total;
    }
}
