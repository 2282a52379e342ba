using System.Text.Json.Nodes;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.IO.Text;

/// <summary>
/// The text and JSON views of a stage log (<see cref="StageLog"/>): one line per stage the pipeline ran, printed from
/// what the stage recorded, never reconstructed from the final result. Labels are 12 columns wide, as `trace` has
/// always printed them.
/// </summary>
public static class TraceText
{
    /// <summary>(label, text) per line, in the order the stages ran: each line is one record, read as its stage wrote it.</summary>
    public static List<(string Label, string Text)> Lines(ReadOnlySpan<StageRecord> log, MapSet maps)
    {
        var lines = new List<(string, string)>();
        for (int i = 0; i < log.Length; i++)
        {
            StageRecord r = log[i];
            switch (r.Stage)
            {
                case PipelineStage.Parse:
                    lines.Add(("parse", r.Verdict == Verdict.Continue ? $"ok: {Packet(r)}" : Outcome(r)));
                    break;
                case PipelineStage.Conntrack:
                    lines.Add(("conntrack", r.Verdict switch
                    {
                        Verdict.Continue => "miss: new connection",
                        Verdict.Forward when r.HasEntry => $"hit: flow {r.FlowId}, {Dir(r.Direction)} direction, {State(r)}",
                        Verdict.Pass when r.HasEntry => $"hit: flow {r.FlowId}, {Dir(r.Direction)} direction, {State(r)}, a direct flow tracked untranslated: {Outcome(r)}",
                        _ => Outcome(r),
                    }));
                    break;
                case PipelineStage.ServiceLookup:
                    lines.Add(("service", Service(r, maps)));
                    break;
                case PipelineStage.BackendSelect:
                    lines.Add(("candidates", Candidates(r, maps) is { Length: > 0 } c ? string.Join(", ", c) : "(none)"));
                    lines.Add(("backend", r.Verdict == Verdict.Continue ? Ip4.Format(r.Backend.Address, r.Backend.Port) : $"none: {Outcome(r)}"));
                    break;
                case PipelineStage.Masquerade:
                    StageRecord? create = null;
                    for (int j = i + 1; j < log.Length; j++)
                        if (log[j].Stage == PipelineStage.ConntrackCreate) create = log[j];
                    lines.Add(("masquerade", !r.Masquerade ? "no, client address kept"
                        : create is { HasEntry: true } c2 ? $"yes, source -> {Ip4.Format(c2.Reply.DstIp, c2.Reply.DstPort)}" : "yes"));
                    break;
                case PipelineStage.ConntrackCreate:
                    lines.Add(("ct-create", r.Verdict == Verdict.Continue && r.HasEntry
                        ? $"flow {r.FlowId}: {Tuple(r.Original)} | reply {Tuple(r.Reply)}"
                        : r.Verdict == Verdict.Pass && r.HasEntry
                        ? $"flow {r.FlowId} (direct, to or from a service endpoint, untranslated): {Tuple(r.Original)} | reply {Tuple(r.Reply)}: {Outcome(r)}"
                        : Outcome(r)));
                    break;
                case PipelineStage.Nat:
                    lines.Add(("nat", $"{Ip4.Format(r.SrcIp, r.SrcPort)} -> {Ip4.Format(r.DstIp, r.DstPort)}"));
                    break;
                case PipelineStage.Verdict:
                    lines.Add(("verdict", $"{r.Verdict.Name()}: {Final(r)}"));
                    break;
                case PipelineStage.Ttl:
                    lines.Add(("ttl", Ttl(r)));
                    break;
                case PipelineStage.Options:
                    lines.Add(("ip-options", $"{OptionNames(r)}: {(r.Verdict == Verdict.Forward ? "updated as a forwarding node (record route, timestamp)" : Outcome(r))}"));
                    break;
                case PipelineStage.Fragment:
                    lines.Add(("fragment", Fragment(r)));
                    break;
                case PipelineStage.Sctp:
                    lines.Add(("sctp", Sctp(r)));
                    break;
                case PipelineStage.Dns:
                    lines.Add(("dns", Dns(r)));
                    break;
                case PipelineStage.HostPort:
                    lines.Add(("host", HostPort(r)));
                    break;
                case PipelineStage.Reject:
                    lines.Add(("reject", r.Reason == DropReason.TtlExceeded ? Ttl(r) : Reply(r)));
                    break;
                case PipelineStage.Icmp:
                    lines.Add(("icmp", $"type {r.IcmpType}{(r.IcmpType == 8 ? " (echo request)" : "")}: not load-balanced, no Service rule translates ICMP"));
                    break;
                case PipelineStage.IcmpError:
                    lines.Add(("icmp-error", IcmpError(r)));
                    break;
                case PipelineStage.ForeignProtocol:
                    lines.Add(("protocol", r.Verdict == Verdict.Drop
                        ? $"IP protocol {r.Proto} to a service address, which serves only its ports: {Outcome(r)}"
                        : $"IP protocol {r.Proto}: not translated, not a service address: {Outcome(r)}"));
                    break;
                case PipelineStage.Link:
                    lines.Add(("link", Link(r)));
                    break;
                case PipelineStage.Defrag:
                    lines.Add(("defrag", r.Verdict == Verdict.Reassembled
                        ? $"absorbed into its reassembled datagram (answered on the completing fragment's line): {Outcome(r)}"
                        : $"dropped by the fragment hold: {Outcome(r)}"));
                    break;
                default:
                    lines.Add((r.Stage.Name(), Outcome(r)));
                    break;
            }
        }
        return lines;
    }

