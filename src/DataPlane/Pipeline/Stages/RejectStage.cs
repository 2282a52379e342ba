using System.Buffers.Binary;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// kube-proxy's <c>-j REJECT</c> for a service without endpoints: ICMP destination unreachable, port unreachable
/// (type 3 code 3) for TCP and UDP alike (never a TCP RST), built the way Linux's icmp_send does (kernel-behaviour.md):
/// TOS = (original TOS &amp; 0x1e) | 0xc0, TTL 64, DF clear, the whole ICMP datagram at most 576 bytes, the quoted
/// datagram starting at the original IP header. The source is the original destination when that is a node address
/// (INPUT path: NodePort), otherwise the address of the interface towards the sender (FORWARD path): the pod gateway
/// for senders in this node's pod CIDR, else the node IP; on the FORWARD path the quoted header already has TTL - 1.
/// The IP id comes from a seeded per-pipeline counter where the kernel uses a random per-destination one.
/// </summary>
public static class RejectStage
{
    const int IcmpMaxDatagram = 576; // RFC 1812 §4.3.2.3: an ICMP error should not exceed 576 bytes

    public static Verdict Run(ref PacketContext ctx, MapSet maps, ref ushort ipId)
    {
        NodeInfo node = maps.Node;
        ReadOnlySpan<byte> orig = ctx.Frame.Slice(0, ctx.Length);
        int l3 = ctx.L3Offset;
        bool input = node.IsNodeAddress(ctx.DstIp);
        uint src = input ? ctx.DstIp
            : node.PodCidr is { } pod && pod.Contains(ctx.SrcIp) ? pod.At(1) : node.PrimaryAddress;

        int quoteLen = Math.Min(ctx.Length - l3, IcmpMaxDatagram - Ipv4Header.MinLength - L4.IcmpHeaderLength);
        int total = Ipv4Header.MinLength + L4.IcmpHeaderLength + quoteLen;
        Span<byte> r = ctx.ReplyBuffer;
        if (r.Length < l3 + total) { ctx.ReplyLength = 0; return Verdict.Reject; }

        // L2: back to the sender, on the same VLAN.
        orig.Slice(0, l3).CopyTo(r);
        Ethernet.SwapMacs(r);
        BinaryPrimitives.WriteUInt16BigEndian(r.Slice(l3 - 2), Ethernet.EtherTypeIPv4);

        Span<byte> ip = r.Slice(l3, total);
        ip.Clear();
        ip[0] = 0x45;
        ip[Ipv4Header.TosOffset] = (byte)((orig[l3 + Ipv4Header.TosOffset] & 0x1E) | 0xC0);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.TotalLengthOffset), (ushort)total);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.IdOffset), ipId++);
        ip[Ipv4Header.TtlOffset] = 64;
        ip[Ipv4Header.ProtocolOffset] = IpProto.Icmp;
        BinaryPrimitives.WriteUInt32BigEndian(ip.Slice(Ipv4Header.SrcOffset), src);
        BinaryPrimitives.WriteUInt32BigEndian(ip.Slice(Ipv4Header.DstOffset), ctx.SrcIp);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.ChecksumOffset), Checksum.Compute(ip.Slice(0, Ipv4Header.MinLength)));

        Span<byte> icmp = ip.Slice(Ipv4Header.MinLength);
        icmp[0] = L4.IcmpDestUnreachable;
        icmp[1] = L4.IcmpPortUnreachableCode;
        Span<byte> quote = icmp.Slice(L4.IcmpHeaderLength, quoteLen);
        orig.Slice(l3, quoteLen).CopyTo(quote);
        if (!input)
        {
            // The kernel's FORWARD path decremented the TTL (and fixed the header checksum) before the REJECT rule ran.
            ushort word = BinaryPrimitives.ReadUInt16BigEndian(quote.Slice(Ipv4Header.TtlOffset));
            ushort next = (ushort)(word - 0x100);
            quote[Ipv4Header.TtlOffset] = (byte)(next >> 8);
            ushort c = BinaryPrimitives.ReadUInt16BigEndian(quote.Slice(Ipv4Header.ChecksumOffset));
            BinaryPrimitives.WriteUInt16BigEndian(quote.Slice(Ipv4Header.ChecksumOffset), Checksum.Apply(c, Checksum.Diff16(word, next)));
        }
        // ICMPv4 has no pseudo-header: the checksum covers the ICMP message only.
        BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(L4.IcmpChecksumOffset), Checksum.Compute(icmp));
        ctx.ReplyLength = l3 + total;
        return Verdict.Reject;
    }
}
