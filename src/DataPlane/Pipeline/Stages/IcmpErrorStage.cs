using System.Buffers.Binary;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// ICMP errors (destination unreachable, time exceeded) about a translated connection are translated with it, the way
/// Linux conntrack handles RELATED packets (nf_nat_icmp_reply_translation): the quoted datagram names the connection;
/// the error travels the opposite way to the quoted packet, so the outer header gets that direction's translation and
/// the quoted header is turned back into what its sender saw. Checksums: the outer and quoted IPv4 headers and the
/// quoted UDP checksum (when in the quote) incrementally; the ICMP checksum, which covers the quote, verified first
/// (a bad one is INVALID) and recomputed in full as the kernel does; a fragmented error's first fragment is updated
/// incrementally instead, since it holds only part of what the checksum covers.
/// </summary>
public static class IcmpErrorStage
{
    /// <summary>
    /// Forward when the error belongs to a tracked connection (and was translated), else Pass. Generic over the sink
    /// like the runner: each rule records its decision where it is taken when traced.
    /// </summary>
    public static Verdict Run<TSink>(ref PacketContext ctx, MapSet maps, WorkerState w) where TSink : struct, IStageSink
    {
        // Echo to a service IP is not load-balanced (a ClusterIP cannot be pinged): it goes to the host stack
        // untouched, as kube-proxy leaves it. Only errors about a tracked connection are translated with it.
        if (ctx.IcmpType is not (L4.IcmpDestUnreachable or L4.IcmpTimeExceeded)) return StageLog.Decided<TSink>(ref ctx, PipelineStage.Icmp, Verdict.Pass, maps, w);
        ConntrackMap ct = w.Conntrack;
        FragmentMap frags = w.Fragments;
        if (ctx.InnerProto is not (IpProto.Tcp or IpProto.Udp or IpProto.Sctp)) return Decided<TSink>(ref ctx, Verdict.Pass, maps, w, StageRule.IcmpQuotesUntracked);
        // The quoted packet left this node as a packet of the connection; the error is about it, so look up the
        // quoted tuple reversed: that is the direction the error itself travels.
        var quoted = new CtTuple4(ctx.InnerSrcIp, ctx.InnerSrcPort, ctx.InnerDstIp, ctx.InnerDstPort, ctx.InnerProto);
        int idx = ct.Lookup(quoted.Reverse(), out CtDirection dir);
        if (idx < 0) return Decided<TSink>(ref ctx, Verdict.Pass, maps, w, StageRule.IcmpNoConnection);
        ref CtEntry e = ref ct[idx];
        if (e.ExpiresNs <= ctx.NowNs) return Decided<TSink>(ref ctx, Verdict.Pass, maps, w, StageRule.IcmpConnectionExpired);
        // nf_conntrack_inet_error (net/netfilter/nf_conntrack_proto_icmp.c): the tuple found is the quoted one reversed,
        // and its destination (the quoted datagram's source) must be where the error is going, "outer daddr != inner"
        // otherwise. An error sent anywhere else (another pod, another node) that quotes a guessed tuple is not RELATED
        // to the connection: conntrack leaves it without one (INVALID). Checked in PREROUTING, before ip_forward's TTL.
        if (ctx.DstIp != ctx.InnerSrcIp) return OuterDaddrMismatch<TSink>(ref ctx, idx, dir, maps, w);
        // RELATED to a direct flow nothing translates (ConntrackStage.Direct): nf_nat_icmp_reply_translation has no NAT
        // to apply, and the error goes on as it came, like its connection's packets.
        if ((e.Flags & (CtFlags.Dnat | CtFlags.Snat)) == 0) return Decided<TSink>(ref ctx, Verdict.Pass, maps, w, StageRule.IcmpUntranslatedConnection);
        Verdict t = ForwardStage.Ttl(ref ctx, 0, 0); // never answered (a later fragment, an error about an error): only dropped
        if (t != Verdict.Continue) return StageLog.Decided<TSink>(ref ctx, PipelineStage.Ttl, t, maps, w);
        Span<byte> icmp = ctx.Frame.Slice(ctx.L4Offset, ctx.L4Length);
        // nf_conntrack_proto_icmp.c icmp_error: with nf_conntrack_checksum=1 (the default) an ICMP message whose
        // checksum does not verify is INVALID ("bad hw icmp checksum"), and kube-proxy drops INVALID in KUBE-FORWARD.
        // A first fragment holds only part of what the checksum covers: the kernel verifies after reassembly; we
        // translate fragments one by one, so it is not verified here and is updated incrementally below (a bad one
        // stays bad, a good one stays good), its later fragments following through the fragment map.
        if (!ctx.IsFirstFragment && Checksum.Fold(Checksum.Sum(icmp)) != 0xFFFF)
        {
            if (TSink.Enabled) (ctx.CtIndex, ctx.Direction) = (idx, dir); // the record names the connection quoted
            return Decided<TSink>(ref ctx, ctx.Drop(DropReason.IcmpBadChecksum), maps, w);
        }
        uint before = ctx.IsFirstFragment ? Checksum.Sum(icmp) : 0;
        ctx.CtIndex = idx;
        ctx.Direction = dir;
        // A packet of direction `dir` leaves as `other` reversed; the quoted packet travelled the other way, so it is
        // restored to `other` itself.
        ref readonly CtTuple4 other = ref dir == CtDirection.Original ? ref e.Reply : ref e.Original;

        Span<byte> inner = icmp.Slice(L4.IcmpHeaderLength);
        int innerIhl = (inner[0] & 0x0F) * 4;
        uint innerDiff = Checksum.Diff32(ctx.InnerSrcIp, other.SrcIp) + Checksum.Diff32(ctx.InnerDstIp, other.DstIp);
        BinaryPrimitives.WriteUInt32BigEndian(inner.Slice(Ipv4Header.SrcOffset), other.SrcIp);
        BinaryPrimitives.WriteUInt32BigEndian(inner.Slice(Ipv4Header.DstOffset), other.DstIp);
        ushort innerIpCheck = BinaryPrimitives.ReadUInt16BigEndian(inner.Slice(Ipv4Header.ChecksumOffset));
        BinaryPrimitives.WriteUInt16BigEndian(inner.Slice(Ipv4Header.ChecksumOffset), Checksum.Apply(innerIpCheck, innerDiff));
        Span<byte> innerL4 = inner.Slice(innerIhl);
        uint l4Diff = innerDiff + Checksum.Diff16(ctx.InnerSrcPort, other.SrcPort) + Checksum.Diff16(ctx.InnerDstPort, other.DstPort);
        L4.WriteU16(innerL4, L4.SrcPortOffset, other.SrcPort);
        L4.WriteU16(innerL4, L4.DstPortOffset, other.DstPort);
        int csumOffset = L4.ChecksumOffset(ctx.InnerProto);
        if (ctx.InnerProto == IpProto.Sctp)
        {
            // No pseudo-header, and no incremental update: nf_nat_sctp recomputes the CRC32c over what the quote holds
            // when the whole common header is in it (sctp_manip_pkt), and leaves it otherwise.
            if (innerL4.Length >= Sctp.CommonHeaderLength) Crc32c.WriteSctp(innerL4);
        }
        else if (innerL4.Length >= csumOffset + 2) // the quote may stop before the TCP checksum (RFC 792 asks for 8 bytes)
        {
            ushort c = L4.ReadU16(innerL4, csumOffset);
            L4.WriteU16(innerL4, csumOffset, ctx.InnerProto == IpProto.Udp ? Checksum.ApplyUdp(c, l4Diff) : Checksum.Apply(c, l4Diff));
        }

        // Outer header: ICMP has no ports, so only the addresses of a `dir` packet, then TTL - 1.
        uint newSrc = other.DstIp, newDst = other.SrcIp;
        ForwardStage.IpHeader(ctx.Frame.Slice(ctx.L3Offset), ctx.SrcIp, newSrc, ctx.DstIp, newDst);

        if (ctx.IsFirstFragment)
        {
            // RFC 1624 over the bytes this fragment holds: the checksum field is part of both sums, so add the
            // difference of the sums with it excluded (the field itself is unchanged so far).
            ushort c = L4.ReadU16(icmp, L4.IcmpChecksumOffset);
            uint after = Checksum.Sum(icmp);
            L4.WriteU16(icmp, L4.IcmpChecksumOffset, Checksum.Apply(c, (uint)(ushort)~Checksum.Fold(before) + Checksum.Fold(after)));
            frags.Remember(FragmentStage.KeyOf(ref ctx), idx, e.FlowId, dir, ctx.NowNs);
        }
        else
        {
            L4.WriteU16(icmp, L4.IcmpChecksumOffset, 0);
            L4.WriteU16(icmp, L4.IcmpChecksumOffset, Checksum.Compute(icmp));
        }
        ctx.ArrivedSrcIp = ctx.SrcIp;
        ctx.ArrivedDstIp = ctx.DstIp;
        ctx.SrcIp = newSrc;
        ctx.DstIp = newDst;
        return Decided<TSink>(ref ctx, Verdict.Forward, maps, w);
    }