    static string Ttl(StageRecord r) => r.Verdict switch
    {
        Verdict.Continue => $"TTL {r.Ttl}: forwarded (decremented to {r.Ttl - 1})",
        Verdict.Reject => $"TTL {r.Ttl}: not forwarded, {Reply(r)}",
        _ => $"TTL {r.Ttl}: not forwarded, no error sent (never about a later fragment or an ICMP error): {Outcome(r)}",
    };

    /// <summary>The generated reply, as the record read it from the reply buffer.</summary>
    static string Reply(StageRecord r) => r.ReplyProto switch
    {
        IpProto.Tcp => $"TCP reset from the node {Ip4.Format(r.ReplySrcIp, r.ReplySrcPort)} -> {Ip4.Format(r.ReplyDstIp, r.ReplyDstPort)}",
        IpProto.Icmp => $"{IcmpName(r.ReplyIcmpType, r.ReplyIcmpCode)} {Ip4.Format(r.ReplySrcIp)} -> {Ip4.Format(r.ReplyDstIp)}",
        IpProto.Udp => $"UDP {Ip4.Format(r.ReplySrcIp, r.ReplySrcPort)} -> {Ip4.Format(r.ReplyDstIp, r.ReplyDstPort)}",
        _ => "no reply (it does not fit the reply buffer)",
    };

    static string IcmpName(byte type, byte code) => StageRecordNames.Icmp(type, code);

    static string Fragment(StageRecord r)
    {
        string which = $"later fragment id {r.IpId} at offset {(r.FragmentField & Ipv4Header.FragmentOffsetMask) * 8}{((r.FragmentField & Ipv4Header.FlagMoreFragments) != 0 ? ", more follow" : ", the last")}";
        return r.Verdict switch
        {
            Verdict.Forward when r.HasEntry => $"{which}: follows its first fragment's flow {r.FlowId}: {Ip4.Format(r.SrcIp)} -> {Ip4.Format(r.DstIp)}",
            Verdict.Pass => $"{which}: its first fragment was not seen and it is not for a service address: {Outcome(r)}",
            Verdict.Drop when r.Reason == DropReason.TtlExceeded => $"{which}: TTL {r.Ttl}, not forwarded and not answered (only fragment 0 is): {Outcome(r)}",
            Verdict.Drop when r.Reason == DropReason.FragFirstNotSeen => $"{which}: to a service address, but its first fragment was not seen: {Outcome(r)}",
            _ => $"{which}: {Outcome(r)}",
        };
    }

    static string OptionNames(StageRecord r)
    {
        var names = new List<string>();
        for (uint t = r.IpOptionTypes; t != 0; t >>= 8)
            names.Add((byte)t switch { IpOptions.RecordRoute => "record-route", IpOptions.Timestamp => "timestamp", 130 => "security", 131 => "lsrr", 137 => "ssrr", 148 => "router-alert", var o => $"type {o}" });
        return $"{r.IpHeaderLength - Ipv4Header.MinLength} bytes [{string.Join(", ", names)}]";
    }

