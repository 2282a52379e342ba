using System.Buffers.Binary;
using DataPlane.Packets;

namespace DataPlane.IO.Tap;

/// <summary>What <see cref="VnetHeader.Prepare"/> did to a frame read with its virtio-net header.</summary>
public enum VnetFrame : byte
{
    /// <summary>Checksums complete: the frame goes to the pipeline as read and back with the same header.</summary>
    Plain,
    /// <summary>A single frame whose L4 checksum the kernel left for the device (NEEDS_CSUM): completed here, in software,
    /// so every stage sees a valid checksum (the DNS stage and REJECT check them), and the flag cleared.</summary>
    Completed,
    /// <summary>A TCP/IPv4 GSO frame (up to 64 KB, one header for many segments) whose checksum field holds the
    /// pseudo-header sum: rewritten so the pipeline's incremental updates apply to it, and restored by
    /// <see cref="VnetHeader.Finish"/> before the frame goes back.</summary>
    Segmented,
}

/// <summary>
/// The virtio-net header (struct virtio_net_hdr, include/uapi/linux/virtio_net.h) a TAP opened with IFF_VNET_HDR puts in
/// front of every frame, both ways: flags (NEEDS_CSUM, DATA_VALID), gso_type, hdr_len, gso_size, csum_start,
/// csum_offset; 10 bytes, fields in the host's byte order for a legacy (non-virtio-1) header, which tun uses unless
/// TUNSETVNETBE/LE say otherwise (drivers/net/tun.c tun_is_little_endian; x86-64 and arm64 are little-endian).
/// <para>
/// With TUNSETOFFLOAD (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) the device advertises checksum and segmentation offload,
/// so the kernel hands us what it would hand a NIC: a TCP stream's segments as one GSO packet of up to 64 KB with the
/// TCP checksum field holding only the pseudo-header sum (CHECKSUM_PARTIAL: tcp_v4_send_check writes
/// ~tcp_v4_check(len, saddr, daddr, 0), the folded sum, and the device adds the rest), and single frames with the same
/// partial checksum. Written back with the same header, the kernel rebuilds the GSO packet
/// (virtio_net_hdr_to_skb) and segments it only where a device without TSO needs it, as it does between veths. That is
/// what lets one read(2) and one write(2) carry 64 KB of a bulk TCP stream instead of 1.5 KB.
/// </para>
/// </summary>
public static class VnetHeader
{
    /// <summary>sizeof(struct virtio_net_hdr): tun's default vnet header size (TUNSETVNETHDRSZ not used).</summary>
    public const int Size = 10;

    public const int FlagsOffset = 0;
    public const int GsoTypeOffset = 1;
    public const int HdrLenOffset = 2;
    public const int GsoSizeOffset = 4;
    public const int CsumStartOffset = 6;
    public const int CsumOffsetOffset = 8;

    /// <summary>VIRTIO_NET_HDR_F_NEEDS_CSUM: the checksum at csum_start + csum_offset is the pseudo-header sum only.</summary>
    public const byte NeedsCsum = 1;
    /// <summary>VIRTIO_NET_HDR_F_DATA_VALID: the kernel had verified the checksum (CHECKSUM_UNNECESSARY).</summary>
    public const byte DataValid = 2;

    public const byte GsoNone = 0;
    public const byte GsoTcpV4 = 1;
    public const byte GsoTcpV6 = 4;
    /// <summary>VIRTIO_NET_HDR_GSO_ECN, or-ed into gso_type.</summary>
    public const byte GsoEcn = 0x80;

    // Ethernet + IPv4 fields the GSO check reads (the pipeline's own parse runs after).
    const int EtherTypeOffset = 12;
    const ushort EtherTypeIpv4 = 0x0800;
    const int L3Offset = 14;

