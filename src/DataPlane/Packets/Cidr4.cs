namespace DataPlane.Packets;

/// <summary>
/// An IPv4 prefix, the one CIDR type of the data plane and the manifest loader. <see cref="Prefix"/> is in host order
/// with the host bits cleared (what Go's <c>net.ParseCIDR</c> returns as the network).
/// </summary>
public readonly record struct Cidr4
{
    /// <summary>Builds a prefix, clearing any host bits of <paramref name="prefix"/>.</summary>
    public Cidr4(uint prefix, int length)
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

    public bool Contains(uint address) => Ip4.InPrefix(address, Prefix, Length);

    /// <summary>The n-th address of the prefix (n = 1 is the conventional gateway, e.g. cni0 on 10.244.1.0/24).</summary>
    public uint At(uint n) => Prefix + n;

    public override string ToString() => $"{Ip4.Format(Prefix)}/{Length}";

    /// <summary>
    /// Strict "a.b.c.d/n", what the API server validates (k8s.io/apimachinery <c>IsValidCIDR</c>, Go's
    /// <c>netip.ParsePrefix</c>): the address as <see cref="Ip4.TryParse"/> reads it, the length 0-32 in decimal
    /// without a leading zero, no sign and no surrounding space. Host bits are cleared.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Cidr4 cidr) => TryParse(text, lenient: false, out cidr, out _);

    /// <summary>
    /// kube-proxy's tolerant form for loadBalancerSourceRanges and its own config: surrounding whitespace is
    /// trimmed and leading zeros are read as decimal ("203.0.113.000/025" = 203.0.113.0/25), as k8s.io/utils/net
    /// <c>ParseCIDRSloppy</c> does after kube-proxy's <c>strings.TrimSpace</c> (proxier_test <c>TestLoadBalancer</c>, <c>TestBadIPs</c>).
    /// </summary>
    public static bool TryParseLenient(ReadOnlySpan<char> text, out Cidr4 cidr) => TryParse(text.Trim(), lenient: true, out cidr, out _);

    /// <summary>
    /// Parses (strict, or sloppy without trimming) and also reports the address as written, so a caller can demand
    /// canonical form (no host bits), as the API server does of ServiceCIDR ranges.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, bool lenient, out Cidr4 cidr, out uint written)
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
        bool ok = lenient ? Ip4.TryParseLenient(text[..slash], out written) : Ip4.TryParse(text[..slash], out written);
        if (!ok)
            return false;
        cidr = new Cidr4(written, length);
        return true;
    }

    static uint MaskOf(int length) => length == 0 ? 0 : uint.MaxValue << (32 - length);
}
