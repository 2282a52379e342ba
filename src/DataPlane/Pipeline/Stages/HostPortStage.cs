using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// Traffic to one of the node's own addresses that no service and no connection claims reaches the node's stack; on a
/// port nothing listens on, Linux answers itself (net/ipv4/tcp_ipv4.c, net/ipv4/udp.c __udp4_lib_rcv): TCP gets a reset
/// built as tcp_v4_send_reset builds it, UDP an ICMP port unreachable from the node address (icmp_send, as
/// <see cref="RejectStage"/> builds it on the INPUT path). Ports in <see cref="PipelineOptions.HostPorts"/> are served
/// and pass untouched. Not answered: an incoming RST (never reset a reset, RFC 9293 §3.10.7.1), fragments (the kernel
/// answers the reassembled datagram), SCTP (the kernel's SCTP stack would ABORT; not emulated).
/// </summary>
public static class HostPortStage
{
    /// <summary>
    /// Generic over the sink like the runner: each rule records its decision where it is taken when traced (the
    /// untraced copy is the same chain of tests, each returning Pass).
    /// </summary>
    public static Verdict Run<TSink>(ref PacketContext ctx, MapSet maps, WorkerState w) where TSink : struct, IStageSink
    {
        if (ctx.Proto is not (IpProto.Tcp or IpProto.Udp)) return Decided<TSink>(ref ctx, Verdict.Pass, maps, w, StageRule.HostOtherProtocol);
        if (ctx.IsFirstFragment) return Decided<TSink>(ref ctx, Verdict.Pass, maps, w, StageRule.HostFragment);
        // Loopback (127/8) is left alone: it never arrives on a wire, and what answers there is the host's business.
        if ((ctx.DstIp >> 24) == 127) return Decided<TSink>(ref ctx, Verdict.Pass, maps, w, StageRule.HostLoopback);
        if (!maps.Node.IsNodeAddress(ctx.DstIp)) return Decided<TSink>(ref ctx, Verdict.Pass, maps, w, StageRule.HostNotNodeAddress);
        if (w.Options.HostPorts.Serves(ctx.Proto, ctx.DstPort)) return Decided<TSink>(ref ctx, Verdict.Pass, maps, w, StageRule.HostPortServed);
        if (ctx.Proto == IpProto.Udp) return Decided<TSink>(ref ctx, RejectStage.PortUnreachable(ref ctx, maps, w.Options.Seed), maps, w, StageRule.HostClosedUdpPort);
        return (ctx.TcpFlags & L4.TcpRst) != 0
            ? Decided<TSink>(ref ctx, Verdict.Pass, maps, w, StageRule.HostIncomingReset)
            : Decided<TSink>(ref ctx, Reset(ref ctx), maps, w, StageRule.HostClosedTcpPort);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Verdict Decided<TSink>(ref PacketContext ctx, Verdict v, MapSet maps, WorkerState w, StageRule rule) where TSink : struct, IStageSink =>
        StageLog.Decided<TSink>(ref ctx, PipelineStage.HostPort, v, maps, w, rule);

    /// <summary>
    /// tcp_v4_send_reset: an incoming segment with ACK gets RST with seq = its ack number; any other gets RST|ACK with
    /// seq 0 and ack = its seq + SYN + FIN + payload length. A bare 20-byte header, window 0; the IP header from
    /// ip_send_unicast_reply: TOS = the segment's TOS without the ECN bits, ID 0, DF, TTL 64, from the address the
    /// segment was sent to. MACs swapped, VLAN tag kept (back out of the interface it came in).
    /// </summary>
    static Verdict Reset(ref PacketContext ctx)
    {
        const int total = Ipv4Header.MinLength + L4.TcpMinLength;
        int l3 = ctx.L3Offset;
        Span<byte> r = ctx.ReplyBuffer;
        if (r.Length < l3 + total) { ctx.ReplyLength = 0; return Verdict.Reject; }
        ReadOnlySpan<byte> orig = ctx.Frame;
        ReadOnlySpan<byte> tcp = orig.Slice(ctx.L4Offset, ctx.L4Length);
        int dataOffset = (tcp[L4.TcpDataOffsetOffset] >> 4) * 4;
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(tcp.Slice(L4.TcpSeqOffset));
        uint ack = BinaryPrimitives.ReadUInt32BigEndian(tcp.Slice(L4.TcpAckOffset));

        orig.Slice(0, l3).CopyTo(r);
        Ethernet.SwapMacs(r);
        Span<byte> ip = r.Slice(l3, total);
        ip.Clear();
        ip[0] = 0x45;
        ip[Ipv4Header.TosOffset] = (byte)(orig[l3 + Ipv4Header.TosOffset] & ~0x03); // INET_ECN_MASK cleared
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.TotalLengthOffset), total);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.FlagsFragmentOffset), Ipv4Header.FlagDontFragment);
        ip[Ipv4Header.TtlOffset] = 64;
        ip[Ipv4Header.ProtocolOffset] = IpProto.Tcp;
        BinaryPrimitives.WriteUInt32BigEndian(ip.Slice(Ipv4Header.SrcOffset), ctx.DstIp);
        BinaryPrimitives.WriteUInt32BigEndian(ip.Slice(Ipv4Header.DstOffset), ctx.SrcIp);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.ChecksumOffset), Checksum.Compute(ip.Slice(0, Ipv4Header.MinLength)));

        Span<byte> t = ip.Slice(Ipv4Header.MinLength);
        L4.WriteU16(t, L4.SrcPortOffset, ctx.DstPort);
        L4.WriteU16(t, L4.DstPortOffset, ctx.SrcPort);
        if ((ctx.TcpFlags & L4.TcpAck) != 0)
        {
            BinaryPrimitives.WriteUInt32BigEndian(t.Slice(L4.TcpSeqOffset), ack);
            t[L4.TcpFlagsOffset] = L4.TcpRst;
        }
        else
        {
            uint len = (uint)Math.Max(0, ctx.L4Length - dataOffset)
                       + ((ctx.TcpFlags & L4.TcpSyn) != 0 ? 1u : 0) + ((ctx.TcpFlags & L4.TcpFin) != 0 ? 1u : 0);
            BinaryPrimitives.WriteUInt32BigEndian(t.Slice(L4.TcpAckOffset), seq + len);
            t[L4.TcpFlagsOffset] = L4.TcpRst | L4.TcpAck;
        }
        t[L4.TcpDataOffsetOffset] = 5 << 4;
        L4.WriteU16(t, L4.TcpChecksumOffset, Checksum.Compute(t, Checksum.PseudoHeaderSum(ctx.DstIp, ctx.SrcIp, IpProto.Tcp, L4.TcpMinLength)));
        ctx.ReplyLength = l3 + total;
        return Verdict.Reject;
    }
}
