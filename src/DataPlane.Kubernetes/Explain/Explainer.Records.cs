using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Kubernetes.Explain;

/// <summary>
/// The explanations of the stages that decide without a Service (link layer, options, fragments, ICMP, DNS, SCTP's
/// checks, the TTL rule, the node's own stack), each from the record its stage wrote: the verdict, reason and rule it
/// recorded, and the facts it decided on.
/// </summary>
public sealed partial class Explainer
{
    static string Link(StageRecord link) => link.Reason switch
    {
        DropReason.OutgoingCopy => $"a cooked capture's copy of a frame the node sent (packet type PACKET_OUTGOING): already translated on its way out, not processed again → {Outcome(link)}",
        DropReason.UnsupportedLinkType => $"link type {link.LinkType} is one the replay does not read as Ethernet: not processed → {Outcome(link)}",
        _ => $"the replay's link layer kept the frame from the pipelines → {Outcome(link)}",
    };

    static string Defrag(StageRecord d) => d.Reason switch
    {
        DropReason.None when d.Verdict == Verdict.Reassembled => $"a fragment of a DNS query, held until its datagram was complete and absorbed into it (ip_frag_reasm): the reassembled query is answered on the line of the fragment that completed it → {Outcome(d)}",
        DropReason.FragReassemblyTimeout => $"a fragment held for its datagram, which did not complete within ipfrag_time (30 s; at the end of the capture nothing can complete it): ip_expire drops it → {Outcome(d)}",
        DropReason.FragOverlap => $"a fragment that overlaps another of its datagram: the kernel drops it and the whole datagram (RFC 5722, ReasmOverlaps) → {Outcome(d)}",
        DropReason.FragDuplicate => $"a fragment whose bytes its datagram already holds: dropped as a duplicate (inet_frag_queue_insert) → {Outcome(d)}",
        DropReason.FragHoldFull => $"a fragment the node has no room to hold (ipfrag_high_thresh, 4 MB, reached; or a frame longer than a hold slot): refused, as the kernel refuses new fragments above the threshold → {Outcome(d)}",
        DropReason.FragInvalid => $"a fragment whose end contradicts its datagram's (past the last fragment's end, zero length, beyond 65535 bytes): the datagram is discarded (ip_frag_queue) → {Outcome(d)}",
        _ => $"the node's fragment hold kept the frame from the pipelines → {Outcome(d)}",
    };

    static string Options(StageRecord options) =>
        $"the datagram carries IPv4 options the kernel rejects ({options.IpHeaderLength - Ipv4Header.MinLength} bytes of options; " +
        "ip_options_compile: a bad length or pointer, or a repeated option): a forwarding node does not send it on → " + Outcome(options);

    static string Fragment(StageRecord f)
    {
        string which = $"a later fragment (IP id {f.IpId}, offset {(f.FragmentField & Ipv4Header.FragmentOffsetMask) * 8})";
        return f.Verdict switch
        {
            Verdict.Forward => $"{which} of a datagram whose first fragment was translated{(f.HasEntry ? $" (flow {f.FlowId})" : "")}: it carries no ports, so it follows that translation through the fragment map → forward",
            Verdict.Pass => $"{which} whose first fragment was not seen, to {Ip4.Format(f.DstIp)}, which is no service address: not ours → {Outcome(f)}",
            Verdict.Drop when f.Reason == DropReason.FragFirstNotSeen => $"{which} to the service address {Ip4.Format(f.DstIp)} whose first fragment was not seen: without its ports it cannot be translated → {Outcome(f)}",
            Verdict.Drop when f.Reason == DropReason.TtlExceeded => $"{which} with TTL {f.Ttl}: not forwarded, and only fragment 0 is answered with time exceeded → {Outcome(f)}",
            _ => $"{which} → {Outcome(f)}",
        };
    }

