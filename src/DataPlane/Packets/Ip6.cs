using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace DataPlane.Packets;

/// <summary>
/// An IPv6 address as two 64-bit halves in host order (2001:db8::1 == Hi 0x20010DB800000000, Lo 1), the IPv6 twin of
/// <see cref="Ip4"/>'s host-order <see cref="uint"/>: read from a header with two <c>ReadUInt64BigEndian</c>, compared,
/// masked and hashed as two words, never an <c>IPAddress</c> on the hot path. Text is parsed and printed allocation-free
/// through spans (<see cref="TryParse(ReadOnlySpan{char}, out Ip6)"/>, <see cref="TryFormat"/>); the string forms are for
/// the edges (CLI, verdict lines).
/// </summary>
public readonly struct Ip6 : IEquatable<Ip6>
{
    /// <summary>Bytes in an address.</summary>
    public const int Length = 16;

    /// <summary>
    /// Longest text <see cref="TryFormat"/> writes: eight groups of four hex digits and seven colons. (Mixed notation is
    /// shorter: "::ffff:255.255.255.255" is 22.)
    /// </summary>
    public const int MaxTextLength = 39;

    /// <summary>Longest "[address]:port" text <see cref="TryFormatEndpoint"/> writes.</summary>
    public const int MaxEndpointTextLength = MaxTextLength + 8;

    /// <summary>Bytes 0-7 of the address, host order.</summary>
    public readonly ulong Hi;
    /// <summary>Bytes 8-15 of the address, host order.</summary>
    public readonly ulong Lo;

    public Ip6(ulong hi, ulong lo)
    {
        Hi = hi;
        Lo = lo;
    }

    /// <summary>The unspecified address, "::" (RFC 4291 §2.5.2).</summary>
    public static Ip6 Any => default;

    /// <summary>The loopback address, "::1" (RFC 4291 §2.5.3).</summary>
    public static Ip6 Loopback => new(0, 1);

    /// <summary>The IPv4-mapped form ::ffff:a.b.c.d of a host-order IPv4 address (RFC 4291 §2.5.5.2).</summary>
    public static Ip6 FromV4Mapped(uint v4) => new(0, 0xFFFF_0000_0000UL | v4);

    /// <summary>
    /// From one host-order 128-bit number (the first byte of the address in the top bits), the form the control plane
    /// keeps service addresses and ranges in; <see cref="ToUInt128"/> is the inverse.
    /// </summary>
    public static Ip6 FromUInt128(UInt128 value) => new((ulong)(value >> 64), (ulong)value);

    public UInt128 ToUInt128() => new(Hi, Lo);

    /// <summary>An IPv4-mapped address, ::ffff:0:0/96.</summary>
    public bool IsV4Mapped => Hi == 0 && (Lo >> 32) == 0xFFFF;

    /// <summary>Reads 16 bytes in network order; the caller checked the length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Ip6 Read(ReadOnlySpan<byte> bytes) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes.Slice(8)));

    /// <summary>Writes the 16 bytes in network order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(Span<byte> bytes)
    {
        BinaryPrimitives.WriteUInt64BigEndian(bytes, Hi);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.Slice(8), Lo);
    }

    /// <summary>The 16-bit group <paramref name="index"/> (0-7), as the text form numbers them.</summary>
    public ushort Group(int index) =>
        (ushort)((index < 4 ? Hi : Lo) >> (48 - 16 * (index & 3)));

    /// <summary>Whether the first <paramref name="length"/> bits (0-128) equal those of <paramref name="prefix"/>.</summary>
    public bool InPrefix(Ip6 prefix, int length)
    {
        if (length <= 0) return true;
        if (length < 64) return ((Hi ^ prefix.Hi) >> (64 - length)) == 0;
        if (Hi != prefix.Hi) return false;
        if (length == 64) return true;
        if (length >= 128) return Lo == prefix.Lo;
        return ((Lo ^ prefix.Lo) >> (128 - length)) == 0;
    }

    public bool Equals(Ip6 other) => Hi == other.Hi && Lo == other.Lo;
    public override bool Equals(object? obj) => obj is Ip6 o && Equals(o);
    public override int GetHashCode() => HashCode.Combine(Hi, Lo);
    public static bool operator ==(Ip6 a, Ip6 b) => a.Equals(b);
    public static bool operator !=(Ip6 a, Ip6 b) => !a.Equals(b);

    /// <summary>The RFC 5952 text (see <see cref="TryFormat"/>).</summary>
    public override string ToString()
    {
        Span<char> buffer = stackalloc char[MaxTextLength];
        TryFormat(buffer, out int n);
        return new string(buffer.Slice(0, n));
    }

    /// <summary>"[address]:port", the RFC 5952 §6 form with a port, as used on the CLI and in verdict lines.</summary>
    public static string Format(Ip6 address, ushort port)
    {
        Span<char> buffer = stackalloc char[MaxEndpointTextLength];
        address.TryFormatEndpoint(port, buffer, out int n);
        return new string(buffer.Slice(0, n));
    }

    /// <summary>
    /// The canonical text of RFC 5952 §4: lower-case hex without leading zeros; the longest run of two or more zero
    /// groups (the first, on a tie) shortened to "::", a single zero group never. IPv4-mapped addresses are written in
    /// the mixed notation of §5 (::ffff:192.0.2.1); that is the one well-known prefix Go's net/netip prints that way, so
    /// the text matches what Kubernetes components print. System.Net.IPAddress also mixes for deprecated
    /// IPv4-compatible (::192.0.2.1), SIIT (::ffff:0:192.0.2.1) and ISATAP (…:0:5efe:192.0.2.1) addresses; those are
    /// printed in hex here, as netip does. Returns false when <paramref name="destination"/> is shorter than the text.
    /// </summary>
    public bool TryFormat(Span<char> destination, out int charsWritten)
    {
        charsWritten = 0;
        int n = 0;
        if (IsV4Mapped)
        {
            uint v4 = (uint)Lo;
            if (!"::ffff:".TryCopyTo(destination)) return false;
            n = 7;
            for (int shift = 24; shift >= 0; shift -= 8)
            {
                if (!Decimal(destination, ref n, (v4 >> shift) & 0xFF) || (shift > 0 && !Put(destination, ref n, '.'))) return false;
            }
            charsWritten = n;
            return true;
        }
        // The longest run of zero groups, of length two or more; the first wins a tie (RFC 5952 §4.2.3).
        int bestStart = -1, bestLength = 1;
        for (int i = 0; i < 8;)
        {
            if (Group(i) != 0) { i++; continue; }
            int start = i;
            while (i < 8 && Group(i) == 0) i++;
            if (i - start > bestLength)
            {
                bestStart = start;
                bestLength = i - start;
            }
        }
        for (int i = 0; i < 8; i++)
        {
            if (i == bestStart)
            {
                if (!Put(destination, ref n, ':') || (i == 0 && !Put(destination, ref n, ':'))) return false;
                i += bestLength - 1;
                continue;
            }
            if (!Hex(destination, ref n, Group(i))) return false;
            if (i < 7 && !Put(destination, ref n, ':')) return false;
        }
        charsWritten = n;
        return true;
    }

    /// <summary>"[address]:port" into <paramref name="destination"/>.</summary>
    public bool TryFormatEndpoint(ushort port, Span<char> destination, out int charsWritten)
    {
        charsWritten = 0;
        if (destination.Length < 1) return false;
        destination[0] = '[';
        if (!TryFormat(destination.Slice(1), out int n)) return false;
        n++;
        if (!Put(destination, ref n, ']') || !Put(destination, ref n, ':') || !Decimal(destination, ref n, port)) return false;
        charsWritten = n;
        return true;
    }

    // Span.TryWrite with an interpolated port allocated 24 bytes per call on .NET 10 (Ip6Tests'
    // Format_and_parse_allocate_nothing): digits are written by hand instead.
    static bool Decimal(Span<char> d, ref int n, uint v)
    {
        int digits = v >= 10000 ? 5 : v >= 1000 ? 4 : v >= 100 ? 3 : v >= 10 ? 2 : 1;
        if (n + digits > d.Length) return false;
        for (int k = n + digits - 1; k >= n; k--)
        {
            d[k] = (char)('0' + v % 10);
            v /= 10;
        }
        n += digits;
        return true;
    }

    static bool Put(Span<char> d, ref int n, char c)
    {
        if ((uint)n >= (uint)d.Length) return false;
        d[n++] = c;
        return true;
    }

    static bool Hex(Span<char> d, ref int n, ushort v)
    {
        int digits = v >= 0x1000 ? 4 : v >= 0x100 ? 3 : v >= 0x10 ? 2 : 1;
        if (n + digits > d.Length) return false;
        for (int k = digits - 1; k >= 0; k--)
            d[n++] = "0123456789abcdef"[(v >> (4 * k)) & 0xF];
        return true;
    }

    /// <summary>
    /// RFC 4291 §2.2 text: eight groups of one to four hex digits (either case), at most one "::" standing for one or
    /// more zero groups, optionally ending in a dotted quad for the last 32 bits. Refused, as Go's
    /// <c>netip.ParseAddr</c> and the API server's strict validation refuse them: a zone ("%eth0"), brackets, spaces,
    /// five hex digits, a "::" that stands for no group (1:2:3:4:5:6:7::8), a leading zero in the dotted quad.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Ip6 address)
    {
        address = default;
        if (text.Length < 2 || text.Length > 45) return false; // "::" .. "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"
        Span<ushort> groups = stackalloc ushort[8];
        int n = 0, gap = -1, i = 0;
        if (text[0] == ':')
        {
            if (text[1] != ':') return false;
            gap = 0;
            i = 2;
        }
        while (i < text.Length)
        {
            if (n == 8) return false;
            int start = i;
            uint value = 0;
            while (i < text.Length && i - start < 5 && HexValue(text[i]) is int h and >= 0)
            {
                value = value << 4 | (uint)h;
                i++;
            }
            if (i < text.Length && text[i] == '.')
            {
                // The dotted quad ends the text and fills the last two groups.
                if (n > 6 || !Ip4.TryParse(text.Slice(start), out uint v4)) return false;
                groups[n++] = (ushort)(v4 >> 16);
                groups[n++] = (ushort)v4;
                i = text.Length;
                break;
            }
            int digits = i - start;
            if (digits == 0 || digits > 4) return false;
            groups[n++] = (ushort)value;
            if (i == text.Length) break;
            if (text[i] != ':') return false;
            i++;
            if (i == text.Length) return false; // a trailing single colon
            if (text[i] == ':')
            {
                if (gap >= 0) return false;
                gap = n;
                i++;
            }
        }
        if (gap < 0 ? n != 8 : n > 7) return false;
        Span<ushort> full = stackalloc ushort[8];
        full.Clear();
        if (gap < 0) groups.CopyTo(full);
        else
        {
            groups.Slice(0, gap).CopyTo(full);
            groups.Slice(gap, n - gap).CopyTo(full.Slice(8 - (n - gap)));
        }
        ulong hi = (ulong)full[0] << 48 | (ulong)full[1] << 32 | (ulong)full[2] << 16 | full[3];
        ulong lo = (ulong)full[4] << 48 | (ulong)full[5] << 32 | (ulong)full[6] << 16 | full[7];
        address = new Ip6(hi, lo);
        return true;
    }

    static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    public static Ip6 Parse(string text) =>
        TryParse(text, out var a) ? a : throw new FormatException($"'{text}' is not an IPv6 address");

    /// <summary>
    /// "[address]:port" (RFC 5952 §6, RFC 3986's IP-literal), "[address]" or a bare address; the port is 0 when none is
    /// given. A bare address cannot carry a port: its colons are the address's own.
    /// </summary>
    public static bool TryParseEndpoint(ReadOnlySpan<char> text, out Ip6 address, out ushort port)
    {
        port = 0;
        if (text.Length == 0 || text[0] != '[') return TryParse(text, out address);
        int close = text.IndexOf(']');
        if (close < 0 || !TryParse(text[1..close], out address))
        {
            address = default;
            return false;
        }
        ReadOnlySpan<char> rest = text[(close + 1)..];
        if (rest.Length == 0) return true;
        // Digits only: ushort.TryParse would also take a sign or surrounding spaces.
        if (rest.Length < 2 || rest.Length > 6 || rest[0] != ':') return false;
        uint p = 0;
        foreach (char c in rest[1..])
        {
            if ((uint)(c - '0') > 9) return false;
            p = p * 10 + (uint)(c - '0');
        }
        if (p > ushort.MaxValue) return false;
        port = (ushort)p;
        return true;
    }
}
