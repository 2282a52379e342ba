using System.Text;
using DataPlane.IO.Verdicts;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.IO.Replay;

/// <summary>
/// "What happened to each flow": frames grouped by conntrack flow (both directions together) or, for frames that
/// belong to no tracked flow, by their verdict, reason and 5-tuple. Insertion-ordered, so the report is deterministic.
/// </summary>
/// <remarks>
/// Bounded: a replay's memory must depend on its tables (<c>--ct-max</c>), not on how many flows the capture holds.
/// The report keeps rows for the first <see cref="MaxRows"/> flows and groups of the capture (every later frame of
/// those is still counted in its row) and, beyond that, only totals: how many more tracked flows began and how many
/// frames they and the untracked traffic carried. First-seen rather than top-by-frames because an exact top-N needs a
/// counter per flow, which is what must not grow; a regression case or a debugging capture fits in the rows anyway.
/// </remarks>
public sealed class FlowReport
{
    /// <summary>Rows kept (about 230 bytes each).</summary>
    public const int MaxRows = 1000;

    readonly int _maxRows;
    long _moreFlows, _moreFlowFrames, _moreOtherFrames;

    public FlowReport(int maxRows = MaxRows) => _maxRows = maxRows;

    /// <summary>Rows held (at most the bound given at construction).</summary>
    public int Rows => _order.Count;

    /// <summary>Tracked flows that began after the rows ran out (counted, not listed).</summary>
    public long UnlistedFlows => _moreFlows;

    /// <summary>Frames not counted in any row: those of unlisted flows and of unlisted untracked traffic.</summary>
    public long UnlistedFrames => _moreFlowFrames + _moreOtherFrames;

    /// <summary>A row keeps its first frame's result and generation; the text is made only if the report is printed.</summary>
    sealed class Row
    {
        public PacketResult First;
        public required MapSet Maps;
        public long Frames, Original, Reply;
        public long FirstFrame;
        public string Tuple => FlowReport.Tuple(First, original: First.Direction == DataPlane.Maps.CtDirection.Original);
        public string Outcome => FlowReport.Outcome(First, Maps);
    }

    // Keyed without building strings: a replay of a million frames adds a million times, with a hundred thousand
    // flows; formatting each new row's text here cost more than the whole pipeline.
    readonly Dictionary<uint, Row> _flows = [];
    readonly Dictionary<(Verdict, DropReason, byte, bool, uint, ushort, uint, ushort), Row> _others = [];
    readonly List<Row> _order = [];

    public void Add(long frame, in PacketResult r, MapSet maps)
    {
        Row? row;
        bool full = _order.Count >= _maxRows;
        if (r.Verdict == Verdict.Forward && r.FlowId != 0)
        {
            if (!_flows.TryGetValue(r.FlowId, out row))
            {
                if (full)
                {
                    if (r.NewFlow) _moreFlows++;
                    _moreFlowFrames++;
                    return;
                }
                _flows.Add(r.FlowId, row = NewRow(frame, r, maps));
            }
        }
        else
        {
            var key = (r.Verdict, r.Reason, r.Proto, r.HasTuple, r.InSrcIp, r.InSrcPort, r.InDstIp, r.InDstPort);
            if (!_others.TryGetValue(key, out row))
            {
                if (full)
                {
                    _moreOtherFrames++;
                    return;
                }
                _others.Add(key, row = NewRow(frame, r, maps));
            }
        }
        row.Frames++;
        if (r.Direction == Maps.CtDirection.Reply) row.Reply++; else row.Original++;
    }

    Row NewRow(long frame, in PacketResult r, MapSet maps)
    {
        var row = new Row { First = r, Maps = maps, FirstFrame = frame };
        _order.Add(row);
        return row;
    }

    static string Tuple(in PacketResult r, bool original)
    {
        if (!r.HasTuple) return Untupled(r);
        bool ports = r.Proto is IpProto.Tcp or IpProto.Udp or IpProto.Sctp;
        string s = ports ? Ip4.Format(r.InSrcIp, r.InSrcPort) : Ip4.Format(r.InSrcIp);
        string d = ports ? Ip4.Format(r.InDstIp, r.InDstPort) : Ip4.Format(r.InDstIp);
        // A flow first seen in the reply direction (cannot happen today) would print reversed; keep client -> service.
        return original ? $"{IpProto.Name(r.Proto)} {s} -> {d}" : $"{IpProto.Name(r.Proto)} {d} -> {s}";
    }

