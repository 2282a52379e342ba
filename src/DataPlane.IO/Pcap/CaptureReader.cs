using System.Buffers.Binary;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace DataPlane.IO.Pcap;

/// <summary>
/// Reads frames from a classic pcap file (microsecond or nanosecond magic, either byte order) or a pcapng file
/// (SHB/IDB/EPB/SPB/OPB; other blocks skipped; several sections, each with its own byte order).
/// </summary>
/// <remarks>
/// <para>
/// Managed on purpose: no libpcap at run time, and no allocation per frame. The file is read into one reusable
/// buffer and each <see cref="CaptureFrame"/> is a span into it, valid until the next <see cref="TryRead"/>.
/// SharpPcap/libpcap is kept only as a test oracle (tests/DataPlane.Tests/IO).
/// </para>
/// <para>
/// Error policy: bad input never escapes as anything but <see cref="CaptureFormatException"/>. That covers a missing
/// or unreadable file, a foreign or garbage file, an unsupported version, a record longer than
/// <see cref="MaxRecordLength"/>, and a record or block that runs past the end of the file. A truncated last record
/// is an error, not a quiet end of file: a replay that silently loses its last frame would make a regression case
/// pass or fail for the wrong reason. Frames returned before the error are valid, so a caller that wants
/// "everything readable" can catch the exception after its loop.
/// </para>
/// <para>Not thread-safe: one reader, one consumer.</para>
/// </remarks>
public sealed partial class CaptureReader : IDisposable
{
    /// <summary>
    /// Largest captured length accepted for one frame: 262144, libpcap's MAXIMUM_SNAPLEN and Wireshark's
    /// WTAP_MAX_PACKET_SIZE_STANDARD. Anything longer in a pcap record header is corruption, not a frame.
    /// </summary>
    public const int MaxRecordLength = 262144;

    /// <summary>
    /// Largest pcapng block accepted: 16 MiB, Wireshark's MAX_BLOCK_SIZE. Bounds the buffer a corrupt block length
    /// can make us allocate.
    /// </summary>
    public const int MaxBlockLength = 16 * 1024 * 1024;

    // Initial buffer: holds a typical Ethernet frame many times over so most reads are served without a syscall;
    // grown (rarely) up to the largest record/block actually met.
    private const int InitialBufferSize = 128 * 1024;

    private readonly FileStream _stream;      // opened with bufferSize 1 (no FileStream buffer): _buffer is the only copy
    private byte[] _buffer;                   // file bytes [_bufferOffset, _bufferOffset + _end)
    private int _start;                       // first unconsumed byte in _buffer
    private int _end;                         // one past the last valid byte in _buffer
    private long _bufferOffset;               // file offset of _buffer[0]
    private readonly long _fileLength;        // size at open; only used to phrase truncation errors
    private bool _bigEndian;                  // byte order of the pcap file / current pcapng section
    private long _recordNumber;               // pcap records or pcapng blocks consumed so far (for error messages)
    private bool _disposed;

    /// <summary>Opens <paramref name="path"/> and reads its file header (pcap) or first section header (pcapng).</summary>
    /// <exception cref="CaptureFormatException">The file is missing, unreadable, or not a supported capture file.</exception>
    public CaptureReader(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Path = path;
        // Opening a directory fails with EISDIR, which .NET reports as "Access to the path is denied": say what it is.
        if (Directory.Exists(path))
        {
            throw new CaptureFormatException(path, -1, 0, "cannot open capture file: is a directory", null);
        }

        try
        {
            // bufferSize 1 disables FileStream's own buffer; we buffer ourselves to hand out spans.
            _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
            // A FIFO or character device (mkfifo, /dev/stdin, a process substitution) has no length and cannot seek:
            // it is read as a stream, front to back, which is all the reader ever does.
            _fileLength = _stream.CanSeek ? _stream.Length : -1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new CaptureFormatException(path, -1, 0, $"cannot open capture file: {e.Message}", e);
        }

        _buffer = new byte[InitialBufferSize];
        try
        {
            ReadFileHeader();
        }
        catch
        {
            _stream.Dispose();
            throw;
        }
    }

    /// <summary>The path given to the constructor.</summary>
    public string Path { get; }

    /// <summary>Classic pcap or pcapng.</summary>
    public CaptureFileFormat Format { get; private set; }

    /// <summary>
    /// pcap: the link type of the file header. pcapng: the link type of the first interface (IDB) of the file, or
    /// <see cref="LinkType.Unknown"/> when no IDB precedes the first packet. Per-frame truth is
    /// <see cref="CaptureFrame.LinkType"/>, which matters for pcapng files mixing interfaces.
    /// </summary>
    public LinkType LinkType { get; private set; } = LinkType.Unknown;

