using System.Runtime.CompilerServices;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// SCTP (IP protocol 132) service traffic: the same stages as TCP and UDP, plus what SCTP needs around them. The
/// CRC32c is verified before a packet is tracked or translated (nf_conntrack_sctp's sctp_error with
/// nf_conntrack_checksum=1: a bad one is INVALID, and kube-proxy drops INVALID), the chunks drive the conntrack state
/// (<see cref="SctpConntrack"/>), and a translated port means the CRC32c is recomputed over the whole packet (it has no
/// pseudo-header, so an address-only translation leaves it as it is, byte for byte what recomputing would give).
/// Kept out of line: SCTP is rare, and the TCP/UDP path does not pay for it.
/// </summary>
public static class SctpStage
{
    /// <summary>
    /// The SCTP chain. Generic over the sink like the runner: each of its stage calls (conntrack, service, backend,
    /// TTL, masquerade, conntrack create, NAT) and each SCTP check is recorded where it decides when traced.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Verdict Run<TSink>(ref PacketContext ctx, MapSet maps, WorkerState w) where TSink : struct, IStageSink
    {
        ConntrackMap ct = w.Conntrack;
        // The CRC covers the whole packet: a first fragment can be neither verified nor re-checksummed (the kernel
        // reassembles first; SCTP endpoints fragment user messages into chunks themselves and rarely send IP fragments).
        if (ctx.IsFirstFragment) return Checked<TSink>(ref ctx, ctx.Drop(DropReason.SctpFragment), maps, w);
        Span<byte> sctp = ctx.Frame.Slice(ctx.L4Offset, ctx.L4Length);

        Verdict v = ConntrackStage.Lookup(ref ctx, maps, w);
        if (TSink.Enabled) StageLog.Record(ref ctx, PipelineStage.Conntrack, v, StageRule.None, maps, w);
        if (v is Verdict.Drop or Verdict.Pass) return v;
        if (v == Verdict.Forward)
        {
            if (!Crc32c.SctpValid(sctp)) return Checked<TSink>(ref ctx, ctx.Drop(DropReason.SctpBadChecksum), maps, w);
            // The TTL rule of TCP and UDP at the same point (ForwardStage.Tracked): time exceeded from the frontend
            // for the client's direction, from the interface towards the backend for a reply.
            v = ForwardStage.Tracked(ref ctx, maps, w);
            if (v != Verdict.Continue) return StageLog.Decided<TSink>(ref ctx, PipelineStage.Ttl, v, maps, w);
            ref CtEntry e = ref ct[ctx.CtIndex];
            if (!SctpConntrack.Update(ref ctx, ref e, sctp, confirmed: true))
                return Checked<TSink>(ref ctx, ctx.Drop(DropReason.CtInvalid), maps, w, StageRule.SctpInvalidMove);
            if (TSink.Enabled) StageLog.Record(ref ctx, PipelineStage.Sctp, Verdict.Continue, StageRule.None, maps, w);
            return TranslateSctp<TSink>(ref ctx, in e, sctp, maps, w);
        }

        v = ServiceLookupStage.Run(ref ctx, maps, w);
        if (TSink.Enabled) StageLog.Record(ref ctx, PipelineStage.ServiceLookup, v, StageRule.None, maps, w);
        if (v != Verdict.Continue) return v;
        if (!Crc32c.SctpValid(sctp)) return Checked<TSink>(ref ctx, ctx.Drop(DropReason.SctpBadChecksum), maps, w);
        // Not NEW for conntrack (DATA, SACK, ABORT... out of the blue): INVALID, dropped before kube-proxy's REJECT
        // rules, which only see NEW connections.
        if (!SctpConntrack.CanCreate(sctp)) return Checked<TSink>(ref ctx, ctx.Drop(DropReason.CtInvalid), maps, w, StageRule.SctpOutOfTheBlue);
        if (TSink.Enabled) StageLog.Record(ref ctx, PipelineStage.Sctp, Verdict.Continue, StageRule.None, maps, w);
        v = BackendSelectStage.Run(ref ctx, maps, w);
        if (TSink.Enabled) StageLog.Record(ref ctx, PipelineStage.BackendSelect, v, StageRule.None, maps, w);
        // No endpoints: as for TCP and UDP, ip_forward's TTL check comes before the FORWARD hook's REJECT (a NodePort,
        // delivered locally, is REJECTed whatever its TTL), so TTL 0 or 1 gets time exceeded, never a port
        // unreachable quoting a decremented (wrapped) TTL.
        if (v == Verdict.Reject) return StageLog.Decided<TSink>(ref ctx, PipelineStage.Reject, RejectStage.Run(ref ctx, maps, w), maps, w);
        if (v != Verdict.Continue) return v;
        // With endpoints: the same TTL rule as TCP and UDP after the DNAT (ForwardStage.Run), time exceeded from the frontend.
        v = ForwardStage.Run(ref ctx, maps, w);
        if (TSink.Enabled) StageLog.Record(ref ctx, PipelineStage.Ttl, v, StageRule.None, maps, w);
        if (v != Verdict.Continue) return v;
        MasqueradeStage.Run(ref ctx, maps, w);
        if (TSink.Enabled) StageLog.Record(ref ctx, PipelineStage.Masquerade, Verdict.Continue, StageRule.None, maps, w);
        v = ConntrackStage.Create(ref ctx, maps, w);
        if (TSink.Enabled) StageLog.Record(ref ctx, PipelineStage.ConntrackCreate, v, StageRule.None, maps, w);
        if (v != Verdict.Continue) return v;
        ref CtEntry created = ref ct[ctx.CtIndex];
        if (!SctpConntrack.Update(ref ctx, ref created, sctp, confirmed: false))
        {
            // Unreachable after CanCreate (every original-direction move from NONE is valid); never leave a half entry.
            ct.Delete(ctx.CtIndex);
            ctx.NewFlow = false;
            return Checked<TSink>(ref ctx, ctx.Drop(DropReason.CtInvalid), maps, w, StageRule.SctpInvalidMove);
        }
        if (TSink.Enabled) StageLog.Record(ref ctx, PipelineStage.Sctp, Verdict.Continue, StageRule.None, maps, w);
        return TranslateSctp<TSink>(ref ctx, in created, sctp, maps, w);
    }

    /// <summary>An SCTP check's verdict, recorded as the SCTP stage's when traced.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Verdict Checked<TSink>(ref PacketContext ctx, Verdict v, MapSet maps, WorkerState w, StageRule rule = StageRule.None) where TSink : struct, IStageSink =>
        StageLog.Decided<TSink>(ref ctx, PipelineStage.Sctp, v, maps, w, rule);

    static Verdict TranslateSctp<TSink>(ref PacketContext ctx, in CtEntry e, Span<byte> sctp, MapSet maps, WorkerState w) where TSink : struct, IStageSink
    {
        ushort sport = ctx.SrcPort, dport = ctx.DstPort;
        NatStage.Translate(ref ctx, in e, ctx.Direction);
        if (sport != ctx.SrcPort || dport != ctx.DstPort) Crc32c.WriteSctp(sctp);
        return StageLog.Decided<TSink>(ref ctx, PipelineStage.Nat, Verdict.Forward, maps, w);
    }
}
