namespace DataPlane.Packets;

/// <summary>
/// What <see cref="Ipv6Extensions.Walk"/> found in an IPv6 packet's extension header chain. Offsets count from the
/// first byte of the fixed IPv6 header. A plain struct filled through <c>out</c>: nothing is allocated.
/// </summary>
public struct Ipv6Chain
{
    /// <summary>How the walk ended; when it is a failure, only the fields up to the failing header are meaningful.</summary>
    public Ipv6ExtStatus Status;

    /// <summary>
    /// The upper-layer protocol (TCP 6, UDP 17, ICMPv6 58, ESP 50 …). For a non-first fragment it is the Fragment
    /// header's Next Header: the protocol of the datagram the fragment belongs to, as ipv6_find_hdr returns it.
    /// </summary>
    public byte Proto;

    /// <summary>Where the upper-layer header starts (for a non-first fragment, where its data starts).</summary>
    public int L4Offset;

    /// <summary>Extension headers walked (the fixed header not counted).</summary>
    public int HeaderCount;

    /// <summary>Where the Fragment header starts, or -1 without one (the last one walked, when a chain holds several).</summary>
    public int FragmentHeaderOffset;

    /// <summary>Fragment Offset in bytes (the field is in 8-byte units, RFC 8200 §4.5).</summary>
    public int FragmentOffset;

    /// <summary>The M flag: more fragments follow.</summary>
    public bool MoreFragments;

    /// <summary>The Fragment header's Identification (host order).</summary>
    public uint FragmentId;

    /// <summary>Where the (last) Routing header starts, or -1 without one.</summary>
    public int RoutingHeaderOffset;

    /// <summary>The Routing header's Routing Type (0 deprecated RH0, 2 Mobile IPv6, 3 RPL, 4 segment routing).</summary>
    public byte RoutingType;

    /// <summary>The Routing header's Segments Left: nodes still to visit.</summary>
    public byte SegmentsLeft;

    /// <summary>
    /// For <see cref="Ipv6ExtStatus.HopByHopNotFirst"/> and <see cref="Ipv6ExtStatus.RoutingType0"/>: the pointer an
    /// ICMPv6 parameter problem carries (RFC 4443 §3.4), the offset of the offending field; -1 otherwise.
    /// </summary>
    public int ProblemPointer;

    /// <summary>There is a Fragment header.</summary>
    public readonly bool HasFragmentHeader => FragmentHeaderOffset >= 0;

    /// <summary>A real fragment: a Fragment header with an offset or the M flag (RFC 8200 §4.5).</summary>
    public readonly bool IsFragment => FragmentHeaderOffset >= 0 && (FragmentOffset != 0 || MoreFragments);

    /// <summary>
    /// An atomic fragment: a Fragment header with offset 0 and M clear. RFC 6946 §4: it is processed as a whole
    /// datagram, never queued for reassembly (the kernel's ipv6_frag_rcv handles it in place).
    /// </summary>
    public readonly bool IsAtomicFragment => FragmentHeaderOffset >= 0 && FragmentOffset == 0 && !MoreFragments;

    /// <summary>A fragment other than the first: no upper-layer header, matched through reassembly or a fragment map.</summary>
    public readonly bool IsLaterFragment => FragmentHeaderOffset >= 0 && FragmentOffset != 0;

    /// <summary>Proto and L4Offset are valid: the walk reached the upper layer (RH0 included, see <see cref="Ipv6ExtStatus.RoutingType0"/>).</summary>
    public readonly bool HasUpperLayer => Status is Ipv6ExtStatus.Ok or Ipv6ExtStatus.RoutingType0;
}