    static string Chunks(uint seen) => StageRecordNames.SctpChunks(seen);

    static string Sctp(StageRecord r) => (r.Verdict, r.Reason, r.Rule) switch
    {
        (Verdict.Drop, DropReason.SctpFragment, _) => $"a first fragment: the CRC32c covers the whole packet, which it does not hold: {Outcome(r)}",
        (Verdict.Drop, DropReason.SctpBadChecksum, _) => $"chunks {Chunks(r.SctpChunks)}: the CRC32c does not match (conntrack INVALID): {Outcome(r)}",
        (Verdict.Drop, _, StageRule.SctpOutOfTheBlue) => $"chunks {Chunks(r.SctpChunks)}: cannot open a connection (out of the blue: no opening chunk, or an INIT whose verification tag is not 0; conntrack INVALID): {Outcome(r)}",
        (Verdict.Drop, _, StageRule.SctpInvalidMove) => $"chunks {Chunks(r.SctpChunks)}: an invalid move{(r.HasEntry ? $" from {r.SctpState.Name()}" : "")} in conntrack's state table (INVALID): {Outcome(r)}",
        (Verdict.Continue, _, _) when r.HasEntry => $"chunks {Chunks(r.SctpChunks)}: CRC32c ok, state {r.SctpState.Name()}",
        (Verdict.Continue, _, _) => $"chunks {Chunks(r.SctpChunks)}: CRC32c ok, may open a connection",
        _ => $"chunks {Chunks(r.SctpChunks)}: {Outcome(r)}",
    };

    static string Question(StageRecord r) => r.DnsType == 0 ? "no question" : $"{r.DnsQuestion} {DataPlane.Dns.DnsType.Name(r.DnsType)}";

    static string Dns(StageRecord r) => r.Verdict switch
    {
        Verdict.Answer when r.ReplyProto == IpProto.Tcp && r.DnsType == 0 => $"TCP to the cluster DNS address, answered by the DNS stage: {Reply(r)} flags 0x{r.ReplyTcpFlags:x2}",
        Verdict.Answer => $"{Question(r)}: answered as the cluster DNS, {DataPlane.Dns.DnsRcode.Name(r.DnsRcode)}, {r.DnsAnswers} answer(s), {Reply(r)}",
        Verdict.Local => "a TCP segment to the cluster DNS address that needs no answer (ACK, RST): consumed",
        Verdict.Reject => $"a TCP segment to the cluster DNS address on no connection (its ack is no SYN cookie we issued): {Reply(r)}",
        Verdict.Continue => $"to the cluster DNS address {Ip4.Format(r.DstIp, r.DstPort)}, not answered here: left to kube-proxy's DNAT to the CoreDNS pods",
        _ => $"{Question(r)}: {Outcome(r)}",
    };

    static string HostPort(StageRecord r) => r.Rule switch
    {
        StageRule.HostNotNodeAddress => $"{Ip4.Format(r.DstIp)} is not one of this node's addresses: routed on, {Outcome(r)}",
        StageRule.HostLoopback => $"{Ip4.Format(r.DstIp)} is loopback: the host's own, {Outcome(r)}",
        StageRule.HostOtherProtocol => $"to the node, {IpProto.Name(r.Proto)}: its stack is not emulated for that protocol, {Outcome(r)}",
        StageRule.HostFragment => $"a first fragment to the node: its stack answers the reassembled datagram, {Outcome(r)}",
        StageRule.HostPortServed => $"{Ip4.Format(r.DstIp, r.DstPort)}/{IpProto.Name(r.Proto)} is served on the node (--host-ports): {Outcome(r)}",
        StageRule.HostIncomingReset => $"a reset to a closed port of the node: never reset a reset, {Outcome(r)}",
        StageRule.HostClosedUdpPort => $"nothing listens on the node's {Ip4.Format(r.DstIp, r.DstPort)}/udp: {Reply(r)}",
        StageRule.HostClosedTcpPort => $"nothing listens on the node's {Ip4.Format(r.DstIp, r.DstPort)}/tcp: {Reply(r)}",
        _ => Outcome(r),
    };

