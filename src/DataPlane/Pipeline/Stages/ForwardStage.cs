using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// The TTL rule of a forwarding router, in one place for every path that forwards (new and tracked flows, later
/// fragments, translated ICMP errors). A datagram that arrives with TTL 0 or 1 is not forwarded (RFC 1812 §5.3.1); the
/// kernel's ip_forward checks it after PREROUTING (so after kube-proxy's DNAT) and before the FORWARD hook (so before
/// kube-proxy's REJECT), and answers with ICMP time exceeded, code 0 (icmp_send(ICMP_TIME_EXCEEDED, ICMP_EXC_TTL)).
/// No answer, only the drop, for a non-first fragment and for an ICMP error (icmp_send: "only reply to fragment 0",
/// never an error about an error, RFC 1122 §3.2.2). It also owns the forwarding rewrite of the IPv4 header (TTL - 1,
/// translated addresses, checksum) that NAT, translated ICMP errors and later fragments share.
/// </summary>
public static class ForwardStage
{
    /// <summary>
    /// A new service connection, after backend selection: ip_forward's TTL check runs after PREROUTING's DNAT, so the
    /// error is NATed back to come from the frontend (the packet's destination as it arrived).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Verdict Run(ref PacketContext ctx, MapSet maps, WorkerState w) => Ttl(ref ctx, ctx.DstIp, w.Options.Seed);

    /// <summary>
    /// A packet of a tracked connection (<c>ctx.CtIndex</c>): the error comes from the frontend (the original
    /// destination) for the client's direction, from the interface towards the backend for a reply.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Verdict Tracked(ref PacketContext ctx, MapSet maps, WorkerState w) =>
        Expires(ref ctx) ? TrackedExpired(ref ctx, maps, w) : Verdict.Continue;

    /// <remarks>A direct flow whose source port was moved (no DNAT): nothing turns the error's source into another
    /// address, so it comes from the interface towards the sender in both directions.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static Verdict TrackedExpired(ref PacketContext ctx, MapSet maps, WorkerState w)
    {
        ref CtEntry e = ref w.Conntrack[ctx.CtIndex];
        return Expired(ref ctx, ctx.Direction == CtDirection.Original && (e.Flags & CtFlags.Dnat) != 0 ? e.Original.DstIp : InterfaceToward(maps.Node, ctx.SrcIp), w.Options.Seed);
    }

    /// <summary>
    /// A forwarded datagram with IP options: Record Route and Timestamp get this node's entry (<see cref="IpOptions"/>).
    /// The recorded address is the node's address on the egress side, as MASQUERADE picks it: the pod gateway
    /// towards this node's pods, the node IP otherwise. The timestamp comes from the packet clock (the capture's time
    /// in a replay). Options the kernel rejects drop the datagram (it would also send ICMP parameter problem; not sent).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Verdict Options(ref PacketContext ctx, MapSet maps, WorkerState w)
    {
        NodeInfo node = maps.Node;
        uint egress = node.PodCidr is { } pod && pod.Contains(ctx.DstIp) ? pod.At(1) : node.PrimaryAddress;
        if (IpOptions.Forward(ctx.Frame.Slice(ctx.L3Offset), egress, IpOptions.MillisecondsSinceMidnight(ctx.NowNs), node.Addresses))
            return Verdict.Forward;
        return ctx.Drop(DropReason.BadIpOptions);
    }


    /// <summary>
    /// <see cref="Verdict.Continue"/> when the frame may be forwarded; otherwise the frame is not, <c>ctx.Reason</c> is
    /// <see cref="DropReason.TtlExceeded"/>, and the verdict is <see cref="Verdict.Reject"/> with a time exceeded from
    /// <paramref name="errorSource"/> in <c>ctx.ReplyBuffer</c>, or <see cref="Verdict.Drop"/> when no answer is due.
    /// Call it before any translation: the error quotes the datagram as it arrived.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Verdict Ttl(ref PacketContext ctx, uint errorSource, ulong seed) =>
        Expires(ref ctx) ? Expired(ref ctx, errorSource, seed) : Verdict.Continue;

    /// <summary>The rule itself: TTL 0 or 1 is not forwarded. For hot paths that work out the error's source only then.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Expires(ref PacketContext ctx) => ctx.Frame[ctx.L3Offset + Ipv4Header.TtlOffset] <= 1;

    /// <summary>
    /// The address an error the node itself originates leaves with (icmp_send's source, the route back to the sender):
    /// the pod gateway (cni0's address) towards this node's pods, the node IP otherwise.
    /// </summary>
    public static uint InterfaceToward(NodeInfo node, uint dst) =>
        node.PodCidr is { } pod && pod.Contains(dst) ? pod.At(1) : node.PrimaryAddress;

    [MethodImpl(MethodImplOptions.NoInlining)]
    static Verdict Expired(ref PacketContext ctx, uint errorSource, ulong seed)
    {
        ctx.Reason = DropReason.TtlExceeded;
        if (ctx.IsLaterFragment || (ctx.Proto == IpProto.Icmp && ctx.IcmpType is not (L4.IcmpEchoRequest or L4.IcmpEchoReply)))
            return Verdict.Drop;
        TimeExceeded(ref ctx, errorSource, seed);
        return Verdict.Reject;
    }

    /// <summary>
    /// ICMP time exceeded built as icmp_send builds its errors (net/ipv4/icmp.c; the same header rules as REJECT's
    /// port unreachable): TOS (original &amp; 0x1e) | 0xc0, TTL 64, DF clear, at most 576 bytes, quoting the datagram
    /// as it arrived (TTL unchanged: ip_forward has not decremented it). The IP id is keyed by that datagram (IcmpSend).
    /// </summary>
    static void TimeExceeded(ref PacketContext ctx, uint src, ulong seed) =>
        IcmpSend.Build(ref ctx, src, L4.IcmpTimeExceeded, 0 /* TTL exceeded in transit */, forwardedQuote: false, seed);

    /// <summary>
    /// The IPv4 part of forwarding a translated packet, shared by every stage that forwards (translation, ICMP errors,
    /// later fragments): new addresses, TTL - 1 (the high byte of the TTL/protocol word), one incremental header
    /// checksum update. Returns the address part of the difference, which the TCP/UDP pseudo-header also needs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint IpHeader(Span<byte> ip, uint oldSrc, uint newSrc, uint oldDst, uint newDst)
    {
        uint addrDiff = 0;
        if (newSrc != oldSrc)
        {
            addrDiff += Checksum.Diff32(oldSrc, newSrc);
            BinaryPrimitives.WriteUInt32BigEndian(ip.Slice(Ipv4Header.SrcOffset), newSrc);
        }
        if (newDst != oldDst)
        {
            addrDiff += Checksum.Diff32(oldDst, newDst);
            BinaryPrimitives.WriteUInt32BigEndian(ip.Slice(Ipv4Header.DstOffset), newDst);
        }
        ushort ttlProto = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(Ipv4Header.TtlOffset));
        ushort next = (ushort)(ttlProto - 0x100);
        ip[Ipv4Header.TtlOffset] = (byte)(next >> 8);
        ushort check = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(Ipv4Header.ChecksumOffset));
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.ChecksumOffset),
            Checksum.Apply(check, addrDiff + Checksum.Diff16(ttlProto, next)));
        return addrDiff;
    }
}
