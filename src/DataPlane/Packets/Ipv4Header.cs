using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace DataPlane.Packets;

/// <summary>A view of an IPv4 header (RFC 791) at the start of <see cref="Bytes"/>. Callers check the length first.</summary>
public readonly ref struct Ipv4Header
{
    public const int MinLength = 20;
    public const int TosOffset = 1;
    public const int TotalLengthOffset = 2;
    public const int IdOffset = 4;
    public const int FlagsFragmentOffset = 6;
    public const int TtlOffset = 8;
    public const int ProtocolOffset = 9;
    public const int ChecksumOffset = 10;
    public const int SrcOffset = 12;
    public const int DstOffset = 16;

    public const ushort FlagMoreFragments = 0x2000;
    public const ushort FlagDontFragment = 0x4000;
    public const ushort FragmentOffsetMask = 0x1FFF;

    public readonly Span<byte> Bytes;

    public Ipv4Header(Span<byte> bytes) => Bytes = bytes;

    public int Version => Bytes[0] >> 4;
    public int HeaderLength => (Bytes[0] & 0x0F) * 4;
    public byte Tos => Bytes[TosOffset];
    public ushort TotalLength => BinaryPrimitives.ReadUInt16BigEndian(Bytes.Slice(TotalLengthOffset));
    public ushort Id => BinaryPrimitives.ReadUInt16BigEndian(Bytes.Slice(IdOffset));
    public ushort FlagsFragment => BinaryPrimitives.ReadUInt16BigEndian(Bytes.Slice(FlagsFragmentOffset));
    public byte Ttl => Bytes[TtlOffset];
    public byte Protocol => Bytes[ProtocolOffset];
    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(Bytes.Slice(ChecksumOffset));
        set => BinaryPrimitives.WriteUInt16BigEndian(Bytes.Slice(ChecksumOffset), value);
    }

    public uint Src
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => BinaryPrimitives.ReadUInt32BigEndian(Bytes.Slice(SrcOffset));
        set => BinaryPrimitives.WriteUInt32BigEndian(Bytes.Slice(SrcOffset), value);
    }

    public uint Dst
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => BinaryPrimitives.ReadUInt32BigEndian(Bytes.Slice(DstOffset));
        set => BinaryPrimitives.WriteUInt32BigEndian(Bytes.Slice(DstOffset), value);
    }
}
