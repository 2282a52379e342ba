using System.Net;
using System.Net.Sockets;

namespace DataPlane.Kubernetes;

/// <summary>IPv4 text parsing for manifests. Addresses are <see cref="uint"/> in host order: 10.0.0.1 = 0x0A000001.</summary>
public static class Ipv4
{
    /// <summary>
    /// Strict dotted quad: four decimal octets 0-255 without leading zeros. The API server's strict IP
    /// validation (k8s.io/apimachinery validation <c>IsValidIP</c>, KEP-4858) rejects "010.0.0.1" because Go's
    /// <c>net.ParseIP</c> stopped accepting leading zeros (they were read as octal elsewhere).
    /// </summary>
    public static bool TryParseIPv4(ReadOnlySpan<char> text, out uint address) => TryParse(text, lenient: false, out address);

    /// <summary>
    /// kube-proxy's "sloppy" form (k8s.io/utils/net <c>ParseIPSloppy</c>): leading zeros are accepted and read as
    /// decimal, as old Go did. Used only where kube-proxy itself tolerates them.
    /// </summary>
    public static bool TryParseIPv4Lenient(ReadOnlySpan<char> text, out uint address) => TryParse(text, lenient: true, out address);

    /// <summary>Dotted-quad text of a host-order address.</summary>
    public static string Format(uint address) =>
        $"{address >> 24}.{(address >> 16) & 0xFF}.{(address >> 8) & 0xFF}.{address & 0xFF}";

    /// <summary>True for a syntactically valid IPv6 address; the loader skips those instead of rejecting them.</summary>
    internal static bool IsIPv6(ReadOnlySpan<char> text) =>
        text.Contains(':') && IPAddress.TryParse(text, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6;

    private static bool TryParse(ReadOnlySpan<char> text, bool lenient, out uint address)
    {
        address = 0;
        uint result = 0;
        int octets = 0;
        int i = 0;
        while (true)
        {
            int start = i;
            uint value = 0;
            while (i < text.Length && (uint)(text[i] - '0') <= 9)
            {
                value = value * 10 + (uint)(text[i] - '0');
                // Cap the digit run so the accumulator cannot overflow; no valid octet is this long.
                if (i - start >= 10 || value > 255)
                    return false;
                i++;
            }
            int digits = i - start;
            if (digits == 0 || (!lenient && digits > 1 && text[start] == '0'))
                return false;
            result = (result << 8) | value;
            octets++;
            if (octets == 4)
                break;
            if (i >= text.Length || text[i] != '.')
                return false;
            i++;
        }
        if (i != text.Length)
            return false;
        address = result;
        return true;
    }
}