    static string IcmpError(StageRecord e)
    {
        string what = $"an ICMP {(e.IcmpType == L4.IcmpDestUnreachable ? "destination unreachable" : "time exceeded")} quoting {Proto(e.InnerProto)} {Ip4.Format(e.InnerSrcIp, e.InnerSrcPort)} -> {Ip4.Format(e.InnerDstIp, e.InnerDstPort)}";
        return (e.Verdict, e.Rule) switch
        {
            (Verdict.Forward, _) => $"{what}, a packet of tracked connection{(e.HasEntry ? $" flow {e.FlowId}" : "")}: translated with that connection (conntrack RELATED) → forward",
            (_, StageRule.IcmpQuotesUntracked) => $"{what}: the quoted datagram is no TCP, UDP or SCTP connection conntrack could relate it to → {Outcome(e)}",
            (_, StageRule.IcmpNoConnection) => $"{what}: it quotes no tracked connection → {Outcome(e)}",
            (_, StageRule.IcmpConnectionExpired) => $"{what}: the connection it quotes has expired → {Outcome(e)}",
            (_, StageRule.IcmpUntranslatedConnection) => $"{what}, a packet of a direct flow conntrack tracks without translating it: related, with no NAT to undo → {Outcome(e)}",
            (Verdict.Drop, StageRule.IcmpOuterDaddrMismatch) => $"{what}{(e.HasEntry ? $", the tuple of flow {e.FlowId}," : "")} but sent to {Ip4.Format(e.DstIp)}, not to the quoted datagram's source {Ip4.Format(e.InnerSrcIp)}: conntrack does not relate it to the connection (nf_conntrack_inet_error, \"outer daddr != inner\"), so it is INVALID, and kube-proxy drops INVALID in FORWARD → {Outcome(e)}",
            (_, StageRule.IcmpOuterDaddrMismatch) => $"{what}, but sent to the node's own {Ip4.Format(e.DstIp)}, not to the quoted datagram's source {Ip4.Format(e.InnerSrcIp)}: conntrack does not relate it to the connection (nf_conntrack_inet_error, \"outer daddr != inner\"); INVALID on the INPUT path, where kube-proxy's INVALID drop is not, it reaches the node's stack untranslated → {Outcome(e)}",
            (Verdict.Drop, _) when e.Reason == DropReason.IcmpBadChecksum => $"{what}: its ICMP checksum does not verify, so conntrack marks it INVALID (icmp_error) and kube-proxy drops INVALID → {Outcome(e)}",
            _ => $"{what} → {Outcome(e)}",
        };
    }

    string Dns(StageRecord d)
    {
        string to = $"the cluster DNS address {Ip4.Format(d.DstIp, d.DstPort)}/{Proto(d.Proto)}";
        string question = d.DnsType == 0 ? (d.Proto == IpProto.Udp ? " without a question it can read" : "") : $" for {d.DnsQuestion} {DataPlane.Dns.DnsType.Name(d.DnsType)}";
        return d.Verdict switch
        {
            Verdict.Answer when d.DnsType != 0 || d.Proto == IpProto.Udp =>
                $"a DNS query{question} to {to}: the data plane's DNS stage answers it as CoreDNS's kubernetes plugin would, before kube-proxy's DNAT to the CoreDNS pods{WhyDnsAnswers()} ({DataPlane.Dns.DnsRcode.Name(d.DnsRcode)}, {d.DnsAnswers} answer(s)) → {Outcome(d)}",
            Verdict.Answer => $"a TCP segment without a whole query to {to}: the DNS stage answers the connection's handshake or close itself, as a listener would → {Outcome(d)}",
            Verdict.Local => $"a TCP segment to {to} that needs no answer (an ACK or a reset): the DNS stage consumes it → {Outcome(d)}",
            Verdict.Reject => $"a TCP segment with ACK to {to} on no connection: its acknowledgement is no SYN cookie the DNS stage issued (no handshake, or a bogus ack), so it gets the RST a listener sends → {Outcome(d)}",
            Verdict.Drop when d.Reason == DropReason.DnsTcpUnacceptable => $"a TCP segment to {to} that its connection cannot accept (it acknowledges data never sent, or leaves a gap before it) → {Outcome(d)}",
            Verdict.Drop when d.Reason == DropReason.DnsTcpNoConnection => $"a TCP segment without ACK, SYN or RST to {to} on no connection → {Outcome(d)}",
            _ => $"a DNS message{question} to {to} that the DNS stage does not answer ({d.Reason.Name()}) → {Outcome(d)}",
        };
    }

    /// <summary>Why the data plane answers at all: asked to, or kube-dns (the manifests' or the emulated one) has no endpoint.</summary>
    string WhyDnsAnswers()
    {
        if (_maps.Dns is not { } zone) return "";
        if (zone.Mode == DataPlane.Dns.DnsMode.Answer) return ", as asked (--dns answer or --cluster-dns)";
        if (_c.Service("kube-system/kube-dns") is { } kubeDns && _c.ClusterIp(kubeDns) == zone.Address)
            return $", because {kubeDns.Key}{(kubeDns.Emulated ? " (emulated: every cluster has it and the manifests bring none)" : "")} has no endpoint for port 53 — no CoreDNS pod to DNAT to — so the data plane answers in its place (--dns auto)";
        return "";
    }

