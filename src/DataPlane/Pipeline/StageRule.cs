namespace DataPlane.Pipeline;

/// <summary>
/// Which rule of a stage decided, for stages where one verdict has several causes (a pass to the host stack because
/// the address is not the node's, or because the port is served). Written into the <see cref="StageRecord"/> by the
/// stage itself, at the point of decision, and only when tracing: the untraced runner never computes it.
/// </summary>
public enum StageRule : byte
{
    None = 0,

    // HostPortStage: traffic to no service, which the node's own stack may answer.
    /// <summary>The destination is not one of the node's addresses: routed on, not ours.</summary>
    HostNotNodeAddress,
    /// <summary>127.0.0.0/8: never on a wire, the host's own business.</summary>
    HostLoopback,
    /// <summary>Neither TCP nor UDP (SCTP, ICMP): the node's stack is not emulated for it.</summary>
    HostOtherProtocol,
    /// <summary>A first fragment: the kernel answers the reassembled datagram, not a fragment.</summary>
    HostFragment,
    /// <summary>A port in --host-ports: something on the node serves it.</summary>
    HostPortServed,
    /// <summary>An incoming RST to a closed port: never reset a reset (RFC 9293 §3.10.7.1).</summary>
    HostIncomingReset,
    /// <summary>A closed UDP port of the node: ICMP port unreachable (__udp4_lib_rcv).</summary>
    HostClosedUdpPort,
    /// <summary>A closed TCP port of the node: a reset (tcp_v4_send_reset).</summary>
    HostClosedTcpPort,

    // IcmpErrorStage.
    /// <summary>The quoted datagram is not TCP, UDP or SCTP: no connection to look up.</summary>
    IcmpQuotesUntracked,
    /// <summary>No connection has the quoted tuple.</summary>
    IcmpNoConnection,
    /// <summary>The quoted connection's entry has expired.</summary>
    IcmpConnectionExpired,
    /// <summary>
    /// The error's outer destination is not the quoted datagram's source (nf_conntrack_inet_error: "outer daddr !=
    /// inner"): INVALID, dropped when forwarded, passed to the node's stack untranslated when addressed to the node.
    /// </summary>
    IcmpOuterDaddrMismatch,
    /// <summary>The quoted connection is a direct flow nothing translates: related, passed as it came.</summary>
    IcmpUntranslatedConnection,

    // SctpStage.
    /// <summary>No chunk of the packet may open a connection (DATA, SACK, ABORT... out of the blue): sctp_new refuses.</summary>
    SctpOutOfTheBlue,
    /// <summary>A chunk moves the tracked connection's state to sIV in the kernel's table (sctp_conntracks).</summary>
    SctpInvalidMove,

    // DnsStage.
    /// <summary>To the DNS address, but the zone leaves it to kube-proxy's DNAT (proxy mode, or CoreDNS has endpoints).</summary>
    DnsProxied,
}
