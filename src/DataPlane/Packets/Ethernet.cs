using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace DataPlane.Packets;

/// <summary>Ethernet II framing, with IEEE 802.1Q / 802.1ad tags.</summary>
public static class Ethernet
{
    public const int HeaderLength = 14;
    public const int VlanTagLength = 4;
    public const int DstMacOffset = 0;
    public const int SrcMacOffset = 6;
    public const int EtherTypeOffset = 12;

    public const ushort EtherTypeIPv4 = 0x0800;
    public const ushort EtherTypeArp = 0x0806;
    public const ushort EtherTypeVlan = 0x8100;
    /// <summary>IEEE 802.1ad service tag (QinQ outer tag).</summary>
    public const ushort EtherTypeQinQ = 0x88A8;
    /// <summary>Tags the parser looks through: the kernel's VLAN_MAX_DEPTH (include/linux/if_vlan.h).</summary>
    public const int MaxVlanDepth = 8;
    public const ushort EtherTypeIPv6 = 0x86DD;

    public static ushort EtherType(ReadOnlySpan<byte> frame, int offset = EtherTypeOffset) =>
        BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(offset, 2));

    /// <summary>Swap source and destination MAC, for a reply generated in place of the sender's next hop.</summary>
    /// <summary>
    /// Where the network header starts, looking through 802.1Q tags and 802.1ad (QinQ) service tags as the kernel's
    /// __vlan_get_protocol does (include/linux/if_vlan.h, up to <see cref="MaxVlanDepth"/>); <paramref name="etherType"/>
    /// is the inner type. -1 when the frame ends inside the Ethernet header or a tag. The one reader of this header:
    /// the parse stage, flow steering and prefetch all use it, so they agree on every frame.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int L3Offset(ReadOnlySpan<byte> frame, out ushort etherType)
    {
        etherType = 0;
        if ((uint)frame.Length < HeaderLength) return -1;
        int l3 = HeaderLength;
        etherType = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(EtherTypeOffset));
        for (int depth = 0; (etherType == EtherTypeVlan || etherType == EtherTypeQinQ) && depth < MaxVlanDepth; depth++)
        {
            if ((uint)frame.Length < (uint)(l3 + VlanTagLength)) return -1;
            etherType = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(l3 + 2));
            l3 += VlanTagLength;
        }
        return l3;
    }

    public static void SwapMacs(Span<byte> frame)
    {
        Span<byte> tmp = stackalloc byte[6];
        frame.Slice(DstMacOffset, 6).CopyTo(tmp);
        frame.Slice(SrcMacOffset, 6).CopyTo(frame.Slice(DstMacOffset, 6));
        tmp.CopyTo(frame.Slice(SrcMacOffset, 6));
    }
}
