using System.Text.Json.Nodes;
using DataPlane.IO.Trace;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.IO.Text;

/// <summary>
/// <c>trace</c>'s output for one packet: the text (the packet as sent, then <see cref="TraceText"/>'s stage lines with
/// the topology decision after the service line, then why) or one JSON line.
/// </summary>
public static class TraceResultText
{
    /// <summary>One trace as text lines or, with <paramref name="json"/>, as one JSON line.</summary>
    public static void Write(TextWriter w, TraceResult t, bool json) => w.WriteLine(json ? Json(t) : Text(t));

    /// <summary>
    /// <c>{["node",]"verdict","reason","service","candidates","backend","masquerade","out":{"src","dst"},["topology",]"stages","why"}</c>.
    /// </summary>
    public static string Json(TraceResult t)
    {
        PacketResult r = t.R;
        var o = new JsonObject();
        if (t.Node is not null) o["node"] = t.Node;
        if (t.Resolved is not null) o["resolved"] = t.Resolved;
        o["verdict"] = t.Verdict.Name();
        o["reason"] = r.Reason == DropReason.None ? null : r.Reason.Name();
        o["service"] = t.Service;
        o["candidates"] = new JsonArray([.. t.Candidates.Select(c => (JsonNode)c)]);
        o["backend"] = t.Backend;
        o["masquerade"] = t.Masquerade;
        o["out"] = t.Verdict == Verdict.Forward
            ? new JsonObject { ["src"] = Ip4.Format(r.OutSrcIp, r.OutSrcPort), ["dst"] = Ip4.Format(r.OutDstIp, r.OutDstPort) }
            : null;
        if (t.Topology is not null) o["topology"] = TopologyText.Json(t.Topology, r.ServiceFlags, r.Scope);
        o["stages"] = TraceText.Json(t.Log, t.Maps);
        o["why"] = t.Why;
        return o.ToJsonString(TraceText.JsonOptions);
    }

    /// <summary>The packet line, the stage lines, the topology lines after the service line, the why line.</summary>
    public static string Text(TraceResult t)
    {
        TraceRequest q = t.Req;
        string packet = q.Proto == IpProto.Icmp
            ? $"icmp {Ip4.Format(q.Src)} -> {Ip4.Format(q.Dst)} echo request"
            : $"{IpProto.Name(q.Proto)} {Ip4.Format(q.Src, q.SrcPort)} -> {Ip4.Format(q.Dst, q.DstPort)}{(q.Proto == IpProto.Tcp ? " [SYN]" : q.Proto == IpProto.Sctp ? " [INIT]" : "")}";
        IEnumerable<(string, string)> topology = t.Topology is null ? [] : TopologyText.TraceLines(t.Topology, t.R.ServiceFlags, t.R.Scope).Select(l => ("topology", l));
        string text = TraceText.Text(packet, t.Log, t.Maps, topology, t.Why);
        if (t.Resolved is not null) text = $"{"resolve",-12}{t.Resolved}\n{text}";
        return t.Node is null ? text : $"{"node",-12}{t.Node}\n{text}";
    }

    /// <summary>A destination name with no address to send to (headless, ExternalName, unknown): only why.</summary>
    public static void WriteUnresolved(TextWriter w, string? why, bool json) =>
        w.WriteLine(json ? new JsonObject { ["verdict"] = null, ["why"] = why }.ToJsonString(TraceText.JsonOptions) : $"why         {why}");
}