    static string IcmpError(StageRecord r)
    {
        string kind = r.IcmpType == L4.IcmpDestUnreachable ? "ICMP destination unreachable" : "ICMP time exceeded";
        string quoted = $"{kind} quoting {IpProto.Name(r.InnerProto)} {Ip4.Format(r.InnerSrcIp, r.InnerSrcPort)} -> {Ip4.Format(r.InnerDstIp, r.InnerDstPort)}";
        return (r.Verdict, r.Rule) switch
        {
            (Verdict.Pass, StageRule.IcmpQuotesUntracked) => $"{quoted}: not TCP, UDP or SCTP, no connection to look up: {Outcome(r)}",
            (Verdict.Pass, StageRule.IcmpNoConnection) => $"{quoted}: no tracked connection has that tuple: {Outcome(r)}",
            (Verdict.Pass, StageRule.IcmpConnectionExpired) => $"{quoted}: its connection's entry has expired: {Outcome(r)}",
            (Verdict.Pass, StageRule.IcmpUntranslatedConnection) => $"{quoted}: related to a direct flow tracked untranslated, nothing to translate: {Outcome(r)}",
            (Verdict.Drop, StageRule.IcmpOuterDaddrMismatch) => $"{quoted}{(r.HasEntry ? $" (flow {r.FlowId})" : "")}: sent to {Ip4.Format(r.DstIp)}, not to the quoted source (outer daddr != inner, conntrack INVALID): {Outcome(r)}",
            (Verdict.Pass, StageRule.IcmpOuterDaddrMismatch) => $"{quoted}: sent to the node's {Ip4.Format(r.DstIp)}, not to the quoted source (outer daddr != inner, conntrack INVALID), untranslated: {Outcome(r)}",
            (Verdict.Forward, _) when r.HasEntry => $"{quoted}: related to flow {r.FlowId} ({Dir(r.Direction)} direction), translated with it: {Ip4.Format(r.SrcIp)} -> {Ip4.Format(r.DstIp)}",
            (Verdict.Drop, _) when r.Reason == DropReason.IcmpBadChecksum => $"{quoted}{(r.HasEntry ? $" (flow {r.FlowId})" : "")}: the ICMP checksum does not verify (conntrack INVALID): {Outcome(r)}",
            _ => $"{quoted}: {Outcome(r)}",
        };
    }

    static string Link(StageRecord r) => r.Reason switch
    {
        DropReason.OutgoingCopy => $"{LinkName(r.LinkType)}: the capture's copy of a frame the node sent (PACKET_OUTGOING), already translated on its way out: {Outcome(r)}",
        DropReason.UnsupportedLinkType => $"{LinkName(r.LinkType)}: a link type the replay cannot read as Ethernet: {Outcome(r)}",
        _ => $"{LinkName(r.LinkType)}: {Outcome(r)}",
    };

    static string LinkName(ushort link) => Enum.IsDefined((Pcap.LinkType)link) ? $"link type {(Pcap.LinkType)link} ({link})" : $"link type {link}";

    /// <summary>
    /// The whole text trace: the packet, the stage lines (with <paramref name="serviceDetail"/> lines, e.g. topology,
    /// after the service line), then the explanation.
    /// </summary>
    public static string Text(string packet, ReadOnlySpan<StageRecord> log, MapSet maps, IEnumerable<(string Label, string Text)> serviceDetail, string? why)
    {
        var w = new StringWriter();
        w.WriteLine(Line("packet", packet));
        foreach (var (label, text) in Lines(log, maps))
        {
            w.WriteLine(Line(label, text));
            if (label == "service")
                foreach (var (l, t) in serviceDetail) w.WriteLine(Line(l, t));
        }
        if (why is not null) w.WriteLine(Line("why", why));
        return w.ToString().TrimEnd('\n');
    }

    /// <summary>
    /// How trace JSON is written: '>' of "a -> b" and the arrows of an explanation kept as they are (the default encoder
    /// writes them as \u003E and \u2192); the output is a terminal line, never embedded in HTML.
    /// </summary>
    public static readonly System.Text.Json.JsonSerializerOptions JsonOptions =
        new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    static string Line(string label, string text) => $"{label,-11} {text}";