    /// <summary>
    /// Makes a frame read with header <paramref name="header"/> ready for the pipeline (see <see cref="VnetFrame"/>).
    /// A GSO frame of a layout the pipeline does not translate in place (not TCP over untagged IPv4) and a partial
    /// checksum that points outside the frame are left as read: the pipeline passes IPv6 and drops what it cannot parse.
    /// </summary>
    public static VnetFrame Prepare(Span<byte> header, Span<byte> frame)
    {
        if ((header[FlagsOffset] & NeedsCsum) == 0) return VnetFrame.Plain;
        int start = BinaryPrimitives.ReadUInt16LittleEndian(header[CsumStartOffset..]);
        int field = start + BinaryPrimitives.ReadUInt16LittleEndian(header[CsumOffsetOffset..]);
        if (field + 2 > frame.Length || start > frame.Length) return VnetFrame.Plain;
        if ((header[GsoTypeOffset] & ~GsoEcn) == GsoNone)
        {
            // What the kernel does for a device without checksum offload (net/core/dev.c skb_checksum_help): sum from
            // csum_start to the end, the field's pseudo-header sum included, and store the complement; a result of 0
            // becomes CSUM_MANGLED_0 (0xFFFF), which a UDP receiver must not take for "no checksum" (RFC 768).
            ushort c = Checksum.Compute(frame[start..]);
            BinaryPrimitives.WriteUInt16BigEndian(frame[field..], c == 0 ? (ushort)0xFFFF : c);
            header[FlagsOffset] = (byte)((header[FlagsOffset] & ~NeedsCsum) | DataValid);
            return VnetFrame.Completed;
        }
        if ((header[GsoTypeOffset] & ~GsoEcn) != GsoTcpV4 || !IsTcpIpv4At(frame, start, field)) return VnetFrame.Plain;
        // The pipeline updates a TCP checksum incrementally (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')) for address and
        // port changes alike. A partial field P is the sum of the pseudo-header alone: the device will add the header
        // and payload, the ports among them. Presenting ~(P + sport + dport) makes the pipeline's update leave
        // ~(P + Δaddr + sport' + dport') behind; Finish takes the new ports back out, leaving P + Δaddr: the partial
        // sum for the new addresses, as the kernel's inet_proto_csum_replace4 keeps it for CHECKSUM_PARTIAL.
        uint p = BinaryPrimitives.ReadUInt16BigEndian(frame[field..]);
        uint ports = Ports(frame, start);
        BinaryPrimitives.WriteUInt16BigEndian(frame[field..], (ushort)~Checksum.Fold(p + (ports >> 16) + (ports & 0xFFFF)));
        return VnetFrame.Segmented;
    }

    /// <summary>After the pipeline: a <see cref="VnetFrame.Segmented"/> frame's checksum field back to a partial sum.</summary>
    public static void Finish(ReadOnlySpan<byte> header, Span<byte> frame)
    {
        int start = BinaryPrimitives.ReadUInt16LittleEndian(header[CsumStartOffset..]);
        int field = start + BinaryPrimitives.ReadUInt16LittleEndian(header[CsumOffsetOffset..]);
        uint full = (ushort)~BinaryPrimitives.ReadUInt16BigEndian(frame[field..]);
        uint ports = Ports(frame, start);
        // Subtracting in one's complement is adding the complement of each 16-bit word.
        uint p = full + (ushort)~(ports & 0xFFFF) + (ushort)~(ports >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(frame[field..], Checksum.Fold(p));
    }

    /// <summary>The source and destination ports as two 16-bit words packed in one (source high), for the sums above.</summary>
    static uint Ports(ReadOnlySpan<byte> frame, int l4) =>
        (uint)BinaryPrimitives.ReadUInt16BigEndian(frame[l4..]) << 16 | BinaryPrimitives.ReadUInt16BigEndian(frame[(l4 + 2)..]);

    static bool IsTcpIpv4At(ReadOnlySpan<byte> frame, int start, int field)
    {
        if (frame.Length < L3Offset + Ipv4Header.MinLength || BinaryPrimitives.ReadUInt16BigEndian(frame[EtherTypeOffset..]) != EtherTypeIpv4)
            return false;
        int ihl = (frame[L3Offset] & 0x0F) * 4;
        return frame[L3Offset] >> 4 == 4 && frame[L3Offset + Ipv4Header.ProtocolOffset] == IpProto.Tcp &&
               start == L3Offset + ihl && field == start + L4.TcpChecksumOffset && start + L4.TcpMinLength <= frame.Length;
    }
}
