using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using DataPlane.Dns;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// The cluster DNS server on the packet path: a query to the DNS address on port 53 is answered from the generation's
/// compiled <see cref="DnsZone"/> and the response, sent from that address back to the client, is the output
/// (verdict <see cref="Verdict.Answer"/>). When we answer is <see cref="DnsZone.Mode"/>: always, never, or (auto) only
/// when the manifests give the DNS service's port no endpoint, so captures that hold CoreDNS's own answers keep
/// kube-proxy's DNAT.
/// <para>
/// UDP: one datagram, one answer (checksums verified as the receiving stack would). TCP (RFC 7766), statelessly, as
/// a SYN-cookie listener would: a SYN is answered SYN-ACK (ISN a hash of the connection and the client's ISN, MSS
/// 1460), a segment that carries a whole length-prefixed query is answered with one segment holding the
/// length-prefixed response (seq = the client's ACK, ACK = its data consumed), a FIN with FIN-ACK; bare ACKs and RSTs
/// are consumed (<see cref="Verdict.Local"/>); a segment holding part of a query is dropped
/// (<see cref="DropReason.DnsTcpIncomplete"/>: no reassembly), and only the first of pipelined queries is answered.
/// </para>
/// <para>
/// The response is written into the reply buffer (the query's frame span has the query's length and cannot grow),
/// Ethernet addresses swapped, IPv4 TTL 64, DF set and id 0 (an atomic datagram, RFC 6864), never larger than the
/// reply buffer: what does not fit is truncated with TC, as over UDP.
/// </para>
/// </summary>
public static class DnsStage
{
    public const ushort Port = 53;
    const int TcpMss = 1460;

    /// <summary>
    /// Answers the query when the zone's mode says this node does (before kube-proxy's DNAT would send it to CoreDNS);
    /// <see cref="Verdict.Continue"/> for every other packet.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Verdict Run(ref PacketContext ctx, MapSet maps, WorkerState w) =>
        maps.Dns is { } dns && Matches(ref ctx, dns, maps) ? Answer(ref ctx, dns, w.Options.Seed) : Verdict.Continue;

    /// <summary>Tracing only: a TCP/UDP packet to the DNS address's port 53, answered here or not (the record says which).</summary>
    public static bool Addressed(ref PacketContext ctx, MapSet maps) =>
        maps.Dns is { } dns && ctx.DstIp == dns.Address && ctx.DstPort == Port && ctx.Proto is IpProto.Udp or IpProto.Tcp;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Matches(ref PacketContext ctx, DnsZone zone, MapSet maps) =>
        ctx.DstIp == zone.Address && ctx.DstPort == Port && !ctx.IsFirstFragment && ctx.Proto is IpProto.Udp or IpProto.Tcp
        && zone.Mode != DnsMode.Proxy && (zone.Mode == DnsMode.Answer || NoEndpoints(ref ctx, maps));

    /// <summary>Auto mode: the DNS service's frontend for this protocol is missing or has no backend slot.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static bool NoEndpoints(ref PacketContext ctx, MapSet maps)
    {
        ref Lb4Service s = ref maps.Frontend(new Lb4Key(ctx.DstIp, Port, ctx.Proto));
        return Unsafe.IsNullRef(ref s) || s.Count == 0;
    }

    /// <summary>
    /// Answers the query in the packet. The order of the answer's address records is a draw keyed by the packet
    /// (<see cref="DeterministicRandom.ForPacket"/> under <paramref name="seed"/>) and the query's id, as the
    /// default Corefile's <c>loadbalance</c> shuffles them per response (<see cref="DnsResponder"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Verdict Answer(ref PacketContext ctx, DnsZone zone, ulong seed)
    {
        Span<byte> l4 = ctx.Frame.Slice(ctx.L4Offset, ctx.L4Length);
        uint pseudo = Checksum.PseudoHeaderSum(ctx.SrcIp, ctx.DstIp, ctx.Proto, ctx.L4Length);
        ulong shuffle = DeterministicRandom.ForPacket(seed, DeterministicRandom.DnsShuffleDraw, ctx.SrcIp, ctx.SrcPort, ctx.DstIp, ctx.DstPort, ctx.Proto, ctx.NowNs).NextU64();
        return ctx.Proto == IpProto.Udp ? Udp(ref ctx, zone, l4, pseudo, shuffle) : Tcp(ref ctx, zone, l4, pseudo, shuffle);
    }

