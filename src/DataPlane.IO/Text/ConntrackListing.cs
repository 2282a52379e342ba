using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.IO.Text;

/// <summary>
/// Conntrack and NAT tables as text. <c>ct list</c> follows <c>conntrack -L</c>: protocol name and number, seconds
/// left, state, the original then the reply tuple, [UNREPLIED]/[ASSURED]; then our additions, backend and service.
/// <c>nat list</c> follows <c>cilium-dbg bpf nat list</c>: one OUT and one IN line per masqueraded connection.
/// Reads entries through the map's seqlock snapshots, so it is safe beside a running worker.
/// </summary>
public static class ConntrackListing
{
    public static void WriteCt(TextWriter w, ConntrackMap ct, MapSet maps, long nowNs)
    {
        foreach (CtEntry e in Live(ct, nowNs))
        {
            long left = Math.Max(0, (e.ExpiresNs - nowNs) / 1_000_000_000);
            string proto = IpProto.Name(e.Original.Proto);
            string state = e.Original.Proto == IpProto.Tcp ? $" {TcpState(e)}"
                : e.Original.Proto == IpProto.Sctp ? $" {((SctpState)e.TcpFlagsOriginal).Name()}" : "";
            string reply = (e.Flags & CtFlags.SeenReply) != 0 ? " [ASSURED]" : " [UNREPLIED]";
            // SCTP conntrack is ASSURED once ESTABLISHED (nf_conntrack_proto_sctp.c), not on the first reply.
            if (e.Original.Proto == IpProto.Sctp)
                reply = (e.Flags & CtFlags.SeenReply) == 0 ? " [UNREPLIED]" : (e.TcpFlagsReply & 0x80) != 0 ? " [ASSURED]" : "";
            string service = maps.ServiceName(e.RevNatIndex) ?? "-";
            w.WriteLine($"{proto,-8} {e.Original.Proto} {left}{state} {Tuple(e.Original)} {Tuple(e.Reply)}{reply} " +
                        $"backend={Ip4.Format(e.Reply.SrcIp, e.Reply.SrcPort)} service={service} flow={e.FlowId}");
        }
    }

    /// <summary><c>replay --dump-ct</c>: a "conntrack table:" heading, then every worker's entries in worker order.</summary>
    public static void WriteCtSection(TextWriter w, IEnumerable<PacketPipeline> workers, long nowNs)
    {
        w.WriteLine("conntrack table:");
        foreach (PacketPipeline p in workers) WriteCt(w, p.Conntrack, p.Maps, nowNs);
    }

    /// <summary><c>replay --dump-nat</c>: a "nat table:" heading, then every worker's SNAT bindings in worker order.</summary>
    public static void WriteNatSection(TextWriter w, IEnumerable<PacketPipeline> workers, long nowNs)
    {
        w.WriteLine("nat table:");
        foreach (PacketPipeline p in workers) WriteNat(w, p.Conntrack, nowNs);
    }

    public static void WriteNat(TextWriter w, ConntrackMap ct, long nowNs)
    {
        foreach (CtEntry e in Live(ct, nowNs))
        {
            if ((e.Flags & CtFlags.Snat) == 0) continue;
            string p = IpProto.Name(e.Original.Proto).ToUpperInvariant();
            // The binding seen from each side: the client's packets leave from the NAT address; the backend's replies to
            // it go back to the client.
            w.WriteLine($"{p} OUT {Ip4.Format(e.Original.SrcIp, e.Original.SrcPort)} -> {Ip4.Format(e.Reply.SrcIp, e.Reply.SrcPort)} XLATE_SRC {Ip4.Format(e.Reply.DstIp, e.Reply.DstPort)}");
            w.WriteLine($"{p} IN {Ip4.Format(e.Reply.SrcIp, e.Reply.SrcPort)} -> {Ip4.Format(e.Reply.DstIp, e.Reply.DstPort)} XLATE_DST {Ip4.Format(e.Original.SrcIp, e.Original.SrcPort)}");
        }
    }

    /// <summary>
    /// Connections alive at <paramref name="nowNs"/>. An entry past its expiry is dead even if the incremental GC has
    /// not reached it yet: its tuples are already free for a new connection (ConntrackMap reuses them at once), as an
    /// expired nf_conn is gone for <c>conntrack -L</c> whether or not the kernel's gc worker has reaped it.
    /// </summary>
    static IEnumerable<CtEntry> Live(ConntrackMap ct, long nowNs)
    {
        for (int i = 0; i < ct.Capacity; i++)
            if (ct.TrySnapshot(i, out CtEntry e) && e.ExpiresNs > nowNs) yield return e;
    }

    /// <summary>How many connections are alive at <paramref name="nowNs"/> (not counting expired, uncollected entries).</summary>
    public static int LiveCount(ConntrackMap ct, long nowNs)
    {
        int n = 0;
        for (int i = 0; i < ct.Capacity; i++)
            if (ct.TrySnapshot(i, out CtEntry e) && e.ExpiresNs > nowNs) n++;
        return n;
    }

    static string Tuple(in CtTuple4 t) =>
        $"src={Ip4.Format(t.SrcIp)} dst={Ip4.Format(t.DstIp)} sport={t.SrcPort} dport={t.DstPort}";

    /// <summary>A conntrack-style TCP state from the flags seen each way (Linux's names; cilium keeps only the flags).</summary>
    static string TcpState(in CtEntry e)
    {
        byte o = e.TcpFlagsOriginal, r = e.TcpFlagsReply;
        // Over (CtEntry.IsClosed, the rule the pipeline applies): reset, or FIN both ways.
        if (e.IsClosed) return ((o | r) & L4.TcpRst) != 0 ? "CLOSE" : "TIME_WAIT";
        bool finO = (o & L4.TcpFin) != 0, finR = (r & L4.TcpFin) != 0;
        if (finO) return "FIN_WAIT";
        if (finR) return "CLOSE_WAIT";
        if ((r & L4.TcpSyn) != 0 && (o & L4.TcpAck) == 0) return "SYN_RECV";
        if (r == 0 && (o & L4.TcpAck) == 0) return "SYN_SENT";
        return "ESTABLISHED";
    }
}
