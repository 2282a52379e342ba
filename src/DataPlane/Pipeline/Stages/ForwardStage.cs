using System.Runtime.CompilerServices;
using DataPlane.Packets;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// The TTL rule of a forwarding router, in one place for every path that forwards (new and tracked flows, later
/// fragments, translated ICMP errors). A datagram that arrives with TTL 0 or 1 is not forwarded (RFC 1812 §5.3.1); the
/// kernel's ip_forward checks it after PREROUTING (so after kube-proxy's DNAT) and before the FORWARD hook (so before
/// kube-proxy's REJECT), and answers with ICMP time exceeded, code 0 (icmp_send(ICMP_TIME_EXCEEDED, ICMP_EXC_TTL)).
/// No answer, only the drop, for a non-first fragment and for an ICMP error (icmp_send: "only reply to fragment 0",
/// never an error about an error, RFC 1122 §3.2.2).
/// </summary>
public static class ForwardStage
{

    /// <summary>
    /// <see cref="Verdict.Continue"/> when the frame may be forwarded; otherwise the frame is not, <c>ctx.Reason</c> is
    /// <see cref="DropReason.TtlExceeded"/>, and the verdict is <see cref="Verdict.Reject"/> with a time exceeded from
    /// <paramref name="errorSource"/> in <c>ctx.ReplyBuffer</c>, or <see cref="Verdict.Drop"/> when no answer is due.
    /// Call it before any translation: the error quotes the datagram as it arrived.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Verdict Ttl(ref PacketContext ctx, uint errorSource, ref ushort ipId) =>
        Expires(ref ctx) ? Expired(ref ctx, errorSource, ref ipId) : Verdict.Continue;

    /// <summary>The rule itself: TTL 0 or 1 is not forwarded. For hot paths that work out the error's source only then.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Expires(ref PacketContext ctx) => ctx.Frame[ctx.L3Offset + Ipv4Header.TtlOffset] <= 1;

    /// <summary>
    /// The address an error the node itself originates leaves with (icmp_send's source, the route back to the sender):
    /// the pod gateway (cni0's address) towards this node's pods, the node IP otherwise.
    /// </summary>
    public static uint InterfaceToward(DataPlane.Maps.NodeInfo node, uint dst) =>
        node.PodCidr is { } pod && pod.Contains(dst) ? pod.At(1) : node.PrimaryAddress;

    [MethodImpl(MethodImplOptions.NoInlining)]
    static Verdict Expired(ref PacketContext ctx, uint errorSource, ref ushort ipId)
    {
        ctx.Reason = DropReason.TtlExceeded;
        if (ctx.IsLaterFragment || (ctx.Proto == IpProto.Icmp && ctx.IcmpType is not (L4.IcmpEchoRequest or L4.IcmpEchoReply)))
            return Verdict.Drop;
        TimeExceeded(ref ctx, errorSource, ref ipId);
        return Verdict.Reject;
    }

    /// <summary>
    /// ICMP time exceeded built as icmp_send builds its errors (net/ipv4/icmp.c; the same header rules as REJECT's
    /// port unreachable): TOS (original &amp; 0x1e) | 0xc0, TTL 64, DF clear, at most 576 bytes, quoting the datagram
    /// as it arrived (TTL unchanged: ip_forward has not decremented it). The IP id is the pipeline's ICMP counter.
    /// </summary>
    static void TimeExceeded(ref PacketContext ctx, uint src, ref ushort ipId) =>
        IcmpSend.Build(ref ctx, src, L4.IcmpTimeExceeded, 0 /* TTL exceeded in transit */, forwardedQuote: false, ref ipId);
}
