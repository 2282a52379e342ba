using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// Rewrites addresses and ports from a conntrack entry, in either direction, with incremental checksum updates
/// (RFC 1624 eqn. 3): an address change goes into both the IPv4 header checksum and the TCP/UDP checksum (the addresses
/// are in the pseudo-header); a port change into the L4 checksum only. A zero UDP checksum stays zero.
/// Then the forwarding step every router does: TTL - 1, folded into the same IPv4 checksum update.
/// </summary>
public static class NatStage
{
    /// <summary>
    /// A packet of the tracked connection <c>ctx.CtIndex</c> that may be forwarded: account it to its connection
    /// (flags, lifetime), remember a first fragment's translation for the fragments that follow, and rewrite it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Verdict Run(ref PacketContext ctx, MapSet maps, WorkerState w)
    {
        ref CtEntry e = ref w.Conntrack[ctx.CtIndex];
        if (ctx.IsFirstFragment)
            w.Fragments.Remember(FragmentStage.KeyOf(ref ctx), ctx.CtIndex, e.FlowId, ctx.Direction, ctx.NowNs);
        ConntrackStage.Update(ref ctx, ref e, in w.Timeouts);
        Translate(ref ctx, in e, ctx.Direction);
        return Verdict.Forward;
    }

    /// <summary>Translate a packet of connection <paramref name="e"/> travelling in <paramref name="dir"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Translate(ref PacketContext ctx, in CtEntry e, CtDirection dir)
    {
        // A packet matching one tuple leaves looking like the other tuple reversed.
        ref readonly CtTuple4 other = ref dir == CtDirection.Original ? ref e.Reply : ref e.Original;
        Rewrite(ref ctx, other.DstIp, other.DstPort, other.SrcIp, other.SrcPort);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rewrite(ref PacketContext ctx, uint newSrc, ushort newSport, uint newDst, ushort newDport)
    {
        Span<byte> l4 = ctx.Frame.Slice(ctx.L4Offset);
        uint addrDiff = ForwardStage.IpHeader(ctx.Frame.Slice(ctx.L3Offset), ctx.SrcIp, newSrc, ctx.DstIp, newDst);
        uint portDiff = 0;
        if (newSport != ctx.SrcPort)
        {
            portDiff += Checksum.Diff16(ctx.SrcPort, newSport);
            L4.WriteU16(l4, L4.SrcPortOffset, newSport);
        }
        if (newDport != ctx.DstPort)
        {
            portDiff += Checksum.Diff16(ctx.DstPort, newDport);
            L4.WriteU16(l4, L4.DstPortOffset, newDport);
        }

        uint l4Diff = addrDiff + portDiff;
        if (l4Diff != 0)
        {
            if (ctx.Proto == IpProto.Tcp)
            {
                ushort c = L4.ReadU16(l4, L4.TcpChecksumOffset);
                L4.WriteU16(l4, L4.TcpChecksumOffset, Checksum.Apply(c, l4Diff));
            }
            else if (ctx.Proto == IpProto.Udp)
            {
                ushort c = L4.ReadU16(l4, L4.UdpChecksumOffset);
                L4.WriteU16(l4, L4.UdpChecksumOffset, Checksum.ApplyUdp(c, l4Diff));
            }
        }
        ctx.SrcIp = newSrc;
        ctx.DstIp = newDst;
        ctx.SrcPort = newSport;
        ctx.DstPort = newDport;
    }

}
