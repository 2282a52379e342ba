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
    /// <summary>(label, text) per line, in the order the stages ran.</summary>
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
                    if (r.Verdict == Verdict.Continue && r.Proto == IpProto.Icmp && i + 1 < log.Length && log[i + 1].Stage == PipelineStage.Verdict
                        && r.IcmpType is not (L4.IcmpDestUnreachable or L4.IcmpTimeExceeded))
                        lines.Add(("icmp", $"type {r.IcmpType}{(r.IcmpType == 8 ? " (echo request)" : "")}: not load-balanced, no Service rule translates ICMP"));
                    else if (r.Verdict == Verdict.Continue && r.Proto != IpProto.Icmp && i + 1 < log.Length && log[i + 1].Stage == PipelineStage.Verdict)
                        lines.Add(IsDns(r, log[i + 1]) ? ("dns", $"cluster DNS stage: {Outcome(log[i + 1])}") : ("fragment", $"a later fragment: {Outcome(log[i + 1])}"));
                    break;
                case PipelineStage.Conntrack:
                    lines.Add(("conntrack", r.Verdict switch
                    {
                        Verdict.Continue => "miss: new connection",
                        Verdict.Forward when r.HasEntry => $"hit: flow {r.FlowId}, {Dir(r.Direction)} direction, {State(r)}",
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
                        : Outcome(r)));
                    break;
                case PipelineStage.Nat:
                    lines.Add(("nat", $"{Ip4.Format(r.SrcIp, r.SrcPort)} -> {Ip4.Format(r.DstIp, r.DstPort)}"));
                    break;
                case PipelineStage.Verdict:
                    lines.Add(("verdict", $"{r.Verdict.Name()}: {Final(r)}"));
                    break;
                default:
                    lines.Add((r.Stage.Name(), Outcome(r)));
                    break;
            }
        }
        return lines;
    }

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
            }
            a.Add(o);
        }
        return a;
    }

    /// <summary>The packet as it arrived, from the parse record: "tcp a:p -> b:q", or null when it was not parsed.</summary>
    public static string? Arrived(ReadOnlySpan<StageRecord> log) =>
        log.Length > 0 && log[0].Stage == PipelineStage.Parse && (log[0].L4Parsed || log[0].Proto == IpProto.Icmp) ? Packet(log[0]) : null;

    static string Packet(StageRecord r) => r.Proto == IpProto.Icmp
        ? $"icmp {Ip4.Format(r.SrcIp)} -> {Ip4.Format(r.DstIp)} type {r.IcmpType}"
        : $"{IpProto.Name(r.Proto)} {Ip4.Format(r.SrcIp, r.SrcPort)} -> {Ip4.Format(r.DstIp, r.DstPort)}";

    /// <summary>The runner went from parse straight to its verdict on a TCP/UDP packet: the DNS stage answered (or
    /// consumed, or dropped) it, or it was a later fragment.</summary>
    public static bool IsDns(StageRecord parse, StageRecord last) =>
        parse.L4Parsed && (last.Verdict == Verdict.Answer || parse.DstPort == 53 || last.Reason.Name().StartsWith("dns", StringComparison.Ordinal));

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
        Verdict.Reject when r.ReplyProto == IpProto.Tcp =>
            $"TCP reset from the node {Ip4.Format(r.ReplySrcIp, r.ReplySrcPort)} -> {Ip4.Format(r.ReplyDstIp, r.ReplyDstPort)}",
        Verdict.Reject => $"ICMP port unreachable {Ip4.Format(r.ReplySrcIp)} -> {Ip4.Format(r.ReplyDstIp)}",
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
