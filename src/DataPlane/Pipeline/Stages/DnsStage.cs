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
/// UDP: one datagram, one answer (checksums verified as the receiving stack would). TCP as RFC 7766 asks
/// (<see cref="Tcp"/>): a real handshake checked by SYN cookie, then a connection in the worker's
/// <see cref="DnsTcpTable"/>; every complete length-prefixed message of a segment answered in order, only the bytes
/// consumed acknowledged.
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
        maps.Dns is { } dns && Matches(ref ctx, dns, maps) ? Answer(ref ctx, dns, w) : Verdict.Continue;

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
    /// (<see cref="DeterministicRandom.ForPacket"/> under the worker's seed) and the query's id, as the default
    /// Corefile's <c>loadbalance</c> shuffles them per response (<see cref="DnsResponder"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Verdict Answer(ref PacketContext ctx, DnsZone zone, WorkerState w)
    {
        Span<byte> l4 = ctx.Frame.Slice(ctx.L4Offset, ctx.L4Length);
        uint pseudo = Checksum.PseudoHeaderSum(ctx.SrcIp, ctx.DstIp, ctx.Proto, ctx.L4Length);
        ulong seed = w.Options.Seed;
        ulong shuffle = DeterministicRandom.ForPacket(seed, DeterministicRandom.DnsShuffleDraw, ctx.SrcIp, ctx.SrcPort, ctx.DstIp, ctx.DstPort, ctx.Proto, ctx.NowNs).NextU64();
        return ctx.Proto == IpProto.Udp ? Udp(ref ctx, zone, l4, pseudo, shuffle) : Tcp(ref ctx, zone, l4, pseudo, shuffle, w.DnsTcp, seed);
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

    /// <summary>Our MSS (a 1500-byte MTU), sent in the SYN-ACK; a segment we send also stays within the client's.</summary>
    const int OurMss = TcpMss;

    /// <summary>
    /// How old an acknowledgement may be and still be taken as a reordered old one (tcp_ack: before snd_una by less
    /// than max_window, the largest window the peer advertised; a TCP window without scaling is at most 65 535).
    /// </summary>
    const uint MaxWindow = 65535;

    /// <summary>
    /// TCP, RFC 7766 §6.2.1.1 and §8, with the kernel's rules for a listener and its sockets:
    /// <list type="bullet">
    /// <item>SYN → SYN-ACK, no state kept: the ISN is a Linux SYN cookie (<see cref="DnsTcpCookie"/>), MSS 1460.</item>
    /// <item>A segment with ACK and no connection: the third ACK when its acknowledgement decodes as our cookie (the
    /// connection is made, and data it carries is read); otherwise a RST with seq = its ack, as a listener answers a
    /// bogus ACK (<see cref="DropReason.DnsTcpNoConnection"/>). Without ACK, SYN or RST: dropped.</item>
    /// <item>On a connection: an ACK of data never sent is dropped (tcp_ack, <see cref="DropReason.DnsTcpUnacceptable"/>),
    /// as is a segment starting past RCV.NXT (a gap: we keep no out-of-order queue); bytes already consumed are
    /// trimmed, a segment holding only those gets a duplicate ACK (tcp_data_queue's retransmit case).</item>
    /// <item>Data: every complete length-prefixed message (RFC 1035 §4.2.2) in order, each answered in one segment
    /// holding the length-prefixed responses back to back, bounded by the send MSS and the reply buffer. A message
    /// whose answer would only fit truncated because earlier answers took the room is left for the client's next
    /// segment; a trailing partial message is not consumed. The ACK covers exactly the messages read, never more.
    /// A segment of a partial message only is dropped (<see cref="DropReason.DnsTcpIncomplete"/>): no reassembly
    /// buffer, nothing acknowledged, so the client sends those bytes again.</item>
    /// <item>FIN after every byte was read: FIN-ACK (the server closes on EOF), the connection gone when our FIN is
    /// acknowledged. RST at exactly RCV.NXT closes it; elsewhere in the window, and a SYN on an open connection, get
    /// a challenge ACK (RFC 5961 §3.2, §4.2); a RST to the listener is consumed.</item>
    /// </list>
    /// </summary>
    static Verdict Tcp(ref PacketContext ctx, DnsZone zone, Span<byte> l4, uint pseudo, ulong shuffle, DnsTcpTable table, ulong key)
    {
        if (Checksum.Fold(Checksum.Sum(l4, pseudo)) != 0xFFFF) return ctx.Drop(DropReason.DnsBadChecksum);
        byte flags = ctx.TcpFlags;
        int dataOffset = (l4[L4.TcpDataOffsetOffset] >> 4) * 4;
        ReadOnlySpan<byte> data = l4[dataOffset..];
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(l4[L4.TcpSeqOffset..]);
        uint ack = BinaryPrimitives.ReadUInt32BigEndian(l4[L4.TcpAckOffset..]);
        int l3 = ctx.L3Offset, tcpAt = l3 + Ipv4Header.MinLength;
        Span<byte> r = ctx.ReplyBuffer;
        if (r.Length < tcpAt + 24 + 2 + DnsParser.HeaderLength) return ctx.Drop(DropReason.DnsIgnored);
        ref DnsTcpTable.Entry c = ref table.Find(ctx.SrcIp, ctx.SrcPort, ctx.DstIp, ctx.NowNs);
        bool open = !Unsafe.IsNullRef(ref c);

        if ((flags & L4.TcpRst) != 0)
        {
            if (!open) return Verdict.Local; // tcp_rcv_state_process, TCP_LISTEN: a RST is discarded
            if (seq == c.RcvNxt) { DnsTcpTable.Remove(ref c); return Verdict.Local; }
            return seq - c.RcvNxt < MaxWindow ? Segment(ref ctx, zone, c.SndNxt, c.RcvNxt, L4.TcpAck, 20, 0) : Verdict.Local;
        }
        if ((flags & L4.TcpSyn) != 0)
        {
            if (open) return Segment(ref ctx, zone, c.SndNxt, c.RcvNxt, L4.TcpAck, 20, 0);
            if ((flags & L4.TcpAck) != 0) return Reset(ref ctx, zone, ack);
            uint isn = DnsTcpCookie.Isn(ctx.SrcIp, ctx.DstIp, ctx.SrcPort, ctx.DstPort, seq, ClientMss(l4[..dataOffset]), ctx.NowNs, key, out _);
            Span<byte> opt = r.Slice(tcpAt + 20, 4);
            opt[0] = 2; opt[1] = 4; // MSS option (RFC 9293 §3.2)
            BinaryPrimitives.WriteUInt16BigEndian(opt[2..], OurMss);
            return Segment(ref ctx, zone, isn, seq + 1, L4.TcpSyn | L4.TcpAck, 24, 0);
        }
        if ((flags & L4.TcpAck) == 0)
            return ctx.Drop(open ? DropReason.DnsTcpUnacceptable : DropReason.DnsTcpNoConnection);
        if (!open)
        {
            ushort mss = DnsTcpCookie.Check(ctx.SrcIp, ctx.DstIp, ctx.SrcPort, ctx.DstPort, seq, ack, ctx.NowNs, key);
            if (mss == 0) return Reset(ref ctx, zone, ack);
            c = ref table.Insert(ctx.SrcIp, ctx.SrcPort, ctx.DstIp, ctx.NowNs);
            c.State = DnsTcpTable.Established;
            c.Mss = mss;
            c.SndUna = c.SndNxt = ack;
            c.RcvNxt = seq;
        }

        // tcp_ack: an acknowledgement of data we never sent is dropped, one older than a window too; an old one is
        // otherwise ignored.
        if ((int)(ack - c.SndNxt) > 0 || (int)(c.SndUna - ack) > (int)MaxWindow) return ctx.Drop(DropReason.DnsTcpUnacceptable);
        if ((int)(ack - c.SndUna) > 0) c.SndUna = ack;
        c.LastNs = ctx.NowNs;
        uint fin = (flags & L4.TcpFin) != 0 ? 1u : 0u;
        if (c.State == DnsTcpTable.LastAck)
        {
            if (c.SndUna == c.SndNxt) { DnsTcpTable.Remove(ref c); return Verdict.Local; } // our FIN acknowledged
            // The client's FIN again (our FIN-ACK was lost): the same FIN-ACK again.
            return fin != 0 ? Segment(ref ctx, zone, c.SndNxt - 1, c.RcvNxt, L4.TcpFin | L4.TcpAck, 20, 0) : Verdict.Local;
        }

        // Sequence: the segment must start at or before RCV.NXT; what came before is already consumed (trimmed).
        int behind = (int)(c.RcvNxt - seq);
        if (behind < 0) return ctx.Drop(DropReason.DnsTcpUnacceptable);
        if (behind > 0)
        {
            if (behind >= data.Length + (int)fin)
                // A retransmission of what we consumed, or a keepalive: a duplicate ACK; a stale bare ACK is consumed.
                return data.Length + fin > 0 || behind == 1 ? Segment(ref ctx, zone, c.SndNxt, c.RcvNxt, L4.TcpAck, 20, 0) : Verdict.Local;
            data = data[behind..];
        }

        int payloadAt = tcpAt + 20;
        int room = Math.Min(Math.Min((int)c.Mss, OurMss), r.Length - payloadAt);
        int consumed = 0, written = 0, answers = 0;
        while (data.Length - consumed >= 2)
        {
            int msgLen = BinaryPrimitives.ReadUInt16BigEndian(data[consumed..]);
            if (data.Length - consumed - 2 < msgLen) break; // partial: not consumed, not acknowledged
            int left = room - written - 2;
            if (left < DnsParser.HeaderLength) break;
            Span<byte> at = r[(payloadAt + written)..];
            int n = DnsResponder.Respond(zone, data.Slice(consumed + 2, msgLen), at[2..], left, tcp: true, shuffle + (ulong)answers);
            // Cut short only because earlier answers took the room: left for the client's next segment, where it
            // comes first and gets the whole segment.
            if (n > 0 && answers > 0 && (at[2 + 2] & 0x02) != 0) break;
            consumed += 2 + msgLen;
            if (n == 0) continue; // not a query (a response, shorter than a header): read and ignored, as over UDP
            BinaryPrimitives.WriteUInt16BigEndian(at, (ushort)n);
            written += 2 + n;
            answers++;
        }
        bool finAccepted = fin != 0 && consumed == data.Length;
        if (consumed == 0 && !finAccepted)
            return data.Length == 0 ? Verdict.Local : ctx.Drop(DropReason.DnsTcpIncomplete);
        c.RcvNxt += (uint)consumed + (finAccepted ? 1u : 0u);
        uint sendSeq = c.SndNxt;
        c.SndNxt += (uint)written + (finAccepted ? 1u : 0u);
        if (finAccepted) c.State = DnsTcpTable.LastAck;
        byte outFlags = (byte)(L4.TcpAck | (written > 0 ? L4.TcpPsh : 0) | (finAccepted ? L4.TcpFin : 0));
        return Segment(ref ctx, zone, sendSeq, c.RcvNxt, outFlags, 20, written);
    }

    /// <summary>The MSS option of a SYN's header; 536 without one (RFC 9293 §3.7.1).</summary>
    static ushort ClientMss(ReadOnlySpan<byte> header)
    {
        for (int i = L4.TcpMinLength; i < header.Length;)
        {
            byte kind = header[i];
            if (kind == 0) break;                       // end of options
            if (kind == 1) { i++; continue; }           // no-op
            if (i + 1 >= header.Length || header[i + 1] < 2) break;
            if (kind == 2 && header[i + 1] == 4 && i + 4 <= header.Length) return BinaryPrimitives.ReadUInt16BigEndian(header[(i + 2)..]);
            i += header[i + 1];
        }
        return 536;
    }

    /// <summary>
    /// tcp_v4_send_reset for a segment with ACK: RST with seq = its acknowledgement number, window 0
    /// (<see cref="DropReason.DnsTcpNoConnection"/>, verdict reject: the output is the RST).
    /// </summary>
    static Verdict Reset(ref PacketContext ctx, DnsZone zone, uint ack)
    {
        Segment(ref ctx, zone, ack, 0, L4.TcpRst, 20, 0, window: 0);
        ctx.Reason = DropReason.DnsTcpNoConnection;
        return Verdict.Reject;
    }

    /// <summary>Writes the TCP header (options and payload already in place) and the IPv4/Ethernet headers.</summary>
    static Verdict Segment(ref PacketContext ctx, DnsZone zone, uint seq, uint ack, byte flags, int headerLength, int payload, ushort window = 65535)
    {
        int tcpAt = ctx.L3Offset + Ipv4Header.MinLength;
        Span<byte> t = ctx.ReplyBuffer.Slice(tcpAt, headerLength + payload);
        L4.WriteU16(t, L4.SrcPortOffset, Port);
        L4.WriteU16(t, L4.DstPortOffset, ctx.SrcPort);
        BinaryPrimitives.WriteUInt32BigEndian(t[L4.TcpSeqOffset..], seq);
        BinaryPrimitives.WriteUInt32BigEndian(t[L4.TcpAckOffset..], ack);
        t[L4.TcpDataOffsetOffset] = (byte)(headerLength / 4 << 4);
        t[L4.TcpFlagsOffset] = flags;
        L4.WriteU16(t, 14, window);
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
