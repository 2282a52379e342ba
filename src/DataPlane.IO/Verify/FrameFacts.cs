using System.Buffers.Binary;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.IO.Verify;

/// <summary>What a frame of the node's capture is to <c>verify</c>.</summary>
public enum FrameRole : byte
{
    /// <summary>Not IPv4, or a link type we do not read: not compared.</summary>
    Other,
    /// <summary>The frame entered the node: it runs through the pipeline.</summary>
    Received,
    /// <summary>The node sent it: a translated copy, a generated reply, or the node's own traffic.</summary>
    Sent,
    /// <summary>The same packet seen again, unchanged (a bridge and its port, lo's two copies): compared once.</summary>
    Duplicate,
}

[Flags]
public enum FactFlags : byte
{
    None = 0,
    IpChecksumOk = 1,
    /// <summary>The L4 checksum could be checked (TCP, UDP with a checksum, ICMP; whole segment captured, not a fragment).</summary>
    L4ChecksumKnown = 2,
    L4ChecksumOk = 4,
    Fragment = 8,
    IcmpError = 16,
    /// <summary>The capture cut the frame short (snap length).</summary>
    Cut = 32,
}

/// <summary>
/// One IPv4 frame of a node's capture, reduced to what <c>verify</c> compares (an unmanaged value, one per frame).
/// <see cref="Signature"/> is what survives the node's handling of a packet unchanged — IP identification, lengths,
/// TCP sequence numbers and flags, the payload — and none of what the node may rewrite (addresses, ports, TTL,
/// checksums, an echo's identifier, which MASQUERADE may move): the same packet arriving and leaving has the same
/// signature. Linux keeps the IP ID of a forwarded packet (ip_forward does not touch it), and gives each packet it
/// sends a new one (ip_select_ident), so a retransmission is another signature.
/// <see cref="ReplyKey"/> ties a reply the node generated (an ICMP error, a reset, a DNS answer) to what it answers.
/// </summary>
public struct FrameFacts
{
    public long TimestampNs;
    public FrameRole Role;
    public FactFlags Flags;
    public byte Proto, Ttl, TcpFlags, IcmpType, IcmpCode;
    public uint Src, Dst;
    public ushort SrcPort, DstPort, IpId;
    public ushort L4Checksum;
    public ulong Signature;
    /// <summary>0 when the frame cannot be a generated reply.</summary>
    public ulong ReplyKey;

    public readonly bool HasPorts => Proto is IpProto.Tcp or IpProto.Udp or IpProto.Sctp && (Flags & FactFlags.Fragment) == 0;
    public readonly string SrcText => HasPorts ? Ip4.Format(Src, SrcPort) : Ip4.Format(Src);
    public readonly string DstText => HasPorts ? Ip4.Format(Dst, DstPort) : Ip4.Format(Dst);

    const ulong FnvOffset = 14695981039346656037, FnvPrime = 1099511628211;

