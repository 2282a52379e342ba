namespace DataPlane.IO.Pcap;

/// <summary>
/// A capture file could not be read: missing, unreadable, not a pcap/pcapng file, an unsupported version, or a
/// malformed or truncated record. This is the only exception type <see cref="CaptureReader"/> lets out for bad input;
/// the message is one line naming the file, the record or block and its byte offset, and what is wrong.
/// </summary>
public sealed class CaptureFormatException : Exception
{
    /// <summary>Path of the file being read.</summary>
    public string FilePath { get; }

    /// <summary>Byte offset in the file of the header, record or block at fault; -1 when the file could not be opened.</summary>
    public long Offset { get; }

    /// <summary>
    /// 1-based number of the pcap record (packet) or pcapng block (any type, SHBs included) at fault; 0 for the pcap
    /// file header or when not applicable.
    /// </summary>
    public long RecordNumber { get; }

    /// <summary>Creates the exception; the message is composed from the parts so every reader error reads the same way.</summary>
    public CaptureFormatException(string filePath, long offset, long recordNumber, string problem, Exception? inner = null)
        : this(filePath, offset, recordNumber, "record", problem, inner)
    {
    }

    /// <summary>As above, naming the unit counted by <paramref name="recordNumber"/> ("record" for pcap, "block" for pcapng).</summary>
    public CaptureFormatException(string filePath, long offset, long recordNumber, string recordKind, string problem, Exception? inner = null)
        : base(Compose(filePath, offset, recordNumber, recordKind, problem), inner)
    {
        FilePath = filePath;
        Offset = offset;
        RecordNumber = recordNumber;
    }

    private static string Compose(string filePath, long offset, long recordNumber, string recordKind, string problem)
    {
        // Keep it on one line: the CLI prints it as-is and the CI log greps for the file name.
        problem = problem.ReplaceLineEndings(" ");
        if (offset < 0)
        {
            return $"{filePath}: {problem}";
        }

        return recordNumber > 0
            ? $"{filePath}: {recordKind} {recordNumber} at byte offset {offset}: {problem}"
            : $"{filePath}: at byte offset {offset}: {problem}";
    }
}
