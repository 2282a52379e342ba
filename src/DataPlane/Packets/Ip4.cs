using System.Runtime.CompilerServices;

namespace DataPlane.Packets;

/// <summary>
/// IPv4 addresses as <see cref="uint"/> in host order (10.0.0.1 == 0x0A000001). Headers are read with
/// <c>BinaryPrimitives.ReadUInt32BigEndian</c>, so the value compares, masks and prints naturally; the byte swap is one
/// <c>movbe</c>, cheaper than reasoning about two orders in every stage.
/// </summary>
public static class Ip4
{
    public static string Format(uint address) =>
        string.Create(null, stackalloc char[15], $"{address >> 24}.{(address >> 16) & 0xFF}.{(address >> 8) & 0xFF}.{address & 0xFF}");

    public static string Format(uint address, ushort port) => $"{Format(address)}:{port}";

    /// <summary>
    /// Strict dotted quad: four decimal octets, no surrounding space, no leading zeros; what the API server validates
    /// (k8s.io/apimachinery <c>IsValidIP</c>, KEP-4858) and Go's <c>netip.ParseAddr</c> accepts. "010.0.0.1" is refused:
    /// Go's <c>net.ParseIP</c> stopped accepting leading zeros (read as octal by inet_aton).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out uint address) => TryParse(text, lenient: false, out address);

    /// <summary>
    /// kube-proxy's "sloppy" form (k8s.io/utils/net <c>ParseIPSloppy</c>, Go 1.16's parser): leading zeros accepted and
    /// read as decimal. Used only where kube-proxy itself parses this way (its config, loadBalancerSourceRanges).
    /// </summary>
    public static bool TryParseLenient(ReadOnlySpan<char> text, out uint address) => TryParse(text, lenient: true, out address);

    static bool TryParse(ReadOnlySpan<char> text, bool lenient, out uint address)
    {
        address = 0;
        int octets = 0, i = 0;
        while (octets < 4)
        {
            int start = i, value = 0;
            while (i < text.Length && (uint)(text[i] - '0') <= 9)
            {
                value = value * 10 + (text[i] - '0');
                if (value > 255) return false;
                i++;
            }
            int digits = i - start;
            if (digits == 0 || (!lenient && (digits > 3 || (digits > 1 && text[start] == '0')))) return false;
            address = (address << 8) | (uint)value;
            octets++;
            if (octets < 4)
            {
                if (i >= text.Length || text[i] != '.') return false;
                i++;
            }
        }
        return i == text.Length;
    }

    public static uint Parse(string text) =>
        TryParse(text, out var a) ? a : throw new FormatException($"'{text}' is not an IPv4 address");

    /// <summary>"ip:port" as used on the CLI and in verdict lines.</summary>
    public static bool TryParseEndpoint(ReadOnlySpan<char> text, out uint address, out ushort port)
    {
        port = 0;
        int colon = text.LastIndexOf(':');
        if (colon < 0) return TryParse(text, out address);
        if (!TryParse(text[..colon], out address)) return false;
        return ushort.TryParse(text[(colon + 1)..], out port);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool InPrefix(uint address, uint prefix, int length) =>
        length == 0 || ((address ^ prefix) >> (32 - length)) == 0;
}
