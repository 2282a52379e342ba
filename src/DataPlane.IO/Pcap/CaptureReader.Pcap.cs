using System.Buffers.Binary;

namespace DataPlane.IO.Pcap;

// Classic pcap, draft-ietf-opsawg-pcap sections 4 (File Header) and 5 (Packet Record).
public sealed partial class CaptureReader
{
    /// <summary>Magic for microsecond timestamps, as written by the file's own byte order (section 4).</summary>
    internal const uint PcapMagicMicroseconds = 0xA1B2C3D4;

    /// <summary>Magic for nanosecond timestamps (section 4).</summary>
    internal const uint PcapMagicNanoseconds = 0xA1B23C4D;

    /// <summary>File header: magic, major, minor, reserved1 (thiszone), reserved2 (sigfigs), SnapLen, LinkType.</summary>
    internal const int PcapFileHeaderLength = 24;

    /// <summary>Record header: Timestamp (seconds), Timestamp (µs or ns), Captured Packet Length, Original Packet Length.</summary>
    internal const int PcapRecordHeaderLength = 16;

    // Section 4: the LinkType field packs the link type (low 16 bits), 10 reserved bits (Reserved3), the P bit and
    // the FCS length. Reserved3 "MUST be set to 0 by pcap writers" and a reader should treat anything else as an
    // error; libpcap's test file linktype-reserved-field-not-zero.pcap is exactly that case.
    private const uint PcapLinkTypeReservedMask = 0x03FF0000;

    private LinkType _pcapLinkType;   // link type of every record in this pcap file
    private uint _pcapFractionToNs;   // 1000 for the µs magic, 1 for the ns magic

    private void OpenPcap(uint magicLittleEndian)
    {
        switch (magicLittleEndian)
        {
            case PcapMagicMicroseconds: _bigEndian = false; _pcapFractionToNs = 1000; break;
            case PcapMagicNanoseconds: _bigEndian = false; _pcapFractionToNs = 1; break;
            case 0xD4C3B2A1: _bigEndian = true; _pcapFractionToNs = 1000; break;   // A1B2C3D4 written big-endian
            case 0x4D3CB2A1: _bigEndian = true; _pcapFractionToNs = 1; break;      // A1B23C4D written big-endian
            default:
                ThrowFormat(0, 0, $"not a pcap or pcapng file (magic 0x{BinaryPrimitives.ReverseEndianness(magicLittleEndian):X8} as stored)");
                break;
        }

        if (!Fill(PcapFileHeaderLength))
        {
            ThrowFormat(0, 0, $"truncated pcap file header: {Available} of {PcapFileHeaderLength} bytes");
        }

        ReadOnlySpan<byte> header = _buffer.AsSpan(_start, PcapFileHeaderLength);
        ushort major = ReadUInt16(header.Slice(4));
        ushort minor = ReadUInt16(header.Slice(6));

        // Section 4: the current (and only defined) version is 2.4. libpcap also refuses anything else
        // ("archaic pcap savefile format" for 1.x, "unsupported pcap savefile version 2.5").
        if (major != 2 || minor != 4)
        {
            ThrowFormat(0, 0, $"unsupported pcap version {major}.{minor} (expected 2.4)");
        }

        uint snapLength = ReadUInt32(header.Slice(16));
        uint linkField = ReadUInt32(header.Slice(20));
        if ((linkField & PcapLinkTypeReservedMask) != 0)
        {
            ThrowFormat(20, 0, $"link type field 0x{linkField:X8} has reserved bits set (draft-ietf-opsawg-pcap section 4 requires them to be 0)");
        }

        // SnapLen is reported but not enforced per record: real captures violate it (trunc-hdr.pcap has SnapLen 1
        // and an 8-byte record; libpcap and Wireshark both read it), so the hard bound is MaxRecordLength instead.
        SnapLength = snapLength;
        _pcapLinkType = (LinkType)(ushort)linkField;
        LinkType = _pcapLinkType;
        _start += PcapFileHeaderLength;
    }

    private bool TryReadPcapRecord(out CaptureFrame frame)
    {
        long recordOffset = Position;
        long recordNumber = _recordNumber + 1;
        if (!Fill(PcapRecordHeaderLength))
        {
            if (Available == 0)
            {
                frame = default;
                return false;
            }

            ThrowFormat(recordOffset, recordNumber, $"truncated record header: file ends after {Available} of {PcapRecordHeaderLength} bytes");
        }

        ReadOnlySpan<byte> header = _buffer.AsSpan(_start, PcapRecordHeaderLength);
        uint seconds = ReadUInt32(header);
        uint fraction = ReadUInt32(header.Slice(4));
        uint capturedLength = ReadUInt32(header.Slice(8));
        uint originalLength = ReadUInt32(header.Slice(12));

        if (capturedLength > MaxRecordLength)
        {
            ThrowFormat(recordOffset, recordNumber, $"captured length {capturedLength} exceeds the maximum of {MaxRecordLength} (corrupt record header)");
        }

        int total = PcapRecordHeaderLength + (int)capturedLength;
        if (!Fill(total))
        {
            ThrowFormat(recordOffset, recordNumber, $"truncated record: captured length {capturedLength} but only {RemainingFrom(recordOffset) - PcapRecordHeaderLength} bytes remain in the file");
        }

        // Section 5: seconds are unsigned since the epoch; the fraction is µs or ns by the magic. The fraction is not
        // range-checked (a µs value >= 1e6 just carries into the next second), as libpcap and Wireshark do.
        long timestampNs = (long)seconds * 1_000_000_000L + (long)fraction * _pcapFractionToNs;
        frame = new CaptureFrame(
            _buffer.AsSpan(_start + PcapRecordHeaderLength, (int)capturedLength),
            timestampNs,
            originalLength > int.MaxValue ? int.MaxValue : (int)originalLength,
            _pcapLinkType,
            interfaceId: 0);
        _start += total;
        _recordNumber = recordNumber;
        return true;
    }
}
