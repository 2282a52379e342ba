using System.Globalization;

namespace DataPlane.Dns;

/// <summary>
/// Resource record types (RFC 1035 §3.2.2, RFC 3596 AAAA, RFC 2782 SRV, RFC 6891 OPT). <see cref="Parse"/> and
/// <see cref="Name"/> know every mnemonic of IANA's "Resource Record (RR) TYPEs" registry (DNS Parameters), so a query
/// for any of them can be asked and printed; the responder answers the ones the cluster DNS serves.
/// </summary>
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

    /// <summary>IANA's registry, value → mnemonic (obsolete and experimental types included: they are still names of types).</summary>
    static readonly Dictionary<ushort, string> s_names = new()
    {
        [1] = "A", [2] = "NS", [3] = "MD", [4] = "MF", [5] = "CNAME", [6] = "SOA", [7] = "MB", [8] = "MG", [9] = "MR",
        [10] = "NULL", [11] = "WKS", [12] = "PTR", [13] = "HINFO", [14] = "MINFO", [15] = "MX", [16] = "TXT", [17] = "RP",
        [18] = "AFSDB", [19] = "X25", [20] = "ISDN", [21] = "RT", [22] = "NSAP", [23] = "NSAP-PTR", [24] = "SIG", [25] = "KEY",
        [26] = "PX", [27] = "GPOS", [28] = "AAAA", [29] = "LOC", [30] = "NXT", [31] = "EID", [32] = "NIMLOC", [33] = "SRV",
        [34] = "ATMA", [35] = "NAPTR", [36] = "KX", [37] = "CERT", [38] = "A6", [39] = "DNAME", [40] = "SINK", [41] = "OPT",
        [42] = "APL", [43] = "DS", [44] = "SSHFP", [45] = "IPSECKEY", [46] = "RRSIG", [47] = "NSEC", [48] = "DNSKEY",
        [49] = "DHCID", [50] = "NSEC3", [51] = "NSEC3PARAM", [52] = "TLSA", [53] = "SMIMEA", [55] = "HIP", [56] = "NINFO",
        [57] = "RKEY", [58] = "TALINK", [59] = "CDS", [60] = "CDNSKEY", [61] = "OPENPGPKEY", [62] = "CSYNC", [63] = "ZONEMD",
        [64] = "SVCB", [65] = "HTTPS", [66] = "DSYNC", [99] = "SPF", [100] = "UINFO", [101] = "UID", [102] = "GID",
        [103] = "UNSPEC", [104] = "NID", [105] = "L32", [106] = "L64", [107] = "LP", [108] = "EUI48", [109] = "EUI64",
        [128] = "NXNAME", [249] = "TKEY", [250] = "TSIG", [251] = "IXFR", [252] = "AXFR", [253] = "MAILB", [254] = "MAILA",
        // The registry's mnemonic for 255 is "*"; dig and the RFCs' prose call the query type ANY, and so do we.
        [255] = "ANY", [256] = "URI", [257] = "CAA", [258] = "AVC", [259] = "DOA", [260] = "AMTRELAY", [261] = "RESINFO",
        [262] = "WALLET", [263] = "CLA", [264] = "IPN", [32768] = "TA", [32769] = "DLV",
    };

    static readonly Dictionary<string, ushort> s_values = BuildValues();

    static Dictionary<string, ushort> BuildValues()
    {
        var values = new Dictionary<string, ushort>(StringComparer.OrdinalIgnoreCase) { ["*"] = ANY };
        foreach (var (value, name) in s_names)
            values[name] = value;
        return values;
    }

    /// <summary>The type's mnemonic, or RFC 3597's <c>TYPEnnn</c> for a value the registry does not name.</summary>
    public static string Name(ushort t) => s_names.TryGetValue(t, out var name) ? name : "TYPE" + t.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The type named <paramref name="name"/>: any registry mnemonic (case-insensitive, "*" for ANY), or RFC 3597's
    /// <c>TYPEnnn</c> (decimal 1-65535, no sign); 0 when it names none.
    /// </summary>
    public static ushort Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (s_values.TryGetValue(name, out ushort t))
            return t;
        return name.StartsWith("TYPE", StringComparison.OrdinalIgnoreCase)
            && ushort.TryParse(name.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out ushort v) ? v : (ushort)0;
    }
}