    static Verdict Udp(ref PacketContext ctx, DnsZone zone, Span<byte> l4, uint pseudo, ulong shuffle)
    {
        int udpLen = L4.ReadU16(l4, L4.UdpLengthOffset);
        if (L4.ReadU16(l4, L4.UdpChecksumOffset) != 0 && Checksum.Fold(Checksum.Sum(l4[..udpLen], pseudo)) != 0xFFFF)
            return ctx.Drop(DropReason.DnsBadChecksum);
        int l3 = ctx.L3Offset;
        Span<byte> r = ctx.ReplyBuffer;
        // One Ethernet frame at most (1500-byte MTU): a larger EDNS0 answer is truncated with TC rather than fragmented.
        int room = Math.Min(r.Length, l3 + 1500) - l3 - Ipv4Header.MinLength - L4.UdpLength;
        if (room < DnsParser.HeaderLength) return ctx.Drop(DropReason.DnsIgnored);
        int n = DnsResponder.Respond(zone, l4[L4.UdpLength..udpLen], r[(l3 + Ipv4Header.MinLength + L4.UdpLength)..], room, tcp: false, shuffle);
        if (n == 0) return ctx.Drop(DropReason.DnsIgnored);
        Span<byte> udp = r.Slice(l3 + Ipv4Header.MinLength, L4.UdpLength + n);
        L4.WriteU16(udp, L4.SrcPortOffset, Port);
        L4.WriteU16(udp, L4.DstPortOffset, ctx.SrcPort);
        L4.WriteU16(udp, L4.UdpLengthOffset, (ushort)udp.Length);
        L4.WriteU16(udp, L4.UdpChecksumOffset, 0);
        ushort c = Checksum.Compute(udp, Checksum.PseudoHeaderSum(zone.Address, ctx.SrcIp, IpProto.Udp, udp.Length));
        L4.WriteU16(udp, L4.UdpChecksumOffset, c == 0 ? (ushort)0xFFFF : c); // RFC 768: a computed 0 is sent as all ones
        Ip(ref ctx, zone.Address, IpProto.Udp, udp.Length);
        return Verdict.Answer;
    }

    static Verdict Tcp(ref PacketContext ctx, DnsZone zone, Span<byte> l4, uint pseudo, ulong shuffle)
    {
        if (Checksum.Fold(Checksum.Sum(l4, pseudo)) != 0xFFFF) return ctx.Drop(DropReason.DnsBadChecksum);
        byte flags = ctx.TcpFlags;
        int dataOffset = (l4[L4.TcpDataOffsetOffset] >> 4) * 4;
        ReadOnlySpan<byte> data = l4[dataOffset..];
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(l4[L4.TcpSeqOffset..]);
        uint ack = BinaryPrimitives.ReadUInt32BigEndian(l4[L4.TcpAckOffset..]);
        if ((flags & L4.TcpRst) != 0) return Verdict.Local;
        int l3 = ctx.L3Offset, tcpAt = l3 + Ipv4Header.MinLength;
        Span<byte> r = ctx.ReplyBuffer;
        if (r.Length < tcpAt + 24 + 2 + DnsParser.HeaderLength) return ctx.Drop(DropReason.DnsIgnored);
        if ((flags & (L4.TcpSyn | L4.TcpAck)) == L4.TcpSyn)
        {
            // SYN-ACK with an MSS option, the ISN a keyed hash of the connection (a SYN cookie's role: no state kept).
            uint isn = HashMix.Mix(((ulong)ctx.SrcIp << 32) | ctx.DstIp, ((ulong)ctx.SrcPort << 48) | ((ulong)ctx.DstPort << 32) | seq, 0x646e73);
            Span<byte> opt = r.Slice(tcpAt + 20, 4);
            opt[0] = 2; opt[1] = 4;
            BinaryPrimitives.WriteUInt16BigEndian(opt[2..], TcpMss);
            return Segment(ref ctx, zone, isn, seq + 1, L4.TcpSyn | L4.TcpAck, 24, 0);
        }
        if ((flags & L4.TcpAck) == 0 || (flags & L4.TcpSyn) != 0) return Verdict.Local;
        uint fin = (flags & L4.TcpFin) != 0 ? 1u : 0u;
        if (data.Length == 0)
            return fin == 0 ? Verdict.Local : Segment(ref ctx, zone, ack, seq + 1, L4.TcpFin | L4.TcpAck, 20, 0);
        // RFC 1035 §4.2.2: each message is preceded by its two-byte length.
        if (data.Length < 2 || data.Length < 2 + BinaryPrimitives.ReadUInt16BigEndian(data))
            return ctx.Drop(DropReason.DnsTcpIncomplete);
        int msgLen = BinaryPrimitives.ReadUInt16BigEndian(data);
        int room = Math.Min(TcpMss, r.Length - tcpAt - 20) - 2;
        int n = DnsResponder.Respond(zone, data.Slice(2, msgLen), r[(tcpAt + 22)..], room, tcp: true, shuffle);
        if (n == 0) return ctx.Drop(DropReason.DnsIgnored);
        BinaryPrimitives.WriteUInt16BigEndian(r[(tcpAt + 20)..], (ushort)n);
        return Segment(ref ctx, zone, ack, seq + (uint)data.Length + fin, (byte)(L4.TcpAck | L4.TcpPsh | (fin != 0 ? L4.TcpFin : 0)), 20, 2 + n);
    }

