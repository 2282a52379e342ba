using System.Buffers.Binary;

namespace DataPlane.Packets;

/// <summary>
/// The IPv6 extension header chain (RFC 8200 §4), walked the way the Linux kernel walks it: ipv6_skip_exthdr and
/// ipv6_find_hdr (net/ipv6/exthdrs_core.c), which nf_conntrack uses to find the L4 protocol (ipv6_get_l4proto in
/// net/netfilter/nf_conntrack_core.c), plus the two receive-path rules RFC 8200 and RFC 5095 add (hop-by-hop first,
/// no RH0). One bounds check per header, then fixed-offset reads; never throws, never allocates, and every step moves
/// forward at least 8 bytes, so the walk ends within the packet whatever the bytes.
/// </summary>
public static class Ipv6Extensions
{
    // Next Header values of the extension headers (IANA "IPv6 Extension Header Types"; the kernel's NEXTHDR_*).
    public const byte HopByHop = 0;
    public const byte Routing = 43;
    public const byte Fragment = 44;
    /// <summary>ESP (RFC 4303): the kernel treats it as an upper layer (ipv6_ext_hdr excludes it): its contents are encrypted.</summary>
    public const byte Esp = 50;
    public const byte Auth = 51;
    public const byte NoNextHeader = 59;
    public const byte DestinationOptions = 60;

    /// <summary>Every extension header is a multiple of 8 bytes, at least 8 (RFC 8200 §4).</summary>
    public const int MinHeaderLength = 8;
    /// <summary>The Fragment header is always 8 bytes (RFC 8200 §4.5).</summary>
    public const int FragmentHeaderLength = 8;

    // Within an extension header: Next Header, then Hdr Ext Len (8-byte units not counting the first 8; AH: 4-byte units
    // minus 2).
    public const int NextHeaderOffset = 0;
    public const int HdrExtLenOffset = 1;
    /// <summary>Routing header: Routing Type, then Segments Left (RFC 8200 §4.4).</summary>
    public const int RoutingTypeOffset = 2;
    public const int SegmentsLeftOffset = 3;
    /// <summary>Fragment header: Fragment Offset (13 bits), 2 reserved bits, M (RFC 8200 §4.5), then Identification.</summary>
    public const int FragmentOffsetOffset = 2;
    public const int FragmentIdOffset = 4;
    public const ushort FragmentOffsetMask = 0xFFF8;
    public const ushort FragmentMoreFlag = 0x0001;

    /// <summary>
    /// The kernel counts no headers: each one is at least 8 bytes, so a 65,535-byte payload bounds the walk at 8191.
    /// </summary>
    public const int KernelMaxHeaders = ushort.MaxValue / MinHeaderLength;

    /// <summary>
    /// Cilium's bound: ipv6_hdrlen_offset (bpf/lib/ipv6.h) loops IPV6_MAX_HEADERS (4) times and must meet the upper layer
    /// within them, so at most 3 extension headers pass; more is DROP_INVALID_EXTHDR.
    /// </summary>
    public const int CiliumMaxHeaders = 3;

    /// <summary>Routing types (IANA "Routing Types"): deprecated RH0 (RFC 5095), Mobile IPv6 (RFC 6275), segment routing (RFC 8754).</summary>
    public const byte RoutingType0 = 0, RoutingTypeMobileIpv6 = 2, RoutingTypeSegment = 4;

    /// <summary>
    /// The destination the upper-layer checksum's pseudo-header holds (RFC 8200 §8.1): with a Routing header that still
    /// has segments left, the final destination — the last address of a type 0 header, the home address of a type 2
    /// (RFC 6275 §6.4), Segment List[0] of a segment routing header (RFC 8754 §2) — otherwise the fixed header's. A
    /// routing type whose addresses this cannot read (RPL's compressed ones) also gives the fixed header's.
    /// </summary>
    public static Ip6 PseudoHeaderDestination(ReadOnlySpan<byte> packet, in Ipv6Chain chain)
    {
        Ip6 dst = Ip6.Read(packet.Slice(Ipv6Header.DstOffset));
        int rh = chain.RoutingHeaderOffset;
        if (rh < 0 || chain.SegmentsLeft == 0) return dst;
        int length = (packet[rh + HdrExtLenOffset] + 1) * 8;   // walked: the whole header lies within the packet
        return chain.RoutingType switch
        {
            RoutingType0 or RoutingTypeMobileIpv6 when length >= 24 => Ip6.Read(packet.Slice(rh + length - Ip6.Length)),
            RoutingTypeSegment when length >= 24 => Ip6.Read(packet.Slice(rh + 8)),
            _ => dst,
        };
    }

    /// <summary>
    /// Whether <paramref name="nextHeader"/> names an extension header the walk steps over (the kernel's ipv6_ext_hdr:
    /// hop-by-hop, routing, fragment, AH, destination options, and no-next-header, which ends the walk).
    /// </summary>
    public static bool IsExtensionHeader(byte nextHeader) =>
        nextHeader is HopByHop or Routing or Fragment or Auth or NoNextHeader or DestinationOptions;