    /// <summary><c>[{"stage","verdict","reason",…facts}]</c>: the stage log as JSON, one object per record.</summary>
    public static JsonArray Json(ReadOnlySpan<StageRecord> log, MapSet maps)
    {
        var a = new JsonArray();
        foreach (StageRecord r in log)
        {
            var o = new JsonObject
            {
                ["stage"] = r.Stage.Name(),
                ["verdict"] = r.Verdict.Name(),
                ["reason"] = r.Reason == DropReason.None ? null : r.Reason.Name(),
            };
            switch (r.Stage)
            {
                case PipelineStage.Parse when r.L4Parsed || r.Proto == IpProto.Icmp:
                    o["packet"] = Packet(r);
                    break;
                case PipelineStage.Conntrack:
                    o["hit"] = r.Verdict == Verdict.Forward && r.HasEntry;
                    if (r.HasEntry) { o["flow"] = r.FlowId; o["direction"] = Dir(r.Direction); o["state"] = State(r); }
                    break;
                case PipelineStage.ServiceLookup:
                    o["service"] = r.RevNatIndex == 0 ? null : maps.ServiceName(r.RevNatIndex);
                    o["frontend"] = $"{Ip4.Format(r.DstIp, r.DstPort)}/{IpProto.Name(r.Proto)}";
                    if (r.RevNatIndex != 0) { o["flags"] = r.ServiceFlags.ToString(); o["scope"] = r.Scope == 1 ? "internal" : "external"; }
                    break;
                case PipelineStage.BackendSelect:
                    o["candidates"] = new JsonArray([.. Candidates(r, maps).Select(c => (JsonNode)c)]);
                    o["backend"] = r.Verdict == Verdict.Continue ? Ip4.Format(r.Backend.Address, r.Backend.Port) : null;
                    break;
                case PipelineStage.Masquerade:
                    o["masquerade"] = r.Masquerade;
                    break;
                case PipelineStage.ConntrackCreate when r.HasEntry:
                    o["flow"] = r.FlowId;
                    o["original"] = Tuple(r.Original);
                    o["reply"] = Tuple(r.Reply);
                    o["snat"] = (r.CtFlags & CtFlags.Snat) != 0 ? Ip4.Format(r.Reply.DstIp, r.Reply.DstPort) : null;
                    break;
                case PipelineStage.Nat:
                    o["src"] = Ip4.Format(r.SrcIp, r.SrcPort);
                    o["dst"] = Ip4.Format(r.DstIp, r.DstPort);
                    break;
                case PipelineStage.Ttl:
                    o["ttl"] = r.Ttl;
                    break;
                case PipelineStage.Options:
                    o["options"] = OptionNames(r);
                    break;
                case PipelineStage.Fragment:
                    o["id"] = r.IpId;
                    o["offset"] = (r.FragmentField & Ipv4Header.FragmentOffsetMask) * 8;
                    o["more"] = (r.FragmentField & Ipv4Header.FlagMoreFragments) != 0;
                    if (r.HasEntry) o["flow"] = r.FlowId;
                    break;
                case PipelineStage.Sctp:
                    o["chunks"] = Chunks(r.SctpChunks);
                    if (r.HasEntry) o["state"] = r.SctpState.Name();
                    break;
                case PipelineStage.Dns when r.DnsType != 0:
                    o["qname"] = r.DnsQuestion.ToString();
                    o["qtype"] = DataPlane.Dns.DnsType.Name(r.DnsType);
                    if (r.Verdict == Verdict.Answer) o["rcode"] = DataPlane.Dns.DnsRcode.Name(r.DnsRcode);
                    break;
                case PipelineStage.IcmpError:
                    o["quoted"] = $"{IpProto.Name(r.InnerProto)} {Ip4.Format(r.InnerSrcIp, r.InnerSrcPort)} -> {Ip4.Format(r.InnerDstIp, r.InnerDstPort)}";
                    if (r.HasEntry) o["flow"] = r.FlowId;
                    break;
                case PipelineStage.Link:
                    o["linkType"] = r.LinkType;
                    break;
            }
            if (r.Rule != StageRule.None) o["rule"] = r.Rule.ToString();
            if (r.ReplyProto == IpProto.Icmp) o["reply"] = $"{IcmpName(r.ReplyIcmpType, r.ReplyIcmpCode)} {Ip4.Format(r.ReplySrcIp)} -> {Ip4.Format(r.ReplyDstIp)}";
            a.Add((JsonNode)o); // the node overload: Add<T> would go through reflection-based JsonValue creation (not AOT-safe)
        }
        return a;
    }

