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
    /// A captured record cut short by the capture's snap length (<c>tcpdump -s</c>) before the end of a header the
    /// verdict needs (IP, the L4 header, an ICMP error's quote), or before a payload the verdict reads (a DNS query,
    /// an SCTP packet's CRC32c, an ICMP error's checksum): the frame on the wire was whole, the capture cannot say
    /// what the node did with it. Replay only.
    /// </summary>
    CaptureTruncated = 33,
    /// <summary>
    /// A TCP segment to the cluster DNS port that belongs to no connection and is not a valid third ACK (its
    /// acknowledgement is no SYN cookie we issued): answered with a RST when it carries ACK, as a listener does
    /// (tcp_v4_cookie_check fails, tcp_rcv_state_process in LISTEN), dropped otherwise.
    /// </summary>
    DnsTcpNoConnection = 34,
    /// <summary>
    /// A segment of a DNS connection that RFC 9293 §3.10.7.4 calls unacceptable: it acknowledges data never sent
    /// (tcp_ack: TCP_ACK_UNSENT_DATA) or far too old, its sequence number leaves a gap (no out-of-order queue here), or
    /// it carries none of ACK, SYN, RST (TCP_FLAGS).
    /// </summary>
    DnsTcpUnacceptable = 35,
    // 40-44: IPv4 defragmentation (FragmentHold, the kernel's ip_defrag and its SNMP counters).
    /// <summary>A held fragment whose datagram did not complete within ipfrag_time (30 s): ip_expire, ReasmTimeout.</summary>
    FragReassemblyTimeout = 40,
    /// <summary>A fragment that partly overlaps what its datagram holds: the datagram is killed (RFC 5722, ReasmOverlaps).</summary>
    FragOverlap = 41,
    /// <summary>A fragment that lies within what its datagram already holds: dropped alone (inet_frag_queue_insert's IPFRAG_DUP).</summary>
    FragDuplicate = 42,
    /// <summary>A fragment the hold has no room for (ipfrag_high_thresh reached, or a frame longer than a slot): refused, nothing evicted.</summary>
    FragHoldFull = 43,
    /// <summary>A fragment whose end contradicts its datagram's (past the last fragment's end, zero length, beyond 65535 bytes): the datagram is killed.</summary>
    FragInvalid = 44,
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
        "capture-truncated",
        "dns-tcp-no-connection",
        "dns-tcp-unacceptable",
        "reserved-36", "reserved-37", "reserved-38", "reserved-39",
        "frag-reassembly-timeout",
        "frag-overlap",
        "frag-duplicate",
        "frag-hold-full",
        "frag-invalid",
    ];

    public static int Count => s_names.Length;

    public static string Name(this DropReason r) => (int)r < s_names.Length ? s_names[(int)r] : ((int)r).ToString();
}
