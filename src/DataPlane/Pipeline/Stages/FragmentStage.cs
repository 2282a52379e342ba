using System.Buffers.Binary;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// IPv4 fragments (cilium's fragment tracking, bpf/lib/ipv4.h): the first fragment carries the ports and is handled
/// like any packet, then remembered under (src, dst, proto, id); later fragments take the same address translation
/// (no L4 header to rewrite: the L4 checksum lives in the first fragment, and it already covers the whole datagram).
/// Order is the node's fragment hold's business (<see cref="FragmentHold"/>, in front of the workers as nf_defrag is
/// in front of conntrack): a later fragment that beats its first fragment is held there and reaches this stage right
/// after it. So a later fragment bound for a service address that finds no translation here had a first fragment
/// that was not translated (dropped, rejected, answered) or not remembered (a full map), or came through a caller
/// that runs the pipeline without the hold: it is dropped (frag-first-not-seen), and passed when bound elsewhere (it
/// is not ours). Linux instead reassembles before NAT and re-fragments; the emitted fragments are the same, but it
/// emits nothing until the last one has arrived.
/// </summary>
public static class FragmentStage
{
    public static FragmentKey KeyOf(ref PacketContext ctx) =>
        new(ctx.SrcIp, ctx.DstIp, BinaryPrimitives.ReadUInt16BigEndian(ctx.Frame.Slice(ctx.L3Offset + Ipv4Header.IdOffset)), ctx.Proto);

    public static Verdict Run(ref PacketContext ctx, MapSet maps, WorkerState w)
    {
        ConntrackMap ct = w.Conntrack;
        FragmentMap frags = w.Fragments;
        FragmentKey key = KeyOf(ref ctx);
        if (!frags.TryGet(key, ctx.NowNs, out FragmentEntry f) || !ct.TrySnapshot(f.CtIndex, out CtEntry e) || e.FlowId != f.FlowId)
            return NotSeen(ref ctx, maps);
        Verdict t = ForwardStage.Ttl(ref ctx, 0, 0); // never answered (a later fragment, an error about an error): only dropped
        if (t != Verdict.Continue) return t;
        bool last = (BinaryPrimitives.ReadUInt16BigEndian(ctx.Frame.Slice(ctx.L3Offset + Ipv4Header.FlagsFragmentOffset)) & Ipv4Header.FlagMoreFragments) == 0;
        if (last) frags.Forget(key);
        ctx.CtIndex = f.CtIndex;
        ctx.Direction = f.Direction;
        ref readonly CtTuple4 other = ref f.Direction == CtDirection.Original ? ref e.Reply : ref e.Original;
        ForwardStage.IpHeader(ctx.Frame.Slice(ctx.L3Offset), ctx.SrcIp, other.DstIp, ctx.DstIp, other.SrcIp);
        ctx.ArrivedSrcIp = ctx.SrcIp; // how a later fragment of an ICMP error is reported
        ctx.ArrivedDstIp = ctx.DstIp;
        // Report the datagram's translated tuple (the ports are those of its first fragment).
        ctx.SrcIp = other.DstIp; ctx.SrcPort = other.DstPort;
        ctx.DstIp = other.SrcIp; ctx.DstPort = other.SrcPort;
        return Verdict.Forward;
    }

    static Verdict NotSeen(ref PacketContext ctx, MapSet maps)
    {
        return maps.IsFrontendAddress(ctx.DstIp) ? ctx.Drop(DropReason.FragFirstNotSeen) : Verdict.Pass;
    }
}
