namespace DataPlane.Packets;

/// <summary>
/// One extension header for <see cref="FrameBuilder.Write6"/> to put between the fixed IPv6 header and the upper
/// layer, in the order given; the builder links the Next Header fields. Made by the factories below, for tests,
/// fixtures and <c>dataplane trace</c>, as cilium's pktgen builds its IPv6 test packets.
/// </summary>
public readonly struct Ipv6ExtensionSpec
{
    /// <summary>The header's type, as the Next Header before it names it (<see cref="Ipv6Extensions"/> constants).</summary>
    public readonly byte Type;
    /// <summary>Bytes on the wire.</summary>
    public readonly int Length;
    /// <summary>Routing header: Routing Type and Segments Left.</summary>
    public readonly byte RoutingType, SegmentsLeft;
    /// <summary>Routing header: the last address it lists, the final destination the L4 pseudo-header uses while Segments Left &gt; 0.</summary>
    public readonly Ip6 FinalDestination;
    /// <summary>Fragment header: offset in bytes (a multiple of 8), the M flag, the identification.</summary>
    public readonly int FragmentOffset;
    public readonly bool MoreFragments;
    public readonly uint FragmentId;

    Ipv6ExtensionSpec(byte type, int length, byte routingType = 0, byte segmentsLeft = 0, Ip6 finalDestination = default,
        int fragmentOffset = 0, bool moreFragments = false, uint fragmentId = 0)
    {
        Type = type;
        Length = length;
        RoutingType = routingType;
        SegmentsLeft = segmentsLeft;
        FinalDestination = finalDestination;
        FragmentOffset = fragmentOffset;
        MoreFragments = moreFragments;
        FragmentId = fragmentId;
    }

    /// <summary>Hop-by-Hop Options of <paramref name="length"/> bytes (a multiple of 8), PadN inside (RFC 8200 §4.2).</summary>
    public static Ipv6ExtensionSpec HopByHop(int length = 8) => new(Ipv6Extensions.HopByHop, CheckOptionsLength(length));

    /// <summary>Destination Options of <paramref name="length"/> bytes (a multiple of 8), PadN inside (RFC 8200 §4.6).</summary>
    public static Ipv6ExtensionSpec DestinationOptions(int length = 8) =>
        new(Ipv6Extensions.DestinationOptions, CheckOptionsLength(length));

    /// <summary>
    /// A Routing header of the type 0 layout (RFC 2460 §4.4: four reserved bytes, then addresses):
    /// <paramref name="addresses"/> slots (default: as many as <paramref name="segmentsLeft"/>, at least one), zero
    /// but the last, which holds <paramref name="finalDestination"/>.
    /// </summary>
    public static Ipv6ExtensionSpec Routing(byte routingType, byte segmentsLeft, Ip6 finalDestination = default, int addresses = -1)
    {
        if (addresses < 0) addresses = Math.Max(1, (int)segmentsLeft);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(addresses, 127);
        return new(Ipv6Extensions.Routing, 8 + 16 * addresses, routingType, segmentsLeft, finalDestination);
    }

    /// <summary>A Fragment header (RFC 8200 §4.5): <paramref name="offset"/> in bytes, a multiple of 8 below 65,536.</summary>
    public static Ipv6ExtensionSpec Fragment(int offset, bool more, uint id)
    {
        if (offset < 0 || offset % 8 != 0 || offset > 0xFFF8) throw new ArgumentOutOfRangeException(nameof(offset), offset, "a multiple of 8 below 65536");
        return new(Ipv6Extensions.Fragment, Ipv6Extensions.FragmentHeaderLength, fragmentOffset: offset, moreFragments: more, fragmentId: id);
    }

    /// <summary>
    /// An Authentication Header (RFC 4302 §2) of <paramref name="length"/> bytes: 12 bytes of fields and an ICV of
    /// zeros; over IPv6 a multiple of 8 (24: HMAC-SHA1-96's 12-byte ICV).
    /// </summary>
    public static Ipv6ExtensionSpec Auth(int length = 24)
    {
        if (length < 16 || length % 8 != 0 || length > 1024) throw new ArgumentOutOfRangeException(nameof(length), length, "a multiple of 8, 16 to 1024");
        return new(Ipv6Extensions.Auth, length);
    }

    static int CheckOptionsLength(int length)
    {
        if (length < 8 || length % 8 != 0 || length > 2048) throw new ArgumentOutOfRangeException(nameof(length), length, "a multiple of 8, 8 to 2048");
        return length;
    }
}
