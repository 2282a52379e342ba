using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// Ethernet (+ 802.1Q/802.1ad tags) → IPv4 → TCP/UDP/ICMP. One length check per header, then fixed-offset reads; every
/// malformed frame gets a named reason and nothing throws. What is not IPv4 is <see cref="Verdict.Pass"/>, untouched,
/// as katran and cilium pass what they do not handle.
/// </summary>
public static class ParseStage
{
    public static Verdict Run(ref PacketContext ctx, MapSet maps, WorkerState w) =>
        ctx.CapturedEnd == 0 ? Whole(ref ctx, maps) : Cut(ref ctx, maps);

    /// <summary>
    /// A record the capture cut short (snap length), padded with zeros to its wire length by the replay: its verdict
    /// is decided from its headers when they were all captured and the verdict reads no payload (a translated
    /// TCP/UDP segment, an echo, a later fragment: NAT updates checksums incrementally, so the cut payload is never
    /// needed). Otherwise — a header cut, or a DNS query, an SCTP CRC32c, an ICMP error's checksum and quote to read —
    /// it is <see cref="DropReason.CaptureTruncated"/> rather than a drop the node never made (a zero-padded header
    /// would read as a malformed one).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static Verdict Cut(ref PacketContext ctx, MapSet maps)
    {
        int end = ctx.CapturedEnd;
        if (end < Ethernet.HeaderLength) return ctx.Drop(DropReason.CaptureTruncated);
        Verdict v = Whole(ref ctx, maps);
        if (v == Verdict.Pass && !ctx.L4Parsed && ctx.L3Offset == 0) return v; // not IPv4: passed whole, as any
        int l3 = ctx.L3Offset;
        if (l3 == 0 || end < l3 + Ipv4Header.MinLength) return ctx.Drop(DropReason.CaptureTruncated);
        int ihl = (ctx.Frame[l3] & 0x0F) * 4;
        if (end < l3 + ihl) return ctx.Drop(DropReason.CaptureTruncated);
        if (v != Verdict.Continue)
            // Dropped by a check on what was captured whole (IP checksum, version, options) stands; one that read
            // the zero padding (an L4 header, an ICMP quote) is the capture's doing.
            return v == Verdict.Drop && ctx.Reason is DropReason.TruncatedL4 or DropReason.InvalidL4Header or DropReason.TruncatedIcmpError
                ? ctx.Drop(DropReason.CaptureTruncated) : v;
        if (ctx.IsLaterFragment) return v; // IP header only: translated through the fragment map
        int l4 = ctx.L4Offset;
        int need = ctx.Proto switch
        {
            IpProto.Tcp => (ctx.Frame[l4 + L4.TcpDataOffsetOffset] >> 4) * 4,
            IpProto.Udp => Answered(ref ctx, maps) ? int.MaxValue : L4.UdpLength,
            IpProto.Icmp => ctx.IcmpType is L4.IcmpEchoRequest or L4.IcmpEchoReply ? L4.IcmpHeaderLength : int.MaxValue,
            _ => int.MaxValue, // SCTP: the CRC32c covers the whole packet
        };
        if (ctx.Proto == IpProto.Tcp && Answered(ref ctx, maps)) need = int.MaxValue;
        return need == int.MaxValue || end < l4 + need ? ctx.Drop(DropReason.CaptureTruncated) : v;
    }

    /// <summary>A query the DNS stage answers (it reads the whole message); one DNAT-ed to CoreDNS is translated like any.</summary>
    static bool Answered(ref PacketContext ctx, MapSet maps) => maps.Dns is { } zone && DnsStage.Matches(ref ctx, zone, maps);

