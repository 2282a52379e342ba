using System.Buffers.Binary;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace DataPlane.IO.Pcap;

// pcapng, draft-ietf-opsawg-pcapng: section 3.1 (general block structure), 4.1 SHB, 4.2 IDB, 4.3 EPB, 4.4 SPB,
// Appendix (obsolete) Packet Block. Every other block type (NRB, ISB, DSB, custom, ...) is skipped unread, as
// section 3.1 tells readers to do with blocks they do not understand.
public sealed partial class CaptureReader
{
    /// <summary>Section Header Block type; a palindrome so it can be found before the byte order is known (4.1).</summary>
    internal const uint PcapNgSectionHeaderType = 0x0A0D0D0A;

    private const uint InterfaceDescriptionType = 0x00000001;
    private const uint ObsoletePacketType = 0x00000002;
    private const uint SimplePacketType = 0x00000003;
    private const uint EnhancedPacketType = 0x00000006;

    /// <summary>Byte-Order Magic (4.1) as read little-endian from a little-endian section.</summary>
    private const uint ByteOrderMagic = 0x1A2B3C4D;

    /// <summary>The same magic read little-endian from a big-endian section.</summary>
    private const uint ByteOrderMagicSwapped = 0x4D3C2B1A;

    // Block Type + Block Total Length before the body, Block Total Length again after it (3.1).
    private const int BlockHeaderLength = 8;
    private const int BlockOverhead = 12;

    // Fixed body sizes: SHB = BOM, major, minor, section length; IDB = LinkType, reserved, SnapLen;
    // EPB = interface, ts high, ts low, captured len, original len (OPB has the same size); SPB = original len.
    private const int SectionHeaderFixed = 16;
    private const int InterfaceDescriptionFixed = 8;
    private const int PacketBlockFixed = 20;
    private const int SimplePacketFixed = 4;

    // Option codes (3.5, 4.2).
    private const ushort OptEndOfOpt = 0;
    private const ushort OptIfTsresol = 9;
    private const ushort OptIfTsoffset = 14;

    // Default if_tsresol when the option is absent: 10^-6 (4.2).
    private const byte DefaultTsresol = 6;

    private PcapNgInterface[] _interfaces = new PcapNgInterface[4];   // IDBs of the current section, by Interface ID
    private int _interfaceCount;                                      // IDBs seen in the current section
    private bool _sawInterface;                                       // an IDB has been seen anywhere in the file

    private void OpenPcapNg()
    {
        // Consume the SHB and any IDBs/other blocks up to the first packet block, so that LinkType and SnapLength
        // describe the file before the first TryRead. The packet block itself is left for TryRead.
        while (PeekBlock(out uint type, out int length))
        {
            if (type is EnhancedPacketType or SimplePacketType or ObsoletePacketType)
            {
                break;
            }

            ProcessNonPacketBlock(type, _buffer.AsSpan(_start + BlockHeaderLength, length - BlockOverhead));
            _start += length;
            _recordNumber++;
        }
    }

    private bool TryReadPcapNgPacket(out CaptureFrame frame)
    {
        while (PeekBlock(out uint type, out int length))
        {
            ReadOnlySpan<byte> body = _buffer.AsSpan(_start + BlockHeaderLength, length - BlockOverhead);
            switch (type)
            {
                case EnhancedPacketType:
                    frame = ReadPacketBlock(body, obsolete: false);
                    break;
                case ObsoletePacketType:
                    frame = ReadPacketBlock(body, obsolete: true);
                    break;
                case SimplePacketType:
                    frame = ReadSimplePacketBlock(body);
                    break;
                default:
                    ProcessNonPacketBlock(type, body);
                    _start += length;
                    _recordNumber++;
                    continue;
            }

            // The frame's span stays valid: advancing _start does not move bytes; only the next Fill may.
            _start += length;
            _recordNumber++;
            return true;
        }

        frame = default;
        return false;
    }

