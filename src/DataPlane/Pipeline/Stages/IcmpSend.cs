using System.Buffers.Binary;
using DataPlane.Packets;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// An ICMP error about the packet in hand, built the way Linux's icmp_send builds one (net/ipv4/icmp.c, __icmp_send):
/// TOS = (original TOS &amp; 0x1e) | 0xc0, TTL 64, DF clear, the whole ICMP datagram at most 576 bytes (RFC 1812
/// §4.3.2.3), the quote starting at the original IP header, back to the sender's MAC on the same VLAN. Shared by
/// kube-proxy's REJECT (port unreachable) and the forwarding path's time exceeded, which differ only in type, code, source
/// and whether the quoted header already went through the FORWARD path's TTL decrement.
/// </summary>
static class IcmpSend
{
    const int IcmpMaxDatagram = 576; // RFC 1812 §4.3.2.3: an ICMP error should not exceed 576 bytes

    /// <summary>Writes the error into <see cref="PacketContext.ReplyBuffer"/>; <see cref="PacketContext.ReplyLength"/> is 0 when it does not fit.</summary>
    /// <param name="forwardedQuote">The quoted header shows TTL - 1 (the kernel's FORWARD path decremented it, and fixed its checksum, before the rule ran).</param>
    public static void Build(ref PacketContext ctx, uint src, byte type, byte code, bool forwardedQuote, ulong seed)
    {
        ReadOnlySpan<byte> orig = ctx.Frame.Slice(0, ctx.Length);
        int l3 = ctx.L3Offset;
        int quoteLen = Math.Min(ctx.Length - l3, IcmpMaxDatagram - Ipv4Header.MinLength - L4.IcmpHeaderLength);
        int total = Ipv4Header.MinLength + L4.IcmpHeaderLength + quoteLen;
        Span<byte> r = ctx.ReplyBuffer;
        if (r.Length < l3 + total) { ctx.ReplyLength = 0; return; }

        orig.Slice(0, l3).CopyTo(r); // back to the sender, on the same VLAN
        Ethernet.SwapMacs(r);
        BinaryPrimitives.WriteUInt16BigEndian(r.Slice(l3 - 2), Ethernet.EtherTypeIPv4);

        Span<byte> ip = r.Slice(l3, total);
        ip.Clear();
        ip[0] = 0x45;
        ip[Ipv4Header.TosOffset] = (byte)((orig[l3 + Ipv4Header.TosOffset] & 0x1E) | 0xC0);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.TotalLengthOffset), (ushort)total);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.IdOffset), IpId(ref ctx, seed));
        ip[Ipv4Header.TtlOffset] = 64;
        ip[Ipv4Header.ProtocolOffset] = IpProto.Icmp;
        BinaryPrimitives.WriteUInt32BigEndian(ip.Slice(Ipv4Header.SrcOffset), src);
        BinaryPrimitives.WriteUInt32BigEndian(ip.Slice(Ipv4Header.DstOffset), ctx.SrcIp);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.ChecksumOffset), Checksum.Compute(ip.Slice(0, Ipv4Header.MinLength)));

        Span<byte> icmp = ip.Slice(Ipv4Header.MinLength);
        icmp[0] = type;
        icmp[1] = code;
        Span<byte> quote = icmp.Slice(L4.IcmpHeaderLength, quoteLen);
        orig.Slice(l3, quoteLen).CopyTo(quote);
        if (forwardedQuote)
        {
            ushort word = BinaryPrimitives.ReadUInt16BigEndian(quote.Slice(Ipv4Header.TtlOffset));
            ushort next = (ushort)(word - 0x100);
            quote[Ipv4Header.TtlOffset] = (byte)(next >> 8);
            ushort c = BinaryPrimitives.ReadUInt16BigEndian(quote.Slice(Ipv4Header.ChecksumOffset));
            BinaryPrimitives.WriteUInt16BigEndian(quote.Slice(Ipv4Header.ChecksumOffset), Checksum.Apply(c, Checksum.Diff16(word, next)));
        }
        // ICMPv4 has no pseudo-header: the checksum covers the ICMP message only.
        BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(L4.IcmpChecksumOffset), Checksum.Compute(icmp));
        ctx.ReplyLength = l3 + total;
    }

    /// <summary>
    /// The error's IP id. The kernel takes it from a per-destination counter advanced by a random step
    /// (net/ipv4/route.c ip_idents_reserve): unpredictable by design. Here it is a draw keyed by the datagram answered
    /// (its tuple, IP id and time, <see cref="DeterministicRandom"/>), so it does not depend on what else the node answered.
    /// </summary>
    static ushort IpId(ref PacketContext ctx, ulong seed)
    {
        ushort answered = BinaryPrimitives.ReadUInt16BigEndian(ctx.Frame.Slice(ctx.L3Offset + Ipv4Header.IdOffset));
        return (ushort)DeterministicRandom.ForPacket(seed, DeterministicRandom.IcmpIdDraw | (ulong)answered << 16,
            ctx.SrcIp, ctx.SrcPort, ctx.DstIp, ctx.DstPort, ctx.Proto, ctx.NowNs).NextU64();
    }
}
