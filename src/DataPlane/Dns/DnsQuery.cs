namespace DataPlane.Dns;

/// <summary>
/// A parsed query: header fields, the question (its name copied, lower-cased, into the caller's buffer) and EDNS0.
/// A plain struct filled by <see cref="DnsParser.ParseQuery"/>: parsing allocates nothing.
/// </summary>
public struct DnsQuery
{
    public ushort Id;
    /// <summary>The header's flags word as received (QR, opcode, AA, TC, RD, RA, Z, RCODE).</summary>
    public ushort Flags;
    /// <summary>Wire length of the question name (labels and the root byte) in the name buffer.</summary>
    public int NameLength;
    public int LabelCount;
    public ushort QType;
    public ushort QClass;
    /// <summary>Offset of the question in the message and of the byte after it.</summary>
    public int QuestionStart, QuestionEnd;
    /// <summary>The question name used a compression pointer: its raw bytes cannot be copied into the answer.</summary>
    public bool NameCompressed;
    public bool HasEdns;
    /// <summary>The requestor's UDP payload size (RFC 6891 §6.2.3; values below 512 are treated as 512).</summary>
    public ushort EdnsSize;
    public byte EdnsVersion;

    public readonly bool RecursionDesired => (Flags & 0x0100) != 0;
    public readonly int Opcode => (Flags >> 11) & 0xF;
}
