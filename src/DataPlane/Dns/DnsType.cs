namespace DataPlane.Dns;

/// <summary>Resource record types we answer or recognise (RFC 1035 §3.2.2, RFC 3596 AAAA, RFC 2782 SRV, RFC 6891 OPT).</summary>
public static class DnsType
{
    public const ushort A = 1;
    public const ushort NS = 2;
    public const ushort CNAME = 5;
    public const ushort SOA = 6;
    public const ushort PTR = 12;
    public const ushort TXT = 16;
    public const ushort AAAA = 28;
    public const ushort SRV = 33;
    public const ushort OPT = 41;
    public const ushort AXFR = 252;
    public const ushort ANY = 255;

    public const ushort ClassIN = 1;

    public static string Name(ushort t) => t switch
    {
        A => "A",
        NS => "NS",
        CNAME => "CNAME",
        SOA => "SOA",
        PTR => "PTR",
        TXT => "TXT",
        AAAA => "AAAA",
        SRV => "SRV",
        OPT => "OPT",
        AXFR => "AXFR",
        ANY => "ANY",
        _ => "TYPE" + t,
    };

    /// <summary>The type named <paramref name="name"/> (case-insensitive; also RFC 3597's TYPEnnn), or 0.</summary>
    public static ushort Parse(string name)
    {
        string n = name.ToUpperInvariant();
        foreach (ushort t in (ReadOnlySpan<ushort>)[A, NS, CNAME, SOA, PTR, TXT, AAAA, SRV, AXFR, ANY])
            if (Name(t) == n) return t;
        return n.StartsWith("TYPE", StringComparison.Ordinal) && ushort.TryParse(n.AsSpan(4), out ushort v) ? v : (ushort)0;
    }
}