    /// <summary>Reads an Ethernet frame; false when it is not IPv4 (or too short for its header).</summary>
    public static bool TryRead(ReadOnlySpan<byte> frame, long timestampNs, out FrameFacts f)
    {
        f = default;
        f.TimestampNs = timestampNs;
        FrameKey k = FrameKey.Read(frame);
        if (!k.IsIpv4) return false;
        ReadOnlySpan<byte> ip = frame[k.L3Offset..];
        int ihl = k.L4Offset - k.L3Offset;
        int total = BinaryPrimitives.ReadUInt16BigEndian(ip[Ipv4Header.TotalLengthOffset..]);
        if (total > ip.Length) f.Flags |= FactFlags.Cut;
        int end = Math.Min(total < ihl ? ip.Length : total, ip.Length);
        ReadOnlySpan<byte> l4 = ip[ihl..Math.Max(ihl, end)];
        f.Proto = k.Proto;
        f.Src = k.Src;
        f.Dst = k.Dst;
        f.IpId = k.Id;
        f.Ttl = ip[Ipv4Header.TtlOffset];
        if (Checksum.Ipv4HeaderValid(ip[..ihl])) f.Flags |= FactFlags.IpChecksumOk;
        bool fragment = k.IsLaterFragment || k.HasMoreFragments;
        if (fragment) f.Flags |= FactFlags.Fragment;
        if (k.HasPorts && !fragment) (f.SrcPort, f.DstPort) = (k.SrcPort, k.DstPort);

        ulong h = FnvOffset;
        h = Mix(h, k.Proto);
        h = Mix(h, k.Id);
        h = Mix(h, (uint)total);
        h = Mix(h, k.FragmentWord);
        if (k.IsLaterFragment) h = Bytes(h, l4);
        else
            switch (k.Proto)
            {
                case IpProto.Tcp when l4.Length >= L4.TcpMinLength:
                {
                    f.TcpFlags = l4[L4.TcpFlagsOffset];
                    int doff = Math.Clamp((l4[L4.TcpDataOffsetOffset] >> 4) * 4, L4.TcpMinLength, l4.Length);
                    h = Bytes(h, l4.Slice(L4.TcpSeqOffset, 12)); // seq, ack, data offset, flags, window
                    h = Bytes(h, l4[doff..]);
                    f.L4Checksum = L4.ReadU16(l4, L4.TcpChecksumOffset);
                    if (!fragment && (f.Flags & FactFlags.Cut) == 0) L4Check(ref f, ip, l4, k.Proto);
                    if ((f.TcpFlags & L4.TcpRst) != 0) f.ReplyKey = Key(2, f.Dst, f.DstPort, f.Src, f.SrcPort);
                    break;
                }
                case IpProto.Udp when l4.Length >= L4.UdpLength:
                    h = Bytes(h, l4.Slice(L4.UdpLengthOffset, 2));
                    h = Bytes(h, l4[L4.UdpLength..]);
                    f.L4Checksum = L4.ReadU16(l4, L4.UdpChecksumOffset);
                    // UDP checksum 0: the sender computed none (RFC 768), nothing to check.
                    if (!fragment && (f.Flags & FactFlags.Cut) == 0 && f.L4Checksum != 0) L4Check(ref f, ip, l4, k.Proto);
                    // A DNS answer is tied to its query by the client's address and port and the message ID.
                    if (l4.Length >= L4.UdpLength + 2)
                        f.ReplyKey = Key(3, f.Dst, f.DstPort, BinaryPrimitives.ReadUInt16BigEndian(l4[L4.UdpLength..]), 0);
                    break;
                case IpProto.Icmp when l4.Length >= L4.IcmpHeaderLength:
                {
                    f.IcmpType = l4[0];
                    f.IcmpCode = l4[1];
                    h = Mix(h, f.IcmpType);
                    h = Mix(h, f.IcmpCode);
                    f.L4Checksum = L4.ReadU16(l4, L4.IcmpChecksumOffset);
                    if (!fragment && (f.Flags & FactFlags.Cut) == 0)
                    {
                        f.Flags |= FactFlags.L4ChecksumKnown;
                        if (Checksum.Compute(l4) == 0) f.Flags |= FactFlags.L4ChecksumOk;
                    }
                    if (f.IcmpType is L4.IcmpEchoRequest or L4.IcmpEchoReply)
                    {
                        h = Bytes(h, l4.Slice(6, 2)); // the sequence number; the identifier is NAT's to move
                        h = Bytes(h, l4[L4.IcmpHeaderLength..]);
                    }
                    else if (Quoted(l4, out byte innerProto, out ushort innerId, out uint innerSrc, out ushort innerSrcPort))
                    {
                        // An error quotes the datagram it is about (RFC 792): its ID and protocol survive translation.
                        f.Flags |= FactFlags.IcmpError;
                        h = Mix(h, innerProto);
                        h = Mix(h, innerId);
                        f.ReplyKey = Key(1, f.Dst, innerSrcPort, innerId, innerProto);
                        _ = innerSrc;
                    }
                    else h = Bytes(h, l4[4..]);
                    break;
                }
                default:
                    h = Bytes(h, l4);
                    break;
            }
        f.Signature = h == 0 ? 1 : h;
        return true;
    }

    /// <summary>The quoted datagram of an ICMP error: its protocol, ID, source and source port (0 without ports).</summary>
    static bool Quoted(ReadOnlySpan<byte> icmp, out byte proto, out ushort id, out uint src, out ushort srcPort)
    {
        (proto, id, src, srcPort) = (0, 0, 0, 0);
        if (icmp.Length < L4.IcmpHeaderLength + Ipv4Header.MinLength) return false;
        ReadOnlySpan<byte> inner = icmp[L4.IcmpHeaderLength..];
        if (inner[0] >> 4 != 4) return false;
        int ihl = (inner[0] & 0x0F) * 4;
        proto = inner[Ipv4Header.ProtocolOffset];
        id = BinaryPrimitives.ReadUInt16BigEndian(inner[Ipv4Header.IdOffset..]);
        src = BinaryPrimitives.ReadUInt32BigEndian(inner[Ipv4Header.SrcOffset..]);
        if (proto is IpProto.Tcp or IpProto.Udp or IpProto.Sctp && inner.Length >= ihl + 2)
            srcPort = BinaryPrimitives.ReadUInt16BigEndian(inner[ihl..]);
        return true;
    }

    static void L4Check(ref FrameFacts f, ReadOnlySpan<byte> ip, ReadOnlySpan<byte> l4, byte proto)
    {
        f.Flags |= FactFlags.L4ChecksumKnown;
        uint pseudo = Checksum.PseudoHeaderSum(f.Src, f.Dst, proto, l4.Length);
        if (Checksum.Compute(l4, pseudo) == 0) f.Flags |= FactFlags.L4ChecksumOk;
        _ = ip;
    }

    /// <summary>A key for a generated reply: its kind (1 ICMP error, 2 TCP reset, 3 DNS answer), whom it goes to, and what it answers.</summary>
    public static ulong Key(byte kind, uint to, ushort toPort, uint a, uint b)
    {
        ulong h = Mix(FnvOffset, kind);
        h = Mix(h, to);
        h = Mix(h, toPort);
        h = Mix(h, a);
        h = Mix(h, b);
        return h == 0 ? 1 : h;
    }

    /// <summary>The same packet seen again unchanged: its signature with its addresses, ports and TTL.</summary>
    public readonly ulong Sighting()
    {
        ulong h = Mix(Signature, Src);
        h = Mix(h, Dst);
        h = Mix(h, ((uint)SrcPort << 16) | DstPort);
        return Mix(h, Ttl);
    }

    static ulong Mix(ulong h, uint v)
    {
        for (int i = 0; i < 4; i++, v >>= 8) h = (h ^ (v & 0xFF)) * FnvPrime;
        return h;
    }

    static ulong Bytes(ulong h, ReadOnlySpan<byte> b)
    {
        foreach (byte x in b) h = (h ^ x) * FnvPrime;
        return h;
    }
}
