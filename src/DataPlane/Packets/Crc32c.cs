using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace DataPlane.Packets;

/// <summary>
/// CRC32c (Castagnoli, reflected polynomial 0x82F63B78), the SCTP checksum (RFC 9260 §6.8 and Appendix A). Unlike the
/// Internet checksum it cannot be patched for a changed field: NAT recomputes it over the whole SCTP packet, as the
/// kernel's nf_nat_proto.c (sctp_manip_pkt → sctp_compute_cksum) does. <see cref="BitOperations.Crc32C(uint, ulong)"/>
/// compiles to the SSE4.2 / ARMv8 CRC32 instruction (software fallback elsewhere), so the loop takes 8 bytes per step.
/// </summary>
public static class Crc32c
{
    /// <summary>
    /// The SCTP checksum of <paramref name="sctp"/> (common header onward) as it must appear in the checksum field,
    /// computed as if that field were zero: the inverted CRC, read little-endian from the wire (Linux's
    /// <c>cpu_to_le32(~crc32c(~0, ...))</c>). The caller checks the common header fits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Sctp(ReadOnlySpan<byte> sctp)
    {
        uint crc = BitOperations.Crc32C(0xFFFFFFFFu, BinaryPrimitives.ReadUInt64LittleEndian(sctp));  // ports + vtag
        crc = BitOperations.Crc32C(crc, 0u);                                                        // checksum as zero
        return ~Update(crc, sctp.Slice(Packets.Sctp.CommonHeaderLength));
    }

    /// <summary>Whether the checksum field holds the CRC32c of the packet (what nf_conntrack_sctp's sctp_error checks).</summary>
    public static bool SctpValid(ReadOnlySpan<byte> sctp) =>
        BinaryPrimitives.ReadUInt32LittleEndian(sctp.Slice(Packets.Sctp.ChecksumOffset)) == Sctp(sctp);

    /// <summary>Recomputes and stores the checksum of an SCTP packet in place.</summary>
    public static void WriteSctp(Span<byte> sctp) =>
        BinaryPrimitives.WriteUInt32LittleEndian(sctp.Slice(Packets.Sctp.ChecksumOffset), Sctp(sctp));

    /// <summary>Raw CRC32c update (no pre- or post-inversion): 8 bytes per instruction, then the tail byte by byte.</summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i)));
        if (i + 4 <= data.Length)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i)));
            i += 4;
        }
        for (; i < data.Length; i++)
            crc = BitOperations.Crc32C(crc, data[i]);
        return crc;
    }

    /// <summary>The standard CRC-32C of <paramref name="data"/> (init and final XOR 0xFFFFFFFF): 0xE3069283 for "123456789".</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(0xFFFFFFFFu, data);
}