    static string Sctp(StageRecord s)
    {
        string chunks = StageRecordNames.SctpChunks(s.SctpChunks);
        return (s.Reason, s.Rule) switch
        {
            (DropReason.SctpFragment, _) => $"an SCTP first fragment: its CRC32c covers the whole packet, which the fragment does not hold (the kernel reassembles first) → {Outcome(s)}",
            (DropReason.SctpBadChecksum, _) => $"an SCTP packet {chunks} whose CRC32c does not match: conntrack marks it INVALID (nf_conntrack_proto_sctp, nf_conntrack_checksum=1) and kube-proxy drops INVALID → {Outcome(s)}",
            (_, StageRule.SctpOutOfTheBlue) => $"an SCTP packet {chunks} to {Ip4.Format(s.DstIp, s.DstPort)} with no association tracked, and its chunks cannot open one (out of the blue: no chunk that may open an association, or an INIT whose verification tag is not 0, RFC 9260 §8.5.1): conntrack marks it INVALID (sctp_new), dropped before kube-proxy's REJECT rules → {Outcome(s)}",
            (_, StageRule.SctpInvalidMove) => $"an SCTP packet {chunks} of a tracked association{(s.HasEntry ? $" (flow {s.FlowId}, {s.SctpState.Name()})" : "")}: a chunk moves it to an invalid state in conntrack's table (sctp_conntracks), so the packet is INVALID → {Outcome(s)}",
            _ => $"an SCTP packet {chunks} → {Outcome(s)}",
        };
    }

    /// <summary>The TTL rule decided: the datagram would be forwarded, and arrived with TTL 0 or 1.</summary>
    string TimeExceeded(ReadOnlySpan<StageRecord> log, StageRecord t)
    {
        string what = $"{Proto(t.Proto)} {Ip4.Format(t.SrcIp, t.SrcPort)} -> {Ip4.Format(t.DstIp, t.DstPort)}";
        if (Find(log, PipelineStage.Conntrack) is { HasEntry: true, NewFlow: false } hit)
            what = $"a packet of an existing connection (flow {hit.FlowId})";
        else if (Find(log, PipelineStage.ServiceLookup) is { RevNatIndex: not 0 } svc && ServiceOf(svc.RevNatIndex, out _) is { } s)
            what = $"{Ip4.Format(t.DstIp, t.DstPort)}/{Proto(t.Proto)} is {s.Key}'s frontend" +
                (Find(log, PipelineStage.BackendSelect) is { Verdict: Verdict.Reject } ? " (no usable endpoint: kube-proxy would REJECT it in FORWARD, but the TTL rule comes first)" : "") + ";";
        string rule = $" the datagram arrived with TTL {t.Ttl}, and a router does not forward TTL 0 or 1 (ip_forward, after kube-proxy's DNAT and before the FORWARD hook)";
        return t.Verdict == Verdict.Reject
            ? $"{what}{rule}: it answers ICMP time exceeded (TTL exceeded in transit) from {Ip4.Format(t.ReplySrcIp)} → reject (ICMP time exceeded)"
            : $"{what}{rule}; no error is sent about {(t.Proto == IpProto.Icmp ? "an ICMP error" : "a later fragment or an ICMP error")} → {Outcome(t)}";
    }

    /// <summary>
    /// To one of the node's addresses, no Service: what the address is (as for any packet no frontend matched), then
    /// the rule the HostPort stage recorded for the node's own stack.
    /// </summary>
    string HostPort(StageRecord parse, StageRecord h)
    {
        string port = $"{h.DstPort}/{Proto(h.Proto)}";
        string basis = NoFrontend(parse, h);
        return h.Rule switch
        {
            StageRule.HostPortServed => $"{basis}; {port} is served on the node (--host-ports)",
            StageRule.HostClosedTcpPort => $"{basis}; nothing listens on {port} on the node, so its stack answers with a reset (tcp_v4_send_reset)",
            StageRule.HostClosedUdpPort => $"{basis}; nothing listens on {port} on the node, so its stack answers ICMP port unreachable (__udp4_lib_rcv)",
            StageRule.HostIncomingReset => $"{basis}; a reset to a closed port is never answered (RFC 9293 §3.10.7.1)",
            StageRule.HostLoopback => $"{Ip4.Format(h.DstIp)} is loopback: never on a wire, the host's own business → {Outcome(h)}",
            StageRule.HostFragment => $"{basis}; a first fragment, which the node's stack answers only once reassembled",
            StageRule.HostOtherProtocol => $"{basis}; {Proto(h.Proto)} to the node is left to its stack (not emulated)",
            _ => basis,
        };
    }
}
