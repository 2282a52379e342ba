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
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Verdict Run(ref PacketContext ctx, MapSet maps, WorkerState w)
    {
        ConntrackMap ct = w.Conntrack;
        // The CRC covers the whole packet: a first fragment can be neither verified nor re-checksummed (the kernel
        // reassembles first; SCTP endpoints fragment user messages into chunks themselves and rarely send IP fragments).
        if (ctx.IsFirstFragment) return ctx.Drop(DropReason.SctpFragment);
        Span<byte> sctp = ctx.Frame.Slice(ctx.L4Offset, ctx.L4Length);

        Verdict v = ConntrackStage.Lookup(ref ctx, maps, w);
        if (v == Verdict.Drop) return v;
        if (v == Verdict.Forward)
        {
            if (!Crc32c.SctpValid(sctp)) return ctx.Drop(DropReason.SctpBadChecksum);
            if (ForwardStage.Expires(ref ctx)) return ctx.Drop(DropReason.TtlExceeded);
            ref CtEntry e = ref ct[ctx.CtIndex];
            if (!SctpConntrack.Update(ref ctx, ref e, sctp, confirmed: true)) return ctx.Drop(DropReason.CtInvalid);
            return TranslateSctp(ref ctx, in e, sctp);
        }

        v = ServiceLookupStage.Run(ref ctx, maps, w);
        if (v != Verdict.Continue) return v;
        if (!Crc32c.SctpValid(sctp)) return ctx.Drop(DropReason.SctpBadChecksum);
        // Not NEW for conntrack (DATA, SACK, ABORT... out of the blue): INVALID, dropped before kube-proxy's REJECT
        // rules, which only see NEW connections.
        if (!SctpConntrack.CanCreate(sctp)) return ctx.Drop(DropReason.CtInvalid);
        v = BackendSelectStage.Run(ref ctx, maps, w);
        if (v == Verdict.Reject) return RejectStage.PortUnreachable(ref ctx, maps, w.Options.Seed);
        if (v != Verdict.Continue) return v;
        if (ForwardStage.Expires(ref ctx)) return ctx.Drop(DropReason.TtlExceeded);
        MasqueradeStage.Run(ref ctx, maps, w);
        v = ConntrackStage.Create(ref ctx, maps, w);
        if (v != Verdict.Continue) return v;
        ref CtEntry created = ref ct[ctx.CtIndex];
        if (!SctpConntrack.Update(ref ctx, ref created, sctp, confirmed: false))
        {
            // Unreachable after CanCreate (every original-direction move from NONE is valid); never leave a half entry.
            ct.Delete(ctx.CtIndex);
            ctx.NewFlow = false;
            return ctx.Drop(DropReason.CtInvalid);
        }
        return TranslateSctp(ref ctx, in created, sctp);
    }

    static Verdict TranslateSctp(ref PacketContext ctx, in CtEntry e, Span<byte> sctp)
    {
        ushort sport = ctx.SrcPort, dport = ctx.DstPort;
        NatStage.Translate(ref ctx, in e, ctx.Direction);
        if (sport != ctx.SrcPort || dport != ctx.DstPort) Crc32c.WriteSctp(sctp);
        return Verdict.Forward;
    }
}
