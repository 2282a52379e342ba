using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// kube-proxy's <c>-j REJECT</c> for a service without endpoints: ICMP destination unreachable, port unreachable
/// (type 3 code 3) for TCP and UDP alike (never a TCP RST), built the way Linux's icmp_send does (net/ipv4/icmp.c, reached from net/ipv4/netfilter/nf_reject_ipv4.c):
/// TOS = (original TOS &amp; 0x1e) | 0xc0, TTL 64, DF clear, the whole ICMP datagram at most 576 bytes, the quoted
/// datagram starting at the original IP header. The source is the original destination when that is a node address
/// (INPUT path: NodePort), otherwise the address of the interface towards the sender (FORWARD path): the pod gateway
/// for senders in this node's pod CIDR, else the node IP; on the FORWARD path the quoted header already has TTL - 1.
/// The IP id is a seeded draw keyed by the rejected datagram where the kernel uses a random per-destination counter.
/// </summary>
public static class RejectStage
{
    /// <summary>
    /// A service without endpoints: to a node address the datagram is delivered locally (INPUT) and REJECTed whatever
    /// its TTL; otherwise it is forwarded, and ip_forward's TTL check comes before the FORWARD hook's REJECT, answering
    /// from the interface towards the sender (no NAT was applied).
    /// </summary>
    public static Verdict Run(ref PacketContext ctx, MapSet maps, WorkerState w)
    {
        if (!maps.Node.IsNodeAddress(ctx.DstIp))
        {
            Verdict v = ForwardStage.Ttl(ref ctx, ForwardStage.InterfaceToward(maps.Node, ctx.SrcIp), w.Options.Seed);
            if (v != Verdict.Continue) return v;
        }
        return PortUnreachable(ref ctx, maps, w.Options.Seed);
    }

    /// <summary>The REJECT itself, whatever the TTL (the node's own closed UDP ports, delivered locally).</summary>
    public static Verdict PortUnreachable(ref PacketContext ctx, MapSet maps, ulong seed)
    {
        NodeInfo node = maps.Node;
        bool input = node.IsNodeAddress(ctx.DstIp);
        uint src = input ? ctx.DstIp
            : node.PodCidr is { } pod && pod.Contains(ctx.SrcIp) ? pod.At(1) : node.PrimaryAddress;

        IcmpSend.Build(ref ctx, src, L4.IcmpDestUnreachable, L4.IcmpPortUnreachableCode, forwardedQuote: !input, seed);
        return Verdict.Reject;
    }
}
