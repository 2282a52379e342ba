namespace DataPlane.Packets;

/// <summary>
/// ICMPv6 (RFC 4443) and the Neighbor Discovery messages (RFC 4861) that share its header: types, codes and fixed
/// offsets relative to the ICMPv6 header. Unlike ICMPv4, the checksum covers the IPv6 pseudo-header
/// (<see cref="Checksum.PseudoHeaderSum6"/>, next header 58), so it follows every address rewrite.
/// </summary>
public static class Icmp6
{
    /// <summary>Type, code, checksum and the 4-byte type-specific word (RFC 4443 §2.1).</summary>
    public const int HeaderLength = 8;
    public const int TypeOffset = 0;
    public const int CodeOffset = 1;
    public const int ChecksumOffset = 2;
    /// <summary>Echo: Identifier then Sequence Number (RFC 4443 §4.1); the identifier plays the port's role in conntrack.</summary>
    public const int EchoIdOffset = 4;
    public const int EchoSeqOffset = 6;
    /// <summary>Packet Too Big: the MTU of the next hop, 32 bits (RFC 4443 §3.2).</summary>
    public const int MtuOffset = 4;
    /// <summary>Parameter Problem: the offset of the offending byte in the invoking packet, 32 bits (RFC 4443 §3.4).</summary>
    public const int PointerOffset = 4;
    /// <summary>Errors quote as much of the invoking packet as fits after their 8-byte header (RFC 4443 §2.4 (c)).</summary>
    public const int ErrorQuoteOffset = HeaderLength;
    /// <summary>An error message must not exceed the minimum IPv6 MTU (RFC 4443 §2.4 (c), RFC 8200 §5).</summary>
    public const int MinMtu = 1280;

    // Error messages have types 0-127 (RFC 4443 §2.1).
    public const byte DestUnreachable = 1;
    public const byte PacketTooBig = 2;
    public const byte TimeExceeded = 3;
    public const byte ParameterProblem = 4;

    // Informational messages have types 128-255.
    public const byte EchoRequest = 128;
    public const byte EchoReply = 129;
    /// <summary>Neighbor Discovery (RFC 4861 §4): router and neighbour solicitation/advertisement, redirect.</summary>
    public const byte RouterSolicitation = 133;
    public const byte RouterAdvertisement = 134;
    public const byte NeighborSolicitation = 135;
    public const byte NeighborAdvertisement = 136;
    public const byte Redirect = 137;

    // Destination Unreachable codes (RFC 4443 §3.1).
    public const byte NoRouteCode = 0;
    public const byte AdminProhibitedCode = 1;
    public const byte BeyondScopeCode = 2;
    public const byte AddressUnreachableCode = 3;
    /// <summary>What a closed UDP port, or a REJECT with the default icmp6-port-unreachable, answers (ip6t_REJECT).</summary>
    public const byte PortUnreachableCode = 4;
    public const byte SourcePolicyFailedCode = 5;
    public const byte RejectRouteCode = 6;

    // Time Exceeded codes (RFC 4443 §3.3).
    public const byte HopLimitExceededCode = 0;
    public const byte ReassemblyTimeExceededCode = 1;

    // Parameter Problem codes (RFC 4443 §3.4, RFC 7112 §6).
    public const byte ErroneousHeaderCode = 0;
    public const byte UnrecognizedNextHeaderCode = 1;
    public const byte UnrecognizedOptionCode = 2;
    /// <summary>The first fragment does not hold the whole header chain (RFC 7112 §6).</summary>
    public const byte IncompleteChainCode = 3;

    /// <summary>
    /// An error message (type below 128, RFC 4443 §2.1): never sent in answer to another error (§2.4 (e)), and the one
    /// kind conntrack relates to an existing flow through its quote (nf_conntrack_proto_icmpv6's icmpv6_error_message).
    /// </summary>
    public static bool IsError(byte type) => type < 128;
}
