namespace DataPlane.Packets;

/// <summary>
/// How <see cref="Ipv6Extensions.Walk"/> ended. Each failure is named so the pipeline can drop with its own reason,
/// as the kernel counts each in its own SNMP counter.
/// </summary>
public enum Ipv6ExtStatus : byte
{
    /// <summary>The chain ends in an upper-layer protocol (or a non-first fragment's data): <see cref="Ipv6Chain.Proto"/> and <see cref="Ipv6Chain.L4Offset"/> are valid.</summary>
    Ok = 0,
    /// <summary>
    /// The chain ends in No Next Header (59, RFC 8200 §4.7): there is no upper layer. ipv6_skip_exthdr returns -1 for it,
    /// so conntrack cannot track the packet (nf_conntrack's ipv6_get_l4proto fails).
    /// </summary>
    NoNextHeader = 1,
    /// <summary>
    /// Fewer than 40 bytes, or an extension header that runs past the packet: the kernel's skb_header_pointer /
    /// pskb_may_pull fails (IPSTATS_MIB_INHDRERRORS / INTRUNCATEDPKTS).
    /// </summary>
    Truncated = 2,
    /// <summary>
    /// A Hop-by-Hop Options header anywhere but directly after the fixed header (RFC 8200 §4.1). The kernel parses
    /// hop-by-hop only there (ip6_rcv_core); later, 0 has no protocol handler, so ip6_protocol_deliver_rcu answers ICMPv6
    /// parameter problem code 1 (unrecognized Next Header) pointing at the Next Header field that named it.
    /// </summary>
    HopByHopNotFirst = 3,
    /// <summary>
    /// A type 0 Routing header with Segments Left &gt; 0 (RFC 5095 §3: RH0 is deprecated and such a packet is discarded
    /// with ICMPv6 parameter problem code 0 pointing at the Routing Type; the kernel's ipv6_rthdr_rcv goes to
    /// unknown_rh). The rest of the chain was still walked: <see cref="Ipv6Chain.Proto"/> and
    /// <see cref="Ipv6Chain.L4Offset"/> are valid, because netfilter (ipv6_skip_exthdr) does not look at the routing
    /// type and conntrack still sees the flow; it is the receiving node that drops it. An RH0 with Segments Left 0 is
    /// ignored, as RFC 5095 and ipv6_rthdr_rcv ignore any routing header with nothing left to do.
    /// </summary>
    RoutingType0 = 4,
    /// <summary>More extension headers than the caller allows (cilium: IPV6_MAX_HEADERS, DROP_INVALID_EXTHDR).</summary>
    TooManyHeaders = 5,
}