    /// <summary>Writes the TCP header (options and payload already in place) and the IPv4/Ethernet headers.</summary>
    static Verdict Segment(ref PacketContext ctx, DnsZone zone, uint seq, uint ack, byte flags, int headerLength, int payload)
    {
        int tcpAt = ctx.L3Offset + Ipv4Header.MinLength;
        Span<byte> t = ctx.ReplyBuffer.Slice(tcpAt, headerLength + payload);
        L4.WriteU16(t, L4.SrcPortOffset, Port);
        L4.WriteU16(t, L4.DstPortOffset, ctx.SrcPort);
        BinaryPrimitives.WriteUInt32BigEndian(t[L4.TcpSeqOffset..], seq);
        BinaryPrimitives.WriteUInt32BigEndian(t[L4.TcpAckOffset..], ack);
        t[L4.TcpDataOffsetOffset] = (byte)(headerLength / 4 << 4);
        t[L4.TcpFlagsOffset] = flags;
        L4.WriteU16(t, 14, 65535);                   // window
        L4.WriteU16(t, L4.TcpChecksumOffset, 0);
        L4.WriteU16(t, 18, 0);                       // urgent pointer
        L4.WriteU16(t, L4.TcpChecksumOffset, Checksum.Compute(t, Checksum.PseudoHeaderSum(zone.Address, ctx.SrcIp, IpProto.Tcp, t.Length)));
        Ip(ref ctx, zone.Address, IpProto.Tcp, t.Length);
        return Verdict.Answer;
    }

    /// <summary>Ethernet back to the sender (same VLAN) and a fresh IPv4 header from the DNS address.</summary>
    static void Ip(ref PacketContext ctx, uint src, byte proto, int l4Length)
    {
        int l3 = ctx.L3Offset;
        Span<byte> r = ctx.ReplyBuffer;
        ctx.Frame[..l3].CopyTo(r);
        Ethernet.SwapMacs(r);
        Span<byte> ip = r.Slice(l3, Ipv4Header.MinLength);
        ip.Clear();
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[Ipv4Header.TotalLengthOffset..], (ushort)(Ipv4Header.MinLength + l4Length));
        BinaryPrimitives.WriteUInt16BigEndian(ip[Ipv4Header.FlagsFragmentOffset..], 0x4000); // DF
        ip[Ipv4Header.TtlOffset] = 64;
        ip[Ipv4Header.ProtocolOffset] = proto;
        BinaryPrimitives.WriteUInt32BigEndian(ip[Ipv4Header.SrcOffset..], src);
        BinaryPrimitives.WriteUInt32BigEndian(ip[Ipv4Header.DstOffset..], ctx.SrcIp);
        BinaryPrimitives.WriteUInt16BigEndian(ip[Ipv4Header.ChecksumOffset..], Checksum.Compute(ip));
        ctx.ReplyLength = l3 + Ipv4Header.MinLength + l4Length;
    }

}
