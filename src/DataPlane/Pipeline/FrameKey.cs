using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using DataPlane.Packets;

namespace DataPlane.Pipeline;

/// <summary>
/// What steering and prefetch need to know about a frame, read once: the IPv4 addresses, protocol, fragment word and
/// id, and the ports of TCP, UDP and SCTP (SCTP's sit where TCP's do) when the frame carries them. A replay reads it
/// when it steers the frame and keeps it for the prefetch hints of that frame (<see cref="FlowSteering"/>,
/// <see cref="FramePrefetch"/>). Nothing is validated here beyond what the reads need: the parse stage checks
/// lengths and checksums and gives malformed frames their drop reason; Ethernet and VLAN tags are read by the same
/// <see cref="Ethernet.L3Offset"/> as the parse stage, so the two never disagree on where a frame's IPv4 header is.
/// </summary>
public struct FrameKey
{
    /// <summary>Where the IPv4 header starts; -1 when the frame is not IPv4 or too short for a header.</summary>
    public int L3Offset;
    /// <summary>Where the IP payload starts (after the options).</summary>
    public int L4Offset;
    public byte Proto;
    public uint Src, Dst;
    public ushort Id, FragmentWord;
    /// <summary>The ports were read: TCP, UDP or SCTP, not a later fragment, and at least 4 payload bytes captured.</summary>
    public bool HasPorts;
    public ushort SrcPort, DstPort;

    public readonly bool IsIpv4 => L3Offset >= 0;
    public readonly bool IsLaterFragment => (FragmentWord & Ipv4Header.FragmentOffsetMask) != 0;
    public readonly bool HasMoreFragments => (FragmentWord & Ipv4Header.FlagMoreFragments) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static FrameKey Read(ReadOnlySpan<byte> frame)
    {
        FrameKey k = default;
        k.L3Offset = -1;
        int l3 = Ethernet.L3Offset(frame, out ushort etherType);
        if (l3 < 0 || etherType != Ethernet.EtherTypeIPv4 || frame.Length < l3 + Ipv4Header.MinLength) return k;
        ReadOnlySpan<byte> ip = frame[l3..];
        int ihl = (ip[0] & 0x0F) * 4;
        if (ihl < Ipv4Header.MinLength || ip.Length < ihl) return k;
        k.L3Offset = l3;
        k.L4Offset = l3 + ihl;
        k.Proto = ip[Ipv4Header.ProtocolOffset];
        k.Src = BinaryPrimitives.ReadUInt32BigEndian(ip[Ipv4Header.SrcOffset..]);
        k.Dst = BinaryPrimitives.ReadUInt32BigEndian(ip[Ipv4Header.DstOffset..]);
        k.Id = BinaryPrimitives.ReadUInt16BigEndian(ip[Ipv4Header.IdOffset..]);
        k.FragmentWord = BinaryPrimitives.ReadUInt16BigEndian(ip[Ipv4Header.FlagsFragmentOffset..]);
        if (k.Proto is IpProto.Tcp or IpProto.Udp or IpProto.Sctp && !k.IsLaterFragment && ip.Length >= ihl + 4)
        {
            k.HasPorts = true;
            k.SrcPort = BinaryPrimitives.ReadUInt16BigEndian(ip[(ihl + L4.SrcPortOffset)..]);
            k.DstPort = BinaryPrimitives.ReadUInt16BigEndian(ip[(ihl + L4.DstPortOffset)..]);
        }
        return k;
    }
}
