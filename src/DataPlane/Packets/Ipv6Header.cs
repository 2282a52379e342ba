using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace DataPlane.Packets;

/// <summary>
/// A view of the fixed IPv6 header (RFC 8200 §3) at the start of <see cref="Bytes"/>. Callers check the length first
/// (<see cref="Length"/>). Unlike IPv4 it has no checksum and no length of its own: extension headers follow in a chain
/// (<see cref="Ipv6Extensions"/>), and <see cref="PayloadLength"/> counts everything after these 40 bytes.
/// </summary>
public readonly ref struct Ipv6Header
{
    /// <summary>The fixed header is always 40 bytes (RFC 8200 §3).</summary>
    public const int Length = 40;
    /// <summary>Version (4 bits), Traffic Class (8), Flow Label (20), as one big-endian word.</summary>
    public const int VersionClassFlowOffset = 0;
    public const int PayloadLengthOffset = 4;
    public const int NextHeaderOffset = 6;
    public const int HopLimitOffset = 7;
    public const int SrcOffset = 8;
    public const int DstOffset = 24;

    public const uint FlowLabelMask = 0x000F_FFFF;

    public readonly Span<byte> Bytes;

    public Ipv6Header(Span<byte> bytes) => Bytes = bytes;

    public int Version => Bytes[0] >> 4;

    uint VersionClassFlow => BinaryPrimitives.ReadUInt32BigEndian(Bytes);

    /// <summary>Traffic Class: DSCP (6 bits) and ECN (2 bits), IPv4's TOS byte (RFC 8200 §7, RFC 2474, RFC 3168).</summary>
    public byte TrafficClass => (byte)(VersionClassFlow >> 20);

    /// <summary>Flow Label (RFC 6437): 20 bits, 0 when the source sets none.</summary>
    public uint FlowLabel => VersionClassFlow & FlowLabelMask;

    /// <summary>Bytes after the fixed header, extension headers included (RFC 8200 §3). 0 only with a jumbo payload (RFC 2675).</summary>
    public ushort PayloadLength
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(Bytes.Slice(PayloadLengthOffset));
        set => BinaryPrimitives.WriteUInt16BigEndian(Bytes.Slice(PayloadLengthOffset), value);
    }

    /// <summary>The type of the header after this one: an extension header or the upper-layer protocol.</summary>
    public byte NextHeader => Bytes[NextHeaderOffset];

    /// <summary>IPv4's TTL: decremented by one per forwarding hop (RFC 8200 §3).</summary>
    public byte HopLimit
    {
        get => Bytes[HopLimitOffset];
        set => Bytes[HopLimitOffset] = value;
    }

    public Ip6 Src
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Ip6.Read(Bytes.Slice(SrcOffset));
        set => value.Write(Bytes.Slice(SrcOffset));
    }

    public Ip6 Dst
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Ip6.Read(Bytes.Slice(DstOffset));
        set => value.Write(Bytes.Slice(DstOffset));
    }
}
