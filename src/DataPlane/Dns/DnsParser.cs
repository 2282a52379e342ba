using System.Buffers.Binary;

namespace DataPlane.Dns;

/// <summary>
/// Reads DNS messages on spans (RFC 1035 §4.1). Nothing here throws or allocates: every malformation — a label length
/// with the reserved 01/10 prefix bits, a name over 255 bytes, a pointer that does not point strictly backwards (which
/// is what makes loops impossible), a question or record cut short — is a status.
/// </summary>
public static class DnsParser
{
    public const int HeaderLength = 12;
    public const int MaxNameLength = 255;

    /// <summary>
    /// Parses a query. <paramref name="name"/> (at least <see cref="MaxNameLength"/> bytes) receives the question name in
    /// uncompressed wire form, ASCII lower-cased: names compare case-insensitively (RFC 4343).
    /// </summary>
    public static DnsParseStatus ParseQuery(ReadOnlySpan<byte> msg, Span<byte> name, out DnsQuery q)
    {
        q = default;
        if (msg.Length < HeaderLength) return DnsParseStatus.Ignore;
        q.Id = BinaryPrimitives.ReadUInt16BigEndian(msg);
        q.Flags = BinaryPrimitives.ReadUInt16BigEndian(msg[2..]);
        if ((q.Flags & 0x8000) != 0) return DnsParseStatus.Ignore;
        if (q.Opcode != 0) return DnsParseStatus.NotImp;
        int qd = BinaryPrimitives.ReadUInt16BigEndian(msg[4..]);
        int an = BinaryPrimitives.ReadUInt16BigEndian(msg[6..]);
        int ns = BinaryPrimitives.ReadUInt16BigEndian(msg[8..]);
        int ar = BinaryPrimitives.ReadUInt16BigEndian(msg[10..]);
        // One question per message: every server implements only that (RFC 9619).
        if (qd != 1) return DnsParseStatus.FormErr;
        q.QuestionStart = HeaderLength;
        int len = ReadName(msg, HeaderLength, name, out int pos, out q.LabelCount, out q.NameCompressed);
        if (len < 0 || pos + 4 > msg.Length) return DnsParseStatus.FormErr;
        q.NameLength = len;
        q.QType = BinaryPrimitives.ReadUInt16BigEndian(msg[pos..]);
        q.QClass = BinaryPrimitives.ReadUInt16BigEndian(msg[(pos + 2)..]);
        pos += 4;
        q.QuestionEnd = pos;
        for (int i = 0; i < an + ns; i++)
            if ((pos = SkipRecord(msg, pos, out _, out _)) < 0) return DnsParseStatus.FormErr;
        for (int i = 0; i < ar; i++)
        {
            int start = pos;
            if ((pos = SkipRecord(msg, pos, out ushort type, out int fixedAt)) < 0) return DnsParseStatus.FormErr;
            if (type != DnsType.OPT) continue;
            // RFC 6891 §6.1.1: one OPT, owned by the root; more than one is FORMERR.
            if (q.HasEdns || msg[start] != 0) return DnsParseStatus.FormErr;
            q.HasEdns = true;
            q.EdnsSize = Math.Max((ushort)512, BinaryPrimitives.ReadUInt16BigEndian(msg[(fixedAt + 2)..]));
            q.EdnsVersion = msg[fixedAt + 5];
        }
        return DnsParseStatus.Ok;
    }

    /// <summary>
    /// Reads the name at <paramref name="offset"/>, following pointers, into <paramref name="dest"/> (lower-cased,
    /// uncompressed). Returns its wire length, or -1 when it is malformed or does not fit; <paramref name="next"/> is
    /// the offset after the name where it sits (after the first pointer, if any).
    /// </summary>
    public static int ReadName(ReadOnlySpan<byte> msg, int offset, Span<byte> dest, out int next, out int labels, out bool compressed)
    {
        next = -1;
        labels = 0;
        compressed = false;
        int written = 0, pos = offset, limit = offset; // a pointer must go below every label read so far
        while (true)
        {
            if ((uint)pos >= (uint)msg.Length) return -1;
            byte b = msg[pos];
            if (b == 0)
            {
                if (written + 1 > MaxNameLength || written + 1 > dest.Length) return -1;
                dest[written++] = 0;
                if (!compressed) next = pos + 1;
                return written;
            }
            switch (b & 0xC0)
            {
                case 0xC0:
                    if (pos + 1 >= msg.Length) return -1;
                    int target = ((b & 0x3F) << 8) | msg[pos + 1];
                    if (!compressed) next = pos + 2;
                    compressed = true;
                    // Strictly backwards, below everything read: a chain of pointers can only descend, so no loop.
                    if (target >= limit) return -1;
                    pos = limit = target;
                    continue;
                case 0x00:
                    int n = b;
                    if (pos + 1 + n > msg.Length || written + 1 + n + 1 > MaxNameLength || written + 1 + n > dest.Length) return -1;
                    dest[written++] = b;
                    for (int i = 0; i < n; i++)
                    {
                        byte c = msg[pos + 1 + i];
                        dest[written++] = c is >= (byte)'A' and <= (byte)'Z' ? (byte)(c | 0x20) : c;
                    }
                    labels++;
                    pos += 1 + n;
                    continue;
                default:
                    return -1; // 01 and 10: extended label types (RFC 6891 §5) and reserved: we know none
            }
        }
    }

    /// <summary>Skips one resource record; returns the offset after it (or -1), its type, and where its TYPE field is.</summary>
    public static int SkipRecord(ReadOnlySpan<byte> msg, int pos, out ushort type, out int fixedAt)
    {
        type = 0;
        fixedAt = -1;
        Span<byte> scratch = stackalloc byte[MaxNameLength];
        if (ReadName(msg, pos, scratch, out int after, out _, out _) < 0) return -1;
        if (after + 10 > msg.Length) return -1;
        fixedAt = after;
        type = BinaryPrimitives.ReadUInt16BigEndian(msg[after..]);
        int rdlen = BinaryPrimitives.ReadUInt16BigEndian(msg[(after + 8)..]);
        int end = after + 10 + rdlen;
        return end > msg.Length ? -1 : end;
    }

    /// <summary>Whether wire name <paramref name="name"/> is <paramref name="zone"/> or below it (both lower-case).</summary>
    public static bool IsAtOrBelow(ReadOnlySpan<byte> name, ReadOnlySpan<byte> zone)
    {
        if (zone.Length > name.Length) return false;
        int pos = 0;
        while (true)
        {
            if (name.Length - pos == zone.Length) return name[pos..].SequenceEqual(zone);
            if (name[pos] == 0) return false;
            pos += 1 + name[pos];
            if (name.Length - pos < zone.Length) return false;
        }
    }
}