    /// <summary>
    /// What a frame without a 5-tuple is, named by where parsing stopped (ParseStage's order: link layer, Ethernet,
    /// IPv4 header, L4 header), so a bad checksum or a truncated segment is not reported as "not IPv4". Frames that
    /// are IPv4 carry their protocol (the parser read it before it stopped).
    /// </summary>
    static string Untupled(in PacketResult r)
    {
        string name = IpProto.Name(r.Proto);
        string proto = char.IsAsciiDigit(name[0]) ? $"IPv4 protocol {name}" : $"IPv4 {name}";
        return r.Reason switch
        {
            DropReason.OutgoingCopy => "(the node's own outgoing copies)",
            DropReason.UnsupportedLinkType => "(link type not understood)",
            DropReason.TruncatedEthernet => "(truncated Ethernet header)",
            DropReason.TruncatedIpv4 => "(IPv4, truncated header)",
            DropReason.InvalidIpv4Header => "(IPv4, invalid header)",
            DropReason.InvalidIpv4Length => "(IPv4, invalid total length)",
            DropReason.BadIpChecksum => "(IPv4, bad header checksum)",
            DropReason.TruncatedL4 => $"({proto}, truncated header)",
            DropReason.InvalidL4Header => $"({proto}, invalid header)",
            DropReason.FragFirstNotSeen or DropReason.SctpFragment => $"({proto} fragment)",
            // Decided by the fragment hold before any pipeline parsed them: what is known is that they are fragments.
            DropReason.FragReassemblyTimeout or DropReason.FragOverlap or DropReason.FragDuplicate or DropReason.FragHoldFull
                or DropReason.FragInvalid => "(IPv4 fragment)",
            _ when r.Verdict == Verdict.Reassembled => "(IPv4 fragment of a reassembled datagram)",
            DropReason.TruncatedIcmpError => "(IPv4 icmp error, truncated quote)",
            // No reason and no protocol: the parser passed it at the EtherType (ARP, IPv6, LLDP...).
            _ when r.Proto == 0 => "(not IPv4)",
            _ => $"({proto})",
        };
    }

    /// <summary>"1 frame", "2 frames": the count with the noun in its number.</summary>
    public static string Count(long n, string noun) => $"{n} {noun}{(n == 1 ? "" : "s")}";

    static string Outcome(in PacketResult r, MapSet maps)
    {
        string? svc = VerdictWriter.ServiceName(r, maps);
        var sb = new StringBuilder(r.Verdict.Name());
        if (r.Reason != DropReason.None) sb.Append(" (").Append(r.Reason.Name()).Append(')');
        if (svc is not null) sb.Append("  service ").Append(svc);
        if (r.Verdict == Verdict.Forward && r.RevNatIndex != 0)
        {
            sb.Append("  backend ").Append(Ip4.Format(r.Backend.Address, r.Backend.Port));
            if (r.Masqueraded) sb.Append("  snat ").Append(Ip4.Format(r.OutSrcIp, r.OutSrcPort));
        }
        else if (r.Verdict == Verdict.Reject && r.HasOut)
            sb.Append(r.OutProto == IpProto.Tcp ? "  tcp reset from "
                : r.Reason == DropReason.TtlExceeded ? "  icmp time-exceeded from " : "  icmp port-unreachable from ").Append(Ip4.Format(r.OutSrcIp));
        else if (r.Verdict == Verdict.Answer)
            sb.Append("  answered by the cluster DNS at ").Append(Ip4.Format(r.OutSrcIp));
        return sb.ToString();
    }

    public void Print(TextWriter w)
    {
        foreach (Row row in _order)
        {
            string dirs = row.Reply > 0 ? $" ({row.Original} out, {row.Reply} back)" : "";
            w.WriteLine($"  {row.Tuple,-48} {row.Outcome}  [{Count(row.Frames, "frame")}{dirs}, first #{row.FirstFrame}]");
        }
        if (UnlistedFrames > 0)
            w.WriteLine($"  ... not listed (the report keeps the first {_maxRows} rows): {_moreFlows} more tracked {(_moreFlows == 1 ? "flow" : "flows")} ({Count(_moreFlowFrames, "frame")}), {Count(_moreOtherFrames, "frame")} of other traffic");
    }
}