    /// <summary>
    /// An ICMP error whose outer destination is not the quoted datagram's source: INVALID, never translated. Forwarded
    /// (to a pod, another node, anything not this node) it meets kube-proxy's KUBE-FORWARD rule
    /// <c>-m conntrack --ctstate INVALID -j DROP</c> (pkg/proxy/iptables/proxier.go; nftables mode's forward chain
    /// drops invalid the same way). To one of the node's own addresses it takes the INPUT path, where that rule is not:
    /// it reaches the node's stack untranslated (icmp_unreach finds no socket of its own for the quoted tuple), a pass.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    static Verdict OuterDaddrMismatch<TSink>(ref PacketContext ctx, int idx, CtDirection dir, MapSet maps, WorkerState w) where TSink : struct, IStageSink
    {
        if (TSink.Enabled) (ctx.CtIndex, ctx.Direction) = (idx, dir); // the record names the connection quoted
        NodeInfo node = maps.Node;
        bool local = node.IsNodeAddress(ctx.DstIp) || (node.PodCidr is { } pod && pod.At(1) == ctx.DstIp);
        Verdict v = local ? Verdict.Pass : ctx.Drop(DropReason.CtInvalid);
        if (TSink.Enabled && local) ctx.CtIndex = -1; // passed untranslated: not a packet of the connection
        return Decided<TSink>(ref ctx, v, maps, w, StageRule.IcmpOuterDaddrMismatch);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    static Verdict Decided<TSink>(ref PacketContext ctx, Verdict v, MapSet maps, WorkerState w, StageRule rule = StageRule.None) where TSink : struct, IStageSink =>
        StageLog.Decided<TSink>(ref ctx, PipelineStage.IcmpError, v, maps, w, rule);
}