    /// <summary>Bytes of the file consumed so far (records handed out): with <see cref="FileLength"/>, how far a reader has got.</summary>
    public long BytesRead => Position;

    /// <summary>The file's size when opened; -1 when it cannot be told (a pipe).</summary>
    public long FileLength => _fileLength;

    /// <summary>pcap: SnapLen from the file header. pcapng: SnapLen of the first IDB (0 = unlimited), 0 if none seen.</summary>
    public long SnapLength { get; private set; }

    /// <summary>True when the file (pcap) or the current section (pcapng) is big-endian.</summary>
    public bool IsBigEndian => _bigEndian;

    /// <summary>Frames returned so far.</summary>
    public long FramesRead { get; private set; }

    /// <summary>
    /// Reads the next frame. Returns false at a clean end of file (the last record or block ended exactly at EOF).
    /// The frame's <see cref="CaptureFrame.Data"/> is valid until the next call.
    /// </summary>
    /// <exception cref="CaptureFormatException">The next record or block is malformed or cut short by the end of the file.</exception>
    public bool TryRead(out CaptureFrame frame)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        bool read = Format == CaptureFileFormat.Pcap ? TryReadPcapRecord(out frame) : TryReadPcapNgPacket(out frame);
        if (read)
        {
            FramesRead++;
        }

        return read;
    }

    /// <summary>Closes the file. Spans from earlier frames must not be used afterwards.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _stream.Dispose();
        }
    }

    private void ReadFileHeader()
    {
        if (!Fill(4))
        {
            ThrowFormat(0, 0, Available == 0 ? "file is empty (0 bytes), not a pcap or pcapng file" : $"file is only {Available} bytes, too short for a pcap or pcapng header");
        }

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_start));
        if (magic == PcapNgSectionHeaderType)
        {
            // The SHB block type 0x0A0D0D0A is a palindrome, so it reads the same in both byte orders (pcapng 4.1).
            Format = CaptureFileFormat.PcapNg;
            OpenPcapNg();
        }
        else
        {
            Format = CaptureFileFormat.Pcap;
            OpenPcap(magic);
        }
    }

    /// <summary>Bytes buffered and not yet consumed.</summary>
    private int Available => _end - _start;

    /// <summary>File offset of the next unconsumed byte.</summary>
    private long Position => _bufferOffset + _start;

    /// <summary>
    /// Makes at least <paramref name="count"/> unconsumed bytes contiguous in <see cref="_buffer"/>. Returns false if
    /// the file ends first (whatever was there stays buffered, so the caller can say how much was missing).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Fill(int count)
    {
        // Fast path: the whole record is already buffered (the common case for small frames).
        return (uint)count <= (uint)Available || FillSlow(count);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool FillSlow(int count)
    {
        Debug.Assert(count > Available);
        if (_start + count > _buffer.Length)
        {
            if (count > _buffer.Length)
            {
                // Rare: a record bigger than the buffer (GSO/BIG TCP frames). Grow to fit, doubling to amortise.
                byte[] bigger = new byte[Math.Max(count, Math.Min(2 * _buffer.Length, MaxBlockLength + 8))];
                Buffer.BlockCopy(_buffer, _start, bigger, 0, Available);
                _buffer = bigger;
            }
            else
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, Available);
            }

            _bufferOffset += _start;
            _end -= _start;
            _start = 0;
        }

        while (Available < count)
        {
            int n;
            try
            {
                // Read as much as fits, not just what is needed, to keep syscalls per frame well below one.
                n = _stream.Read(_buffer, _end, _buffer.Length - _end);
            }
            catch (IOException e)
            {
                throw new CaptureFormatException(Path, Position, _recordNumber + 1, $"read failed: {e.Message}", e);
            }

            if (n == 0)
            {
                return false;
            }

            _end += n;
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint ReadUInt32(ReadOnlySpan<byte> source) =>
        _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(source) : BinaryPrimitives.ReadUInt32LittleEndian(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ushort ReadUInt16(ReadOnlySpan<byte> source) =>
        _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(source) : BinaryPrimitives.ReadUInt16LittleEndian(source);

    /// <summary>Bytes left in the file from <paramref name="offset"/>, for "claims N bytes but only M remain" messages.</summary>
    private long RemainingFrom(long offset) => Math.Max(0, Math.Max(_fileLength, _bufferOffset + _end) - offset);

    [DoesNotReturn]
    [StackTraceHidden]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowFormat(long offset, long recordNumber, string problem) =>
        throw new CaptureFormatException(Path, offset, recordNumber, Format == CaptureFileFormat.PcapNg ? "block" : "record", problem);
}