    /// <summary>
    /// Validates the block at the read position (header, length rules of 3.1, trailer) and makes it contiguous in the
    /// buffer, without consuming it. Returns false at a clean end of file. A new SHB switches the byte order.
    /// </summary>
    private bool PeekBlock(out uint type, out int length)
    {
        long offset = Position;
        long number = _recordNumber + 1;
        if (!Fill(BlockHeaderLength))
        {
            if (Available == 0)
            {
                type = 0;
                length = 0;
                return false;
            }

            ThrowFormat(offset, number, $"truncated block header: file ends after {Available} of {BlockHeaderLength} bytes");
        }

        type = ReadUInt32(_buffer.AsSpan(_start));
        if (type == PcapNgSectionHeaderType)
        {
            // 4.1: each section has its own byte order, given by the Byte-Order Magic that follows the length.
            if (!Fill(BlockHeaderLength + 4))
            {
                ThrowFormat(offset, number, "truncated Section Header Block: file ends before the Byte-Order Magic");
            }

            uint bom = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_start + BlockHeaderLength));
            if (bom == ByteOrderMagic)
            {
                _bigEndian = false;
            }
            else if (bom == ByteOrderMagicSwapped)
            {
                _bigEndian = true;
            }
            else
            {
                ThrowFormat(offset, number, $"bad Byte-Order Magic 0x{bom:X8} in Section Header Block");
            }
        }

        uint total = ReadUInt32(_buffer.AsSpan(_start + 4));

        // 3.1: Block Total Length counts header and trailer and is a multiple of 4.
        if (total < BlockOverhead || (total & 3) != 0)
        {
            ThrowFormat(offset, number, $"invalid block total length {total} (block type 0x{type:X8}; must be >= 12 and a multiple of 4)");
        }

        if (total > MaxBlockLength)
        {
            ThrowFormat(offset, number, $"block total length {total} exceeds the maximum of {MaxBlockLength} (block type 0x{type:X8})");
        }

        length = (int)total;
        if (!Fill(length))
        {
            ThrowFormat(offset, number, $"truncated block: total length {total} but only {RemainingFrom(offset)} bytes remain in the file (block type 0x{type:X8})");
        }

        uint trailer = ReadUInt32(_buffer.AsSpan(_start + length - 4));
        if (trailer != total)
        {
            ThrowFormat(offset, number, $"block total length in header ({total}) and trailer ({trailer}) differ (block type 0x{type:X8})");
        }

        return true;
    }

    private void ProcessNonPacketBlock(uint type, ReadOnlySpan<byte> body)
    {
        if (type == PcapNgSectionHeaderType)
        {
            ProcessSectionHeader(body);
        }
        else if (type == InterfaceDescriptionType)
        {
            ProcessInterfaceDescription(body);
        }

        // Anything else (NRB 4, ISB 5, DSB 10, custom 0xBAD/0x40000BAD, ...) carries nothing a replay needs.
    }

    private void ProcessSectionHeader(ReadOnlySpan<byte> body)
    {
        if (body.Length < SectionHeaderFixed)
        {
            ThrowBlock($"Section Header Block body is {body.Length} bytes, shorter than the {SectionHeaderFixed} fixed bytes");
        }

        ushort major = ReadUInt16(body.Slice(4));
        ushort minor = ReadUInt16(body.Slice(6));

        // 4.1: version 1.0. libpcap also accepts 1.2 (written by some old tools, same layout) and refuses the rest;
        // a section with another major version cannot be parsed at all, so reading stops there (le_test901.pcapng).
        if (major != 1 || (minor != 0 && minor != 2))
        {
            ThrowBlock($"unsupported pcapng version {major}.{minor} (expected 1.0)");
        }

        WalkOptions(body.Slice(SectionHeaderFixed), isInterface: false, out _, out _);

        // 4.2: Interface IDs are per section; a new SHB forgets the previous section's interfaces.
        _interfaceCount = 0;
    }

    private void ProcessInterfaceDescription(ReadOnlySpan<byte> body)
    {
        if (body.Length < InterfaceDescriptionFixed)
        {
            ThrowBlock($"Interface Description Block body is {body.Length} bytes, shorter than the {InterfaceDescriptionFixed} fixed bytes");
        }

        var linkType = (LinkType)ReadUInt16(body);
        uint snapLength = ReadUInt32(body.Slice(4));
        WalkOptions(body.Slice(InterfaceDescriptionFixed), isInterface: true, out byte tsresol, out long tsoffset);
        if (!PcapNgInterface.TryCreate(linkType, snapLength, tsresol, tsoffset, out PcapNgInterface description))
        {
            ThrowBlock($"unsupported if_tsresol 0x{tsresol:X2}");
        }

        if (_interfaceCount == _interfaces.Length)
        {
            Array.Resize(ref _interfaces, _interfaces.Length * 2);   // once per several IDBs, never per packet
        }

        _interfaces[_interfaceCount++] = description;
        if (!_sawInterface)
        {
            _sawInterface = true;
            LinkType = linkType;
            SnapLength = snapLength;
        }
    }

    /// <summary>
    /// Checks that every option (3.5: code, length, value padded to 4) lies inside the block, and picks out
    /// if_tsresol and if_tsoffset for IDBs.
    /// </summary>
    private void WalkOptions(ReadOnlySpan<byte> options, bool isInterface, out byte tsresol, out long tsoffset)
    {
        tsresol = DefaultTsresol;
        tsoffset = 0;
        int position = 0;
        while (options.Length - position >= 4)
        {
            ushort code = ReadUInt16(options.Slice(position));
            ushort valueLength = ReadUInt16(options.Slice(position + 2));
            if (code == OptEndOfOpt)
            {
                break;
            }

            if (valueLength > options.Length - position - 4)
            {
                ThrowBlock($"option {code} at option offset {position} has length {valueLength}, which runs past the end of the block");
            }

            ReadOnlySpan<byte> value = options.Slice(position + 4, valueLength);
            if (isInterface)
            {
                if (code == OptIfTsresol && valueLength >= 1)
                {
                    tsresol = value[0];
                }
                else if (code == OptIfTsoffset && valueLength >= 8)
                {
                    tsoffset = _bigEndian ? BinaryPrimitives.ReadInt64BigEndian(value) : BinaryPrimitives.ReadInt64LittleEndian(value);
                }
            }

            // Value padded to a 32-bit boundary; the padding may be missing after the last option.
            position += 4 + ((valueLength + 3) & ~3);
        }
    }

    /// <summary>
    /// EPB (4.3) or obsolete Packet Block: the same 20 fixed bytes, except that the obsolete block has a 16-bit
    /// Interface ID followed by a 16-bit drops count where the EPB has a 32-bit Interface ID.
    /// </summary>
    private CaptureFrame ReadPacketBlock(ReadOnlySpan<byte> body, bool obsolete)
    {
        if (body.Length < PacketBlockFixed)
        {
            ThrowBlock($"packet block body is {body.Length} bytes, shorter than the {PacketBlockFixed} fixed bytes");
        }

        uint interfaceId = obsolete ? ReadUInt16(body) : ReadUInt32(body);
        if (interfaceId >= (uint)_interfaceCount)
        {
            ThrowBlock($"packet refers to interface {interfaceId} but the section has {_interfaceCount} Interface Description Block(s)");
        }

        ref readonly PcapNgInterface description = ref _interfaces[interfaceId];
        ulong units = ((ulong)ReadUInt32(body.Slice(4)) << 32) | ReadUInt32(body.Slice(8));
        uint capturedLength = ReadUInt32(body.Slice(12));
        uint originalLength = ReadUInt32(body.Slice(16));
        if (capturedLength > (uint)(body.Length - PacketBlockFixed))
        {
            ThrowBlock($"captured length {capturedLength} runs past the end of the block ({body.Length - PacketBlockFixed} bytes of packet data)");
        }

        return new CaptureFrame(
            body.Slice(PacketBlockFixed, (int)capturedLength),
            description.ToNanoseconds(units),
            originalLength > int.MaxValue ? int.MaxValue : (int)originalLength,
            description.LinkType,
            (int)interfaceId);
    }

    /// <summary>SPB (4.4): implicitly interface 0, no timestamp, captured length = min(original, SnapLen, room).</summary>
    private CaptureFrame ReadSimplePacketBlock(ReadOnlySpan<byte> body)
    {
        if (body.Length < SimplePacketFixed)
        {
            ThrowBlock($"Simple Packet Block body is {body.Length} bytes, shorter than the {SimplePacketFixed} fixed bytes");
        }

        if (_interfaceCount == 0)
        {
            ThrowBlock("Simple Packet Block before any Interface Description Block in its section");
        }

        ref readonly PcapNgInterface description = ref _interfaces[0];
        uint originalLength = ReadUInt32(body);
        uint capturedLength = Math.Min(originalLength, (uint)(body.Length - SimplePacketFixed));
        if (description.SnapLength != 0)
        {
            capturedLength = Math.Min(capturedLength, description.SnapLength);
        }

        return new CaptureFrame(
            body.Slice(SimplePacketFixed, (int)capturedLength),
            timestampNs: 0,
            originalLength > int.MaxValue ? int.MaxValue : (int)originalLength,
            description.LinkType,
            interfaceId: 0);
    }

    /// <summary>Reports a problem inside the block at the read position (PeekBlock has validated but not consumed it).</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowBlock(string problem) => ThrowFormat(Position, _recordNumber + 1, problem);
}
