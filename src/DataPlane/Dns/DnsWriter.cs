using System.Buffers.Binary;

namespace DataPlane.Dns;

/// <summary>
/// Writes a DNS message into a span with name compression (RFC 1035 §4.1.4): every label start written is remembered
/// (up to a fixed number, in a caller-provided span), and a name whose suffix is already in the message is written as
/// its leading labels and a pointer. Writes never pass <see cref="Limit"/>: a write that would returns false and leaves
/// the message as it was, so the caller can stop and set TC.
/// </summary>
public ref struct DnsWriter
{
    readonly Span<byte> _buf;
    readonly Span<ushort> _known;
    int _knownCount;
    public int Position;
    public int Limit;

    public DnsWriter(Span<byte> buffer, int limit, Span<ushort> knownOffsets)
    {
        _buf = buffer;
        Limit = Math.Min(limit, buffer.Length);
        _known = knownOffsets;
    }

    public readonly Span<byte> Buffer => _buf;

    /// <summary>A point to roll back to (position and remembered names).</summary>
    public readonly (int Pos, int Known) Mark => (Position, _knownCount);
    public void Reset((int Pos, int Known) mark) => (Position, _knownCount) = mark;

    public bool Bytes(scoped ReadOnlySpan<byte> b)
    {
        if (Position + b.Length > Limit) return false;
        b.CopyTo(_buf[Position..]);
        Position += b.Length;
        return true;
    }

    public bool U16(ushort v)
    {
        if (Position + 2 > Limit) return false;
        BinaryPrimitives.WriteUInt16BigEndian(_buf[Position..], v);
        Position += 2;
        return true;
    }

    public bool U32(uint v)
    {
        if (Position + 4 > Limit) return false;
        BinaryPrimitives.WriteUInt32BigEndian(_buf[Position..], v);
        Position += 4;
        return true;
    }

    /// <summary>Remembers the label starts of an uncompressed name written at <paramref name="at"/> (the question).</summary>
    public void Remember(int at, scoped ReadOnlySpan<byte> wire)
    {
        for (int i = 0; i < wire.Length && wire[i] != 0; i += 1 + wire[i])
            Add(at + i);
    }

    void Add(int offset)
    {
        if (_knownCount < _known.Length && offset < 0x3FFF) _known[_knownCount++] = (ushort)offset;
    }

    /// <summary>Writes uncompressed lower-case wire name <paramref name="wire"/>, compressed against the message.</summary>
    public bool Name(scoped ReadOnlySpan<byte> wire)
    {
        int start = Position;
        for (int i = 0; i < wire.Length; i += 1 + wire[i])
        {
            if (wire[i] == 0) return Bytes([0]) || Undo(start);
            int at = Find(wire[i..]);
            if (at >= 0)
            {
                if (!U16((ushort)(0xC000 | at))) return Undo(start);
                return true;
            }
            if (!Bytes(wire.Slice(i, 1 + wire[i]))) return Undo(start);
            Add(Position - 1 - wire[i]);
        }
        return true;
    }

    bool Undo(int start)
    {
        Position = start;
        return false;
    }

    /// <summary>An offset in the message where <paramref name="suffix"/> is written (as labels or via pointers), or -1.</summary>
    readonly int Find(scoped ReadOnlySpan<byte> suffix)
    {
        for (int k = 0; k < _knownCount; k++)
            if (Matches(suffix, _known[k])) return _known[k];
        return -1;
    }

    readonly bool Matches(scoped ReadOnlySpan<byte> name, int o)
    {
        int i = 0;
        for (int hops = 0; hops < 64;)
        {
            byte b = _buf[o];
            if ((b & 0xC0) == 0xC0) { o = ((b & 0x3F) << 8) | _buf[o + 1]; hops++; continue; }
            if (b != name[i]) return false;
            if (b == 0) return true;
            for (int j = 1; j <= b; j++)
            {
                byte c = _buf[o + j];
                if (c is >= (byte)'A' and <= (byte)'Z') c |= 0x20;
                if (c != name[i + j]) return false;
            }
            i += 1 + b;
            o += 1 + b;
        }
        return false;
    }
}
