using System.Buffers.Binary;

namespace DataPlane.IO.Pcap;

/// <summary>
/// Writes a classic pcap file (draft-ietf-opsawg-pcap): little-endian, version 2.4, magic 0xA1B2C3D4 (µs, default) or
/// 0xA1B23C4D (ns), SnapLen 262144 unless told otherwise. Opens in tcpdump, tshark and Wireshark.
/// </summary>
/// <remarks>
/// Output is a pure function of the calls made: no clock, host name or library version goes into the file, so the
/// same frames and timestamps give byte-identical files (regression fixtures are compared byte for byte).
/// Writes go through a 64 KiB FileStream buffer; a frame costs two buffered writes and no allocation.
/// Not thread-safe.
/// </remarks>
public sealed class CaptureWriter : IDisposable
{
    /// <summary>Default and maximum SnapLen: 262144, libpcap's MAXIMUM_SNAPLEN and what tcpdump -s 0 writes.</summary>
    public const int DefaultSnapLength = 262144;

    // 64 KiB: a few dozen typical frames per write syscall; larger buffers measured no faster for small frames
    // (toolchain-notes section 2: 1,000,000 46-byte frames in well under a second, process start included).
    private const int FileBufferSize = 64 * 1024;

    private readonly Stream _stream;            // the FileStream (buffered) or a caller's stream
    private readonly bool _leaveOpen;           // true when the caller owns _stream
    private readonly uint _fractionDivisor;     // ns per unit of the record's fraction field: 1000 (µs) or 1 (ns)
    private readonly int _snapLength;           // frames longer than this are cut, keeping their original length
    private bool _disposed;

    /// <summary>Creates (or truncates) <paramref name="path"/> and writes the pcap file header.</summary>
    public CaptureWriter(
        string path,
        LinkType linkType = LinkType.Ethernet,
        CaptureTimestampResolution resolution = CaptureTimestampResolution.Microsecond,
        int snapLength = DefaultSnapLength)
        : this(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, FileBufferSize), leaveOpen: false, linkType, resolution, snapLength)
    {
    }

    /// <summary>
    /// Writes to <paramref name="stream"/> (for in-memory tests or pipes). The stream should be buffered; it is left
    /// open on dispose when <paramref name="leaveOpen"/> is true.
    /// </summary>
    public CaptureWriter(
        Stream stream,
        bool leaveOpen,
        LinkType linkType = LinkType.Ethernet,
        CaptureTimestampResolution resolution = CaptureTimestampResolution.Microsecond,
        int snapLength = DefaultSnapLength)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (snapLength <= 0 || snapLength > DefaultSnapLength)
        {
            if (!leaveOpen)
            {
                stream.Dispose();
            }

            throw new ArgumentOutOfRangeException(nameof(snapLength), snapLength, $"SnapLen must be 1..{DefaultSnapLength}.");
        }

        _stream = stream;
        _leaveOpen = leaveOpen;
        _snapLength = snapLength;
        _fractionDivisor = resolution == CaptureTimestampResolution.Nanosecond ? 1u : 1000u;
        LinkType = linkType;
        Resolution = resolution;

        // File header, section 4. Reserved1/Reserved2 (formerly thiszone/sigfigs) are 0 as the draft requires, and
        // the upper 16 bits of the LinkType field (FCS length, reserved bits) are 0: no FCS in our frames.
        Span<byte> header = stackalloc byte[CaptureReader.PcapFileHeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(header, resolution == CaptureTimestampResolution.Nanosecond ? CaptureReader.PcapMagicNanoseconds : CaptureReader.PcapMagicMicroseconds);
        BinaryPrimitives.WriteUInt16LittleEndian(header.Slice(4), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header.Slice(6), 4);
        BinaryPrimitives.WriteInt32LittleEndian(header.Slice(8), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header.Slice(12), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header.Slice(16), (uint)snapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header.Slice(20), (ushort)linkType);
        _stream.Write(header);
    }

    /// <summary>Link type written in the file header.</summary>
    public LinkType LinkType { get; }

    /// <summary>Timestamp unit of the records (chosen by the magic).</summary>
    public CaptureTimestampResolution Resolution { get; }

    /// <summary>Records written so far.</summary>
    public long FramesWritten { get; private set; }

    /// <summary>Appends one record whose original length is the frame's length.</summary>
    /// <param name="frame">The frame bytes; cut to the SnapLen if longer.</param>
    /// <param name="timestampNs">Nanoseconds since the Unix epoch, 0 .. 2^32 s - 1 ns (pcap seconds are a u32).</param>
    public void Write(ReadOnlySpan<byte> frame, long timestampNs) => Write(frame, timestampNs, frame.Length);

    /// <summary>Appends one record; <paramref name="originalLength"/> is the length on the wire (&gt;= the frame's length).</summary>
    public void Write(ReadOnlySpan<byte> frame, long timestampNs, int originalLength)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);

        // Section 5: Timestamp (Seconds) is an unsigned 32-bit count; refuse what cannot be represented rather than wrap.
        if ((ulong)timestampNs >= 4_294_967_296UL * 1_000_000_000UL)
        {
            throw new ArgumentOutOfRangeException(nameof(timestampNs), timestampNs, "pcap timestamps must be >= 0 and below 2^32 seconds.");
        }

        if (originalLength < frame.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(originalLength), originalLength, "Original length cannot be less than the frame length.");
        }

        ReadOnlySpan<byte> captured = frame.Length > _snapLength ? frame.Slice(0, _snapLength) : frame;
        ulong seconds = (ulong)timestampNs / 1_000_000_000UL;
        uint fraction = (uint)((ulong)timestampNs % 1_000_000_000UL) / _fractionDivisor;   // µs truncate, as libpcap does

        Span<byte> record = stackalloc byte[CaptureReader.PcapRecordHeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)seconds);
        BinaryPrimitives.WriteUInt32LittleEndian(record.Slice(4), fraction);
        BinaryPrimitives.WriteUInt32LittleEndian(record.Slice(8), (uint)captured.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record.Slice(12), (uint)originalLength);
        _stream.Write(record);
        _stream.Write(captured);
        FramesWritten++;
    }

    /// <summary>Pushes buffered records to the file (e.g. so another process can read a live capture).</summary>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _stream.Flush();
    }

    /// <summary>Flushes and closes the file (or only flushes a caller's stream when leaveOpen was given).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_leaveOpen)
        {
            _stream.Flush();
        }
        else
        {
            _stream.Dispose();
        }
    }
}