    static Verdict Whole(ref PacketContext ctx, MapSet maps)
    {
        Span<byte> f = ctx.Frame.Slice(0, ctx.Length);
        // VLAN tags are looked through and stay in the frame, like the MACs.
        int l3 = Ethernet.L3Offset(f, out ushort etherType);
        if (l3 < 0) return ctx.Drop(DropReason.TruncatedEthernet);
        if (etherType != Ethernet.EtherTypeIPv4) return Verdict.Pass;
        ctx.L3Offset = l3;

        Span<byte> ip = f.Slice(l3);
        if ((uint)ip.Length < Ipv4Header.MinLength) return ctx.Drop(DropReason.TruncatedIpv4);
        var h = new Ipv4Header(ip);
        int ihl = h.HeaderLength;
        if (h.Version != 4 || ihl < Ipv4Header.MinLength) return ctx.Drop(DropReason.InvalidIpv4Header);
        if ((uint)ip.Length < (uint)ihl) return ctx.Drop(DropReason.TruncatedIpv4);
        int total = h.TotalLength;
        // Total length below the header, or beyond the captured bytes (a truncated datagram): the kernel's
        // ip_rcv_core drops both (IPSTATS_MIB_INHDRERRORS / INTRUNCATEDPKTS).
        if (total < ihl || total > ip.Length) return ctx.Drop(DropReason.InvalidIpv4Length);
        if (!Checksum.Ipv4HeaderValid(ip.Slice(0, ihl))) return ctx.Drop(DropReason.BadIpChecksum);

        ctx.Proto = h.Protocol;
        ctx.SrcIp = h.Src;
        ctx.DstIp = h.Dst;
        ctx.L4Offset = l3 + ihl;
        ctx.L4Length = total - ihl;
        // Ethernet padding (and any trailer) after the datagram is not part of it: the kernel trims it
        // (pskb_trim_rcsum in ip_rcv_core) and does not pad on output, so forwarded frames end at the datagram.
        ctx.Length = l3 + total;

        ushort frag = h.FlagsFragment;
        if ((frag & Ipv4Header.FragmentOffsetMask) != 0) return NonFirstFragment(ref ctx);
        ctx.IsFirstFragment = (frag & Ipv4Header.FlagMoreFragments) != 0;

        Span<byte> l4 = ip.Slice(ihl, ctx.L4Length);
        switch (ctx.Proto)
        {
            case IpProto.Tcp:
                if ((uint)l4.Length < L4.TcpMinLength) return ctx.Drop(DropReason.TruncatedL4);
                int dataOffset = (l4[L4.TcpDataOffsetOffset] >> 4) * 4;
                if (dataOffset < L4.TcpMinLength || (!ctx.IsFirstFragment && dataOffset > l4.Length))
                    return ctx.Drop(DropReason.InvalidL4Header);
                ctx.SrcPort = L4.ReadU16(l4, L4.SrcPortOffset);
                ctx.DstPort = L4.ReadU16(l4, L4.DstPortOffset);
                ctx.TcpFlags = l4[L4.TcpFlagsOffset];
                ctx.L4Parsed = true;
                return Verdict.Continue;
            case IpProto.Udp:
                if ((uint)l4.Length < L4.UdpLength) return ctx.Drop(DropReason.TruncatedL4);
                int udpLen = L4.ReadU16(l4, L4.UdpLengthOffset);
                // A first fragment carries only part of the datagram the UDP length describes.
                if (udpLen < L4.UdpLength || (!ctx.IsFirstFragment && udpLen > l4.Length))
                    return ctx.Drop(DropReason.InvalidL4Header);
                ctx.SrcPort = L4.ReadU16(l4, L4.SrcPortOffset);
                ctx.DstPort = L4.ReadU16(l4, L4.DstPortOffset);
                ctx.L4Parsed = true;
                return Verdict.Continue;
            case IpProto.Sctp:
                // Common header and first chunk header (RFC 9260 §3); chunks and CRC32c are checked on the SCTP path.
                if ((uint)l4.Length < Sctp.MinLength) return ctx.Drop(DropReason.TruncatedL4);
                ctx.SrcPort = L4.ReadU16(l4, Sctp.SrcPortOffset);
                ctx.DstPort = L4.ReadU16(l4, Sctp.DstPortOffset);
                ctx.L4Parsed = true;
                return Verdict.Continue;
            case IpProto.Icmp:
                if ((uint)l4.Length < L4.IcmpHeaderLength) return ctx.Drop(DropReason.TruncatedL4);
                ctx.IcmpType = l4[0];
                if (ctx.IcmpType is L4.IcmpEchoRequest or L4.IcmpEchoReply)
                    ctx.SrcPort = L4.ReadU16(l4, L4.IcmpEchoIdOffset); // the echo id plays the port's role in conntrack
                else if (ctx.IcmpType is L4.IcmpDestUnreachable or L4.IcmpTimeExceeded && !ParseIcmpError(ref ctx, l4))
                    return ctx.Drop(DropReason.TruncatedIcmpError);
                ctx.L4Parsed = true;
                return Verdict.Continue;
            default:
                return ctx.Drop(DropReason.UnsupportedL4);
        }
    }

    /// <summary>
    /// An ICMP error quotes the offending datagram's IPv4 header and at least its first 8 bytes (RFC 792), which hold
    /// the ports: enough for conntrack to find the connection it is about (Linux's icmp_error_message).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static bool ParseIcmpError(ref PacketContext ctx, Span<byte> icmp)
    {
        Span<byte> inner = icmp.Slice(L4.IcmpHeaderLength);
        if ((uint)inner.Length < Ipv4Header.MinLength) return false;
        var h = new Ipv4Header(inner);
        int ihl = h.HeaderLength;
        if (h.Version != 4 || ihl < Ipv4Header.MinLength || (uint)inner.Length < (uint)ihl + 8) return false;
        ctx.InnerProto = h.Protocol;
        ctx.InnerSrcIp = h.Src;
        ctx.InnerDstIp = h.Dst;
        if (h.Protocol is IpProto.Tcp or IpProto.Udp or IpProto.Sctp)
        {
            ctx.InnerSrcPort = L4.ReadU16(inner.Slice(ihl), L4.SrcPortOffset);
            ctx.InnerDstPort = L4.ReadU16(inner.Slice(ihl), L4.DstPortOffset);
        }
        return true;
    }

    /// <summary>Later fragments carry no ports: the pipeline matches them through the fragment map instead.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static Verdict NonFirstFragment(ref PacketContext ctx)
    {
        ctx.IsLaterFragment = true;
        return Verdict.Continue;
    }
}
