namespace DataPlane.Pipeline;

/// <summary>
/// Why a frame was dropped. The numbers are stable and never reused (like cilium's bpf/lib/drop_reasons.h): they appear in
/// counters and verdict files that outlive a build. A retired reason stays, marked [Obsolete].
/// </summary>
public enum DropReason : ushort
{
    None = 0,
    TruncatedEthernet = 1,
    TruncatedIpv4 = 2,
    InvalidIpv4Header = 3,
    InvalidIpv4Length = 4,
    BadIpChecksum = 5,
    TruncatedL4 = 6,
    InvalidL4Header = 7,
    UnsupportedL4 = 8,
    [Obsolete("Fragments are tracked now (FragmentStage); a later fragment whose first was not seen is FragFirstNotSeen.")]
    Ipv4Fragment = 9,
    TtlExceeded = 10,
    CtFull = 11,
    NatPortExhausted = 12,
    NoServiceBackend = 13,
    NotInSourceRange = 14,
    FragFirstNotSeen = 15,
    TruncatedIcmpError = 16,
    ServiceIpUnallocated = 17,
    CtInvalid = 18,
    /// <summary>An ICMP error whose ICMP checksum does not verify: INVALID to conntrack (icmp_error), not translated.</summary>
    IcmpBadChecksum = 19,
    /// <summary>A captured frame of a link type the replay cannot turn into Ethernet (counted by link type in the summary).</summary>
    UnsupportedLinkType = 23,
    /// <summary>
    /// Not a drop: a Linux cooked capture's copy of a frame the node itself sent (PACKET_OUTGOING), left alone with
    /// verdict pass so that a forwarded packet, captured arriving and leaving, is translated once.
    /// </summary>
    OutgoingCopy = 24,
    /// <summary>A message to the cluster DNS address that gets no answer: shorter than a DNS header, or a response (QR set).</summary>
    DnsIgnored = 26,
    /// <summary>
    /// A TCP segment of a DNS connection holding only part of a length-prefixed message: nothing consumed, nothing
    /// acknowledged (no reassembly buffer), so the client sends those bytes again with the rest.
    /// </summary>
    DnsTcpIncomplete = 27,
    /// <summary>A query to the cluster DNS address with a bad UDP/TCP checksum: the receiving stack discards it (UDP_MIB_CSUMERRORS).</summary>
    DnsBadChecksum = 28,
    /// <summary>An SCTP packet whose CRC32c does not match (nf_conntrack_sctp: INVALID, "bad CRC").</summary>
    SctpBadChecksum = 30,
    /// <summary>A fragmented SCTP packet: its CRC32c covers the whole packet, which a fragment does not hold.</summary>
    SctpFragment = 31,
    /// <summary>IPv4 options a forwarding node rejects (ip_options_compile: bad length or pointer, repeated option).</summary>
    BadIpOptions = 32,
    /// <summary>
    /// A TCP segment to the cluster DNS port that belongs to no connection and is not a valid third ACK (its
    /// acknowledgement is no SYN cookie we issued): answered with a RST when it carries ACK, as a listener does
    /// (tcp_v4_cookie_check fails, tcp_rcv_state_process in LISTEN), dropped otherwise.
    /// </summary>
    DnsTcpNoConnection = 33,
    /// <summary>
    /// A segment of a DNS connection that RFC 9293 §3.10.7.4 calls unacceptable: it acknowledges data never sent
    /// (tcp_ack: TCP_ACK_UNSENT_DATA) or far too old, its sequence number leaves a gap (no out-of-order queue here), or
    /// it carries none of ACK, SYN, RST (TCP_FLAGS).
    /// </summary>
    DnsTcpUnacceptable = 34,
}

public static class DropReasonNames
{
    // Indexed by the enum value; kept in one table so names and numbers cannot drift apart.
    static readonly string[] s_names =
    [
        "none",
        "truncated-ethernet",
        "truncated-ipv4",
        "invalid-ipv4-header",
        "invalid-ipv4-length",
        "bad-ip-checksum",
        "truncated-l4",
        "invalid-l4-header",
        "unsupported-l4",
        "ipv4-fragment-unsupported",
        "ttl-exceeded",
        "ct-full",
        "nat-port-exhausted",
        "no-service-backend",
        "not-in-source-range",
        "frag-first-not-seen",
        "truncated-icmp-error",
        "service-ip-unallocated",
        "ct-invalid",
        "icmp-bad-checksum",
        "reserved-20",
        "reserved-21",
        "reserved-22",
        "unsupported-link-type",
        "outgoing-copy",
        "reserved-25", "dns-ignored", "dns-tcp-incomplete", "dns-bad-checksum", "reserved-29",
        "sctp-bad-checksum",
        "sctp-fragment",
        "bad-ip-options",
        "dns-tcp-no-connection",
        "dns-tcp-unacceptable",
    ];

    public static int Count => s_names.Length;

    public static string Name(this DropReason r) => (int)r < s_names.Length ? s_names[(int)r] : ((int)r).ToString();
}
