namespace DataPlane.Packets;

/// <summary>An IPv4 prefix; <see cref="Prefix"/> is in host order with the host bits cleared.</summary>
public readonly record struct Cidr4(uint Prefix, int Length)
{
    public bool Contains(uint address) => Ip4.InPrefix(address, Prefix, Length);

    public static bool TryParse(ReadOnlySpan<char> text, out Cidr4 cidr)
    {
        cidr = default;
        int slash = text.IndexOf('/');
        if (slash < 0 || !Ip4.TryParse(text[..slash], out uint a) || !int.TryParse(text[(slash + 1)..], out int len) || len is < 0 or > 32)
            return false;
        uint mask = len == 0 ? 0 : uint.MaxValue << (32 - len);
        cidr = new Cidr4(a & mask, len);
        return true;
    }

    /// <summary>The n-th address of the prefix (n = 1 is the conventional gateway, e.g. cni0 on 10.244.1.0/24).</summary>
    public uint At(uint n) => Prefix + n;

    public override string ToString() => $"{Ip4.Format(Prefix)}/{Length}";
}