    /// <summary>The packet as it arrived, from the parse record: "tcp a:p -> b:q", or null when it was not parsed.</summary>
    public static string? Arrived(ReadOnlySpan<StageRecord> log) =>
        log.Length > 0 && log[0].Stage == PipelineStage.Parse && (log[0].L4Parsed || log[0].Proto == IpProto.Icmp) ? Packet(log[0]) : null;

    static string Packet(StageRecord r) => r.Proto == IpProto.Icmp
        ? $"icmp {Ip4.Format(r.SrcIp)} -> {Ip4.Format(r.DstIp)} type {r.IcmpType}"
        : $"{IpProto.Name(r.Proto)} {Ip4.Format(r.SrcIp, r.SrcPort)} -> {Ip4.Format(r.DstIp, r.DstPort)}";

    static string Dir(CtDirection d) => d == CtDirection.Original ? "original" : "reply";

    /// <summary>The entry's state as the lookup found it (before this packet updated it).</summary>
    static string State(StageRecord r) =>
        (r.CtFlags & CtFlags.SeenReply) != 0 ? "established (reply seen)" : r.Direction == CtDirection.Reply ? "first reply" : "no reply yet";

    static string Tuple(in CtTuple4 t) => $"{Ip4.Format(t.SrcIp, t.SrcPort)} -> {Ip4.Format(t.DstIp, t.DstPort)}";

    static string Outcome(StageRecord r) => r.Verdict switch
    {
        Verdict.Drop => $"drop: {r.Reason.Name()}",
        Verdict.Continue => "ok",
        var v => v.Name(),
    };

    static string Final(StageRecord r) => r.Verdict switch
    {
        Verdict.Forward => $"{Ip4.Format(r.SrcIp, r.SrcPort)} -> {Ip4.Format(r.DstIp, r.DstPort)}",
        Verdict.Reject => Reply(r),
        Verdict.Drop => r.Reason.Name(),
        Verdict.Local => "answered by the node",
        Verdict.Answer => $"DNS response {Ip4.Format(r.ReplySrcIp, r.ReplySrcPort)} -> {Ip4.Format(r.ReplyDstIp, r.ReplyDstPort)}",
        _ => "left to the host stack untouched",
    };

    static string Service(StageRecord r, MapSet maps)
    {
        string frontend = $"{Ip4.Format(r.DstIp, r.DstPort)}/{IpProto.Name(r.Proto)}";
        if ((r.ServiceFlags & ServiceFlags.Wildcard) != 0)
            return $"no frontend for {frontend}: the catch-all of cluster IP {Ip4.Format(r.DstIp)} (nftables), for ports it does not serve";
        if (r.RevNatIndex == 0 || maps.ServiceName(r.RevNatIndex) is not { } name)
            return r.Verdict == Verdict.Pass ? $"no frontend for {frontend}: not a service packet" : $"no frontend for {frontend}: {Outcome(r)}";
        string scope = r.Scope == 1 ? "internal scope (pod or node source)" : "external scope";
        string text = $"{name}  frontend flags [{r.ServiceFlags}]{((r.ServiceFlags & ServiceFlags.TwoScopes) != 0 || r.Scope == 1 ? ", " + scope : "")}";
        return r.Verdict == Verdict.Continue ? text : $"{text}: {Outcome(r)}";
    }

    static string[] Candidates(StageRecord r, MapSet maps)
    {
        var c = new string[r.SlotCount];
        for (int i = 0; i < c.Length; i++)
        {
            Lb4Backend b = maps.Backend(maps.Slot(r.SlotOffset + (uint)i));
            c[i] = Ip4.Format(b.Address, b.Port);
        }
        return c;
    }
}
