using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace DataPlane.Packets;

/// <summary>
/// The IPv6 side of the Internet checksum. IPv6 has no header checksum (RFC 8200 §3); every upper layer that covers the
/// IP addresses — TCP, UDP and, unlike ICMPv4, ICMPv6 (RFC 4443 §2.3) — sums the IPv6 pseudo-header of RFC 8200 §8.1:
/// source, destination, the 32-bit upper-layer packet length and a zero-padded Next Header. So a NAT66 address rewrite
/// patches the L4 checksum only, with <see cref="Diff128"/> (RFC 1624 eqn. 3 over the eight changed words), as cilium's
/// csum_diff over a v6 address does (bpf/lib/csum.h, lb6/nat6 rewrites).
/// </summary>
public static partial class Checksum
{
    /// <summary>Sum of the eight 16-bit groups of an address, not folded (at most 8 × 0xFFFF).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Sum(Ip6 address) => WordSum(address.Hi) + WordSum(address.Lo);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static uint WordSum(ulong x) =>
        (uint)(x >> 48) + (uint)((x >> 32) & 0xFFFF) + (uint)((x >> 16) & 0xFFFF) + (uint)(x & 0xFFFF);

    /// <summary>
    /// The IPv6 pseudo-header sum (RFC 8200 §8.1): source, destination, upper-layer packet length as 32 bits, three
    /// zero bytes and the upper-layer protocol. <paramref name="upperLength"/> is the length of the upper-layer header
    /// and data, without the extension headers before it (unlike IPv6's Payload Length). With a Routing header, the
    /// destination is the final one (the last address of a type 0 header), not the one in the fixed header.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint PseudoHeaderSum6(Ip6 src, Ip6 dst, byte nextHeader, int upperLength) =>
        Sum(src) + Sum(dst) + ((uint)upperLength >> 16) + ((uint)upperLength & 0xFFFF) + nextHeader;

    /// <summary>The checksum field value for an upper-layer packet whose checksum field is zero.</summary>
    public static ushort Compute6(ReadOnlySpan<byte> upper, Ip6 src, Ip6 dst, byte nextHeader) =>
        Compute(upper, PseudoHeaderSum6(src, dst, nextHeader, upper.Length));

    /// <summary>
    /// Full verification of a TCP, UDP or ICMPv6 packet over IPv6: the sum over the pseudo-header and the whole upper-layer
    /// packet, checksum included, is 0xFFFF. A UDP checksum of zero fails: over IPv6 it is mandatory (RFC 8200 §8.1,
    /// "IPv6 receivers must discard UDP packets containing a zero checksum"; the kernel's udp6_csum_init counts
    /// UDP_MIB_CSUMERRORS), where IPv4 reads zero as "none". (RFC 6935/6936 relax this for tunnels only.)
    /// </summary>
    public static bool UpperLayerValid6(ReadOnlySpan<byte> upper, Ip6 src, Ip6 dst, byte nextHeader)
    {
        if (nextHeader == IpProto.Udp && IsZeroUdpChecksum6(upper)) return false;
        return Fold(Sum(upper, PseudoHeaderSum6(src, dst, nextHeader, upper.Length))) == 0xFFFF;
    }

    /// <summary>A UDP datagram over IPv6 whose checksum field is zero: invalid there (RFC 8200 §8.1), never "no checksum".</summary>
    public static bool IsZeroUdpChecksum6(ReadOnlySpan<byte> udp) =>
        udp.Length >= L4.UdpLength && BinaryPrimitives.ReadUInt16BigEndian(udp.Slice(L4.UdpChecksumOffset)) == 0;

    /// <summary>
    /// Words of ~m + m' for a 128-bit address changing from <paramref name="old"/> to <paramref name="new"/> (RFC 1624
    /// eqn. 3 summed over the eight groups, the IPv6 form of <see cref="Diff32"/>). Apply it with <see cref="Apply"/> to
    /// a TCP or ICMPv6 checksum, and with <see cref="ApplyUdp"/> to a UDP one: there a zero checksum stays zero, as the
    /// kernel's NAT leaves it (nf_nat_proto's udp_manip_pkt, the same for both families) for the receiver to drop,
    /// and a result of zero is sent as 0xFFFF, which RFC 8200 §8.1 requires of IPv6 senders too.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Diff128(Ip6 old, Ip6 @new) =>
        WordSum(~old.Hi) + WordSum(~old.Lo) + WordSum(@new.Hi) + WordSum(@new.Lo);
}
