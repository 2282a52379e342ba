using DataPlane.Dns;
using DataPlane.IO.Text;

namespace DataPlane.Tests.Dns;

/// <summary><see cref="DnsType.Parse"/> knows IANA's RR TYPE registry and RFC 3597's TYPEnnn; <see cref="DnsType.Name"/> prints them back.</summary>
public class DnsTypeRegistryTests
{
    /// <summary>IANA "Resource Record (RR) TYPEs", mnemonic and value.</summary>
    public static TheoryData<string, ushort> Registry => new()
    {
        { "A", 1 }, { "NS", 2 }, { "MD", 3 }, { "MF", 4 }, { "CNAME", 5 }, { "SOA", 6 }, { "MB", 7 }, { "MG", 8 }, { "MR", 9 },
        { "NULL", 10 }, { "WKS", 11 }, { "PTR", 12 }, { "HINFO", 13 }, { "MINFO", 14 }, { "MX", 15 }, { "TXT", 16 }, { "RP", 17 },
        { "AFSDB", 18 }, { "X25", 19 }, { "ISDN", 20 }, { "RT", 21 }, { "NSAP", 22 }, { "NSAP-PTR", 23 }, { "SIG", 24 }, { "KEY", 25 },
        { "PX", 26 }, { "GPOS", 27 }, { "AAAA", 28 }, { "LOC", 29 }, { "NXT", 30 }, { "EID", 31 }, { "NIMLOC", 32 }, { "SRV", 33 },
        { "ATMA", 34 }, { "NAPTR", 35 }, { "KX", 36 }, { "CERT", 37 }, { "A6", 38 }, { "DNAME", 39 }, { "SINK", 40 }, { "OPT", 41 },
        { "APL", 42 }, { "DS", 43 }, { "SSHFP", 44 }, { "IPSECKEY", 45 }, { "RRSIG", 46 }, { "NSEC", 47 }, { "DNSKEY", 48 },
        { "DHCID", 49 }, { "NSEC3", 50 }, { "NSEC3PARAM", 51 }, { "TLSA", 52 }, { "SMIMEA", 53 }, { "HIP", 55 }, { "NINFO", 56 },
        { "RKEY", 57 }, { "TALINK", 58 }, { "CDS", 59 }, { "CDNSKEY", 60 }, { "OPENPGPKEY", 61 }, { "CSYNC", 62 }, { "ZONEMD", 63 },
        { "SVCB", 64 }, { "HTTPS", 65 }, { "SPF", 99 }, { "UINFO", 100 }, { "UID", 101 }, { "GID", 102 }, { "UNSPEC", 103 },
        { "NID", 104 }, { "L32", 105 }, { "L64", 106 }, { "LP", 107 }, { "EUI48", 108 }, { "EUI64", 109 }, { "TKEY", 249 },
        { "TSIG", 250 }, { "IXFR", 251 }, { "AXFR", 252 }, { "MAILB", 253 }, { "MAILA", 254 }, { "ANY", 255 }, { "URI", 256 },
        { "CAA", 257 }, { "AVC", 258 }, { "DOA", 259 }, { "AMTRELAY", 260 }, { "TA", 32768 }, { "DLV", 32769 },
    };

    [Theory]
    [MemberData(nameof(Registry))]
    public void Every_registry_mnemonic_parses_in_any_case_and_prints_back(string mnemonic, ushort value)
    {
        Assert.Equal(value, DnsType.Parse(mnemonic));
        Assert.Equal(value, DnsType.Parse(mnemonic.ToLowerInvariant()));
        Assert.Equal(value, DnsType.Parse(char.ToLowerInvariant(mnemonic[0]) + mnemonic[1..]));
        Assert.Equal(mnemonic, DnsType.Name(value));
        Assert.Equal(value, DnsType.Parse($"TYPE{value}"));
    }

    [Theory]
    [InlineData("*", 255)]
    [InlineData("TYPE65535", 65535)]
    [InlineData("type54", 54)]
    [InlineData("TYPE1", 1)]
    [InlineData("TYPE0", 0)]
    [InlineData("TYPE65536", 0)]
    [InlineData("TYPE+1", 0)]
    [InlineData("TYPE 1", 0)]
    [InlineData("TYPE", 0)]
    [InlineData("BOGUS", 0)]
    [InlineData("", 0)]
    public void Star_TYPEnnn_and_what_names_no_type(string text, ushort expected) => Assert.Equal(expected, DnsType.Parse(text));

    [Fact]
    public void Unnamed_values_print_as_RFC_3597_TYPEnnn_and_dig_output_names_the_asked_type()
    {
        Assert.Equal("TYPE54", DnsType.Name(54));
        Assert.Equal("TYPE65280", DnsType.Name(65280));
        Assert.Equal(";; no answer for web MX", DnsText.Dig("web", DnsType.Parse("mx"), null));
        Assert.Equal(";; no answer for web NSAP-PTR", DnsText.Dig("web", DnsType.Parse("nsap-ptr"), null));
        Assert.Equal(";; no answer for web A", DnsText.Dig("web", DnsType.Parse("TYPE1"), null));
    }

    [Fact]
    public void Any_registry_type_can_be_asked_and_the_answer_names_it()
    {
        var world = new DnsWorld();
        using var probe = new DataPlane.IO.Trace.DnsProbe(world.Zone, DnsWorld.Client, tcp: false);
        var m = probe.Ask("web.default.svc.cluster.local", DnsType.Parse("caa"));
        Assert.NotNull(m);
        Assert.Equal("NOERROR", m.RcodeName);
        Assert.Empty(m.Answer);
        Assert.Contains(";web.default.svc.cluster.local. IN CAA", DnsText.Dig("web.default.svc.cluster.local", DnsType.Parse("caa"), m));
    }
}