    /// <summary>
    /// Walks the chain of the IPv6 packet <paramref name="packet"/> (from its fixed header; Ethernet padding after
    /// 40 + Payload Length is ignored) to the upper layer, stepping over hop-by-hop (only first), destination options
    /// and routing headers ((Hdr Ext Len + 1) * 8 bytes), AH ((Payload Len + 2) * 4, RFC 4302 §2.2) and fragment headers
    /// (8 bytes). A non-first fragment ends the walk at its Fragment header with the datagram's protocol, as
    /// ipv6_find_hdr does; the first fragment and an atomic one walk on to the upper layer. At most
    /// <paramref name="maxHeaders"/> extension headers are walked (<see cref="KernelMaxHeaders"/>,
    /// <see cref="CiliumMaxHeaders"/>). Returns <see cref="Ipv6Chain.Status"/>.
    /// </summary>
    public static Ipv6ExtStatus Walk(ReadOnlySpan<byte> packet, out Ipv6Chain chain, int maxHeaders = KernelMaxHeaders)
    {
        chain = default;
        chain.FragmentHeaderOffset = -1;
        chain.RoutingHeaderOffset = -1;
        chain.ProblemPointer = -1;
        if ((uint)packet.Length < Ipv6Header.Length) return chain.Status = Ipv6ExtStatus.Truncated;
        int end = Ipv6Header.Length + BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(Ipv6Header.PayloadLengthOffset));
        // A payload length beyond the captured bytes: ip6_rcv_core drops the packet as truncated.
        if (end > packet.Length) return chain.Status = Ipv6ExtStatus.Truncated;
        packet = packet.Slice(0, end);

        byte nh = packet[Ipv6Header.NextHeaderOffset];
        int nhField = Ipv6Header.NextHeaderOffset; // where nh was read: the parameter-problem pointer for a misplaced HBH
        int off = Ipv6Header.Length;
        bool rh0 = false;
        while (IsExtensionHeader(nh))
        {
            if (nh == NoNextHeader)
            {
                chain.Proto = nh;
                chain.L4Offset = off;
                return chain.Status = Ipv6ExtStatus.NoNextHeader;
            }
            if (nh == HopByHop && off != Ipv6Header.Length)
            {
                chain.ProblemPointer = nhField;
                return chain.Status = Ipv6ExtStatus.HopByHopNotFirst;
            }
            if (chain.HeaderCount == maxHeaders) return chain.Status = Ipv6ExtStatus.TooManyHeaders;
            // Every extension header is at least 8 bytes: one check covers the fixed part each kind reads.
            if ((uint)(off + MinHeaderLength) > (uint)packet.Length) return chain.Status = Ipv6ExtStatus.Truncated;
            ReadOnlySpan<byte> h = packet.Slice(off);
            int length;
            if (nh == Fragment)
            {
                ushort field = BinaryPrimitives.ReadUInt16BigEndian(h.Slice(FragmentOffsetOffset));
                chain.FragmentHeaderOffset = off;
                chain.FragmentOffset = field & FragmentOffsetMask;
                chain.MoreFragments = (field & FragmentMoreFlag) != 0;
                chain.FragmentId = BinaryPrimitives.ReadUInt32BigEndian(h.Slice(FragmentIdOffset));
                chain.HeaderCount++;
                if ((field & FragmentOffsetMask) != 0)
                {
                    // A later fragment: what follows is the middle of the datagram, not headers (ipv6_skip_exthdr
                    // stops here; ipv6_find_hdr returns the fragment's Next Header).
                    chain.Proto = h[NextHeaderOffset];
                    chain.L4Offset = off + FragmentHeaderLength;
                    return chain.Status = rh0 ? Ipv6ExtStatus.RoutingType0 : Ipv6ExtStatus.Ok;
                }
                length = FragmentHeaderLength;
            }
            else
            {
                length = nh == Auth ? (h[HdrExtLenOffset] + 2) * 4 : (h[HdrExtLenOffset] + 1) * 8;
                if ((uint)(off + length) > (uint)packet.Length) return chain.Status = Ipv6ExtStatus.Truncated;
                if (nh == Routing)
                {
                    chain.RoutingHeaderOffset = off;
                    chain.RoutingType = h[RoutingTypeOffset];
                    chain.SegmentsLeft = h[SegmentsLeftOffset];
                    if (chain.RoutingType == RoutingType0 && chain.SegmentsLeft != 0 && !rh0)
                    {
                        rh0 = true;
                        chain.ProblemPointer = off + RoutingTypeOffset;
                    }
                }
                chain.HeaderCount++;
            }
            nhField = off + NextHeaderOffset;
            nh = h[NextHeaderOffset];
            off += length;
        }
        chain.Proto = nh;
        chain.L4Offset = off;
        return chain.Status = rh0 ? Ipv6ExtStatus.RoutingType0 : Ipv6ExtStatus.Ok;
    }
}
