namespace DataPlane.Kubernetes.Manifests;

/// <summary>
/// An IPv6 prefix, host bits cleared, for the control plane's service ranges (ServiceCIDR, --service-cidr). The data
/// plane has no IPv6 yet, so this lives here rather than next to <see cref="DataPlane.Packets.Cidr4"/>.
/// <see cref="Prefix"/> is a number in host order (see <see cref="ServiceIP"/>).
/// </summary>
public readonly record struct Cidr6
{
    public Cidr6(UInt128 prefix, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, 128);
        Length = length;
        Prefix = prefix & Mask(length);
    }

    public UInt128 Prefix { get; }
    public int Length { get; }

    public UInt128 Last => Prefix | ~Mask(Length);

    public bool Contains(UInt128 address) => (address & Mask(Length)) == Prefix;

    public override string ToString() => $"{ServiceIP.FormatV6(Prefix)}/{Length}";

    static UInt128 Mask(int length) => length == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - length);

    /// <summary>"addr/len" with an IPv6 address and 0-128; <paramref name="written"/> is the address as written (host bits kept).</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Cidr6 cidr, out UInt128 written)
    {
        cidr = default;
        written = 0;
        int slash = text.IndexOf('/');
        if (slash <= 0 || !int.TryParse(text[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int length)
            || length > 128 || !ServiceIP.TryParseV6(text[..slash], out written))
            return false;
        cidr = new Cidr6(written, length);
        return true;
    }
}
