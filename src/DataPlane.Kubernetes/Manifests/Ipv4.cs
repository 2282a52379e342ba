using System.Net;
using System.Net.Sockets;
using DataPlane.Packets;

namespace DataPlane.Kubernetes;

/// <summary>IPv4 text parsing for manifests. Addresses are <see cref="uint"/> in host order: 10.0.0.1 = 0x0A000001.</summary>
public static class Ipv4
{
    /// <summary>Strict dotted quad, as the API server validates it (see <see cref="Ip4.TryParse"/>).</summary>
    public static bool TryParseIPv4(ReadOnlySpan<char> text, out uint address) => Ip4.TryParse(text, out address);

    /// <summary>kube-proxy's "sloppy" form, used only where kube-proxy itself tolerates leading zeros.</summary>
    public static bool TryParseIPv4Lenient(ReadOnlySpan<char> text, out uint address) => Ip4.TryParseLenient(text, out address);

    public static string Format(uint address) => Ip4.Format(address);

    /// <summary>True for a syntactically valid IPv6 address; the loader skips those instead of rejecting them.</summary>
    internal static bool IsIPv6(ReadOnlySpan<char> text) =>
        text.Contains(':') && IPAddress.TryParse(text, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6;
}
