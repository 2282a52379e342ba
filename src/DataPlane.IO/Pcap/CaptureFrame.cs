namespace DataPlane.IO.Pcap;

/// <summary>
/// One frame read from a capture file. It is a view, not a copy: <see cref="Data"/> points into the reader's buffer
/// and is valid only until the next call to <see cref="CaptureReader.TryRead"/> (or until the reader is disposed).
/// Copy the bytes if they must outlive that.
/// </summary>
public readonly ref struct CaptureFrame
{
    /// <summary>The captured bytes (incl_len / Captured Packet Length); may be shorter than the frame on the wire.</summary>
    public readonly ReadOnlySpan<byte> Data;

    /// <summary>Capture time in nanoseconds since 1970-01-01T00:00:00Z (0 for pcapng Simple Packet Blocks, which carry none).</summary>
    public readonly long TimestampNs;

    /// <summary>Length of the frame on the wire (orig_len / Original Packet Length), clamped to <see cref="int.MaxValue"/>.</summary>
    public readonly int OriginalLength;

    /// <summary>Link-layer type of this frame: the file's for pcap, the interface's (IDB) for pcapng.</summary>
    public readonly LinkType LinkType;

    /// <summary>pcapng Interface ID within the current section (index of its IDB); always 0 for classic pcap.</summary>
    public readonly int InterfaceId;

    /// <summary>Creates a frame view; used by <see cref="CaptureReader"/> and by tests that build frames by hand.</summary>
    public CaptureFrame(ReadOnlySpan<byte> data, long timestampNs, int originalLength, LinkType linkType, int interfaceId)
    {
        Data = data;
        TimestampNs = timestampNs;
        OriginalLength = originalLength;
        LinkType = linkType;
        InterfaceId = interfaceId;
    }

    /// <summary>Number of bytes captured, <c>Data.Length</c>.</summary>
    public int CapturedLength => Data.Length;

    /// <summary>True when the capture cut the frame short (snaplen), so <see cref="Data"/> is not the whole frame.</summary>
    public bool IsTruncated => Data.Length < OriginalLength;
}
