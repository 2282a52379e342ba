using System.Net;
using System.Net.Sockets;

namespace DataPlane.Kubernetes;

/// <summary>An IPv4 prefix. <see cref="Prefix"/> is host order with the host bits cleared.</summary>
public readonly record struct Ipv4Cidr
{
    /// <summary>Builds a prefix, clearing any host bits (what Go's <c>net.ParseCIDR</c> returns as the network).</summary>
    public Ipv4Cidr(uint prefix, int length)
    {
        if ((uint)length > 32)
            throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
        Prefix = prefix & MaskOf(length);
    }

    /// <summary>Network address, host order, host bits zero.</summary>
    public uint Prefix { get; }

    /// <summary>Prefix length, 0-32.</summary>
    public int Length { get; }

    /// <summary>Netmask in host order (/24 = 0xFFFFFF00).</summary>
    public uint Mask => MaskOf(Length);

    public bool Contains(uint address) => (address & Mask) == Prefix;

    public override string ToString() => $"{Ipv4.Format(Prefix)}/{Length}";

    /// <summary>Strict "a.b.c.d/n": dotted quad without leading zeros, length 0-32 without leading zeros. Host bits are cleared.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Ipv4Cidr cidr) => TryParse(text, lenient: false, out cidr, out _);

    /// <summary>
    /// kube-proxy's tolerant form for loadBalancerSourceRanges and its own config: surrounding whitespace is
    /// trimmed and leading zeros are read as decimal ("203.0.113.000/025" = 203.0.113.0/25), as k8s.io/utils/net
    /// <c>ParseCIDRSloppy</c> does after kube-proxy's <c>strings.TrimSpace</c> (proxier_test <c>TestLoadBalancer</c>, <c>TestBadIPs</c>).
    /// </summary>
    public static bool TryParseLenient(ReadOnlySpan<char> text, out Ipv4Cidr cidr) => TryParse(text.Trim(), lenient: true, out cidr, out _);

    /// <summary>Parses and also reports the address as written, so callers can demand canonical form (no host bits).</summary>
    internal static bool TryParse(ReadOnlySpan<char> text, bool lenient, out Ipv4Cidr cidr, out uint written)
    {
        cidr = default;
        written = 0;
        int slash = text.IndexOf('/');
        if (slash < 0)
            return false;
        var lengthText = text[(slash + 1)..];
        if (lengthText.Length is 0 or > 3 || (!lenient && lengthText.Length > 1 && lengthText[0] == '0'))
            return false;
        int length = 0;
        foreach (char c in lengthText)
        {
            if ((uint)(c - '0') > 9)
                return false;
            length = length * 10 + (c - '0');
        }
        if (length > 32)
            return false;
        bool ok = lenient ? Ipv4.TryParseIPv4Lenient(text[..slash], out written) : Ipv4.TryParseIPv4(text[..slash], out written);
        if (!ok)
            return false;
        cidr = new Ipv4Cidr(written, length);
        return true;
    }

    /// <summary>True for a syntactically valid IPv6 prefix; the loader skips those instead of rejecting them.</summary>
    internal static bool IsIPv6(ReadOnlySpan<char> text)
    {
        text = text.Trim();
        int slash = text.IndexOf('/');
        return slash > 0
            && int.TryParse(text[(slash + 1)..], out int length) && length is >= 0 and <= 128
            && IPAddress.TryParse(text[..slash], out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6;
    }

    private static uint MaskOf(int length) => length == 0 ? 0 : uint.MaxValue << (32 - length);
}
