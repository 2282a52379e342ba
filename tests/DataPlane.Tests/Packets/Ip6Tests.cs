using System.Net;
using CsCheck;
using DataPlane.Packets;

namespace DataPlane.Tests.Packets;

/// <summary>Ip6: RFC 5952 text both ways, checked against System.Net.IPAddress, and the "[addr]:port" CLI form.</summary>
public class Ip6Tests
{
    /// <summary>Input text and the canonical text RFC 5952 §4 gives it.</summary>
    public static TheoryData<string, string> Canonical => new()
    {
        { "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },   // §4.1 no leading zeros, §4.2.1 longest run
        { "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },             // §4.2.2 one zero group is never "::"
        { "2001:0:0:1:0:0:0:1", "2001:0:0:1::1" },                      // §4.2.3 the longer run is shortened
        { "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },                // §4.2.3 on a tie, the first
        { "2001:DB8::ABCD", "2001:db8::abcd" },                         // §4.3 lower case
        { "0:0:0:0:0:0:0:0", "::" },
        { "::1", "::1" },
        { "1::", "1::" },
        { "fe80:0:0:0:1:0:0:0", "fe80::1:0:0:0" },                      // two runs of three: the first
        { "1:0:0:2:0:0:0:0", "1:0:0:2::" },                             // the trailing run of four beats the run of two
        { "::ffff:192.0.2.1", "::ffff:192.0.2.1" },                     // §5 IPv4-mapped in mixed notation
        { "::ffff:c000:0201", "::ffff:192.0.2.1" },
        { "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304" },               // dotted quad accepted anywhere, printed in hex
        { "::192.0.2.1", "::c000:201" },                                // deprecated IPv4-compatible: hex, as Go's netip prints it
        { "64:ff9b::192.0.2.33", "64:ff9b::c000:221" },                 // NAT64 well-known prefix (RFC 6052)
        { "fd00:10:96::a", "fd00:10:96::a" },                           // a typical IPv6 service CIDR address
    };

    [Theory]
    [MemberData(nameof(Canonical))]
    public void Text_is_parsed_and_printed_canonically(string input, string canonical)
    {
        Assert.True(Ip6.TryParse(input, out Ip6 a), input);
        Assert.Equal(canonical, a.ToString());
        Assert.Equal(IPAddress.Parse(input).GetAddressBytes(), Bytes(a));
    }

    /// <summary>Text Go's netip.ParseAddr (and so the API server's strict validation) refuses.</summary>
    [Theory]
    [InlineData("")]
    [InlineData(":")]
    [InlineData(":::")]
    [InlineData("1:2:3:4:5:6:7")]            // seven groups, no "::"
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("1:2:3:4:5:6:7::8")]         // "::" standing for no group
    [InlineData("1:2:3:4:5:6::1.2.3.4")]
    [InlineData("12345::")]                  // five hex digits
    [InlineData("1::2::3")]
    [InlineData("::1:")]
    [InlineData(":1::")]
    [InlineData("1:")]
    [InlineData("g::")]
    [InlineData("fe80::1%eth0")]             // zones have no place in a Service or a packet
    [InlineData("[::1]")]
    [InlineData(" ::1")]
    [InlineData("::1 ")]
    [InlineData("::ffff:01.2.3.4")]          // leading zero in the dotted quad
    [InlineData("::ffff:1.2.3")]
    [InlineData("::1.2.3.4.5")]
    [InlineData("::1.2.3.4:5")]              // the dotted quad must end the text
    [InlineData("1.2.3.4")]
    [InlineData("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555")]
    public void Malformed_text_is_refused(string text) => Assert.False(Ip6.TryParse(text, out _), text);

    [Fact]
    public void Format_and_parse_round_trip_against_IPAddress()
    {
        // Zero groups are frequent, so "::" placement (longest run, first on a tie) is exercised.
        Gen.Select(Gen.UShort.Array[8], Gen.Byte, Gen.Bool).Sample(t =>
        {
            var (words, zeroMask, small) = t;
            for (int i = 0; i < 8; i++)
                words[i] = (zeroMask >> i & 1) == 1 ? (ushort)0 : small ? (ushort)(words[i] & 0xF) : words[i];
            var a = FromGroups(words);
            var ip = new IPAddress(Bytes(a));
            string ours = a.ToString();
            // Our text reads back to the same address, in both parsers.
            Assert.True(Ip6.TryParse(ours, out Ip6 back), ours);
            Assert.Equal(a, back);
            Assert.Equal(ip, IPAddress.Parse(ours));
            // IPAddress's text reads back to the same address in ours, mixed notation included.
            string theirs = ip.ToString();
            Assert.True(Ip6.TryParse(theirs, out Ip6 fromTheirs), theirs);
            Assert.Equal(a, fromTheirs);
            // And is the same text, except where .NET writes a dotted quad RFC 5952 §5 does not ask for.
            if (!DotNetEmbedsIpv4(words) || a.IsV4Mapped) Assert.Equal(theirs, ours);
        }, iter: 20000);
    }

    [Fact]
    public void Uncompressed_text_in_either_case_with_leading_zeros_parses()
    {
        Gen.Select(Gen.UShort.Array[8], Gen.Bool, Gen.Int[0, 3]).Sample(t =>
        {
            var (words, upper, pad) = t;
            string text = string.Join(':', words.Select(w =>
            {
                string g = w.ToString(upper ? "X" : "x", System.Globalization.CultureInfo.InvariantCulture);
                return g.PadLeft(Math.Min(4, g.Length + pad), '0');
            }));
            Assert.True(Ip6.TryParse(text, out Ip6 a), text);
            Assert.Equal(FromGroups(words), a);
            Assert.Equal(IPAddress.Parse(text).GetAddressBytes(), Bytes(a));
        });
    }

    [Fact]
    public void Format_and_parse_allocate_nothing()
    {
        var a = Ip6.Parse("2001:db8::8:800:200c:417a");
        Span<char> buffer = stackalloc char[Ip6.MaxEndpointTextLength];
        bool ok = a.TryFormat(buffer, out _) && Ip6.TryParse("2001:db8::8:800:200c:417a", out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            ok &= a.TryFormat(buffer, out int n);
            ok &= Ip6.TryParse(buffer.Slice(0, n), out a);
            ok &= a.TryFormatEndpoint(8080, buffer, out n);
            ok &= Ip6.TryParseEndpoint(buffer.Slice(0, n), out a, out ushort port) && port == 8080;
            ok &= Ip6.FromV4Mapped(0x0A60000A).TryFormat(buffer, out n) && n == 17;
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(ok);
    }

    [Fact]
    public void Longest_text_fits_the_declared_buffers()
    {
        var a = Ip6.Parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
        Assert.Equal(Ip6.MaxTextLength, a.ToString().Length);
        Assert.Equal(Ip6.MaxEndpointTextLength, Ip6.Format(a, 65535).Length);
        Assert.False(a.TryFormat(new char[Ip6.MaxTextLength - 1], out _));
    }

    [Theory]
    [InlineData("[2001:db8::1]:443", "2001:db8::1", 443)]
    [InlineData("[::1]:0", "::1", 0)]
    [InlineData("[::ffff:10.0.0.1]:65535", "::ffff:10.0.0.1", 65535)]
    [InlineData("[fd00::10]", "fd00::10", 0)]
    [InlineData("fd00::10", "fd00::10", 0)]                       // bare: no port (the colons are the address's)
    public void Endpoints_are_parsed(string text, string address, int port)
    {
        Assert.True(Ip6.TryParseEndpoint(text, out Ip6 a, out ushort p), text);
        Assert.Equal(Ip6.Parse(address), a);
        Assert.Equal(port, p);
    }

    [Theory]
    [InlineData("[2001:db8::1]:65536")]
    [InlineData("[2001:db8::1]:")]
    [InlineData("[2001:db8::1]:+1")]
    [InlineData("[2001:db8::1]: 1")]
    [InlineData("[2001:db8::1]80")]
    [InlineData("[2001:db8::1")]
    [InlineData("[1.2.3.4]:80")]
    [InlineData("2001:db8::1:80:")]
    public void Malformed_endpoints_are_refused(string text) => Assert.False(Ip6.TryParseEndpoint(text, out _, out _), text);

    [Fact]
    public void Endpoint_text_round_trips()
    {
        Gen.Select(Gen.ULong, Gen.ULong, Gen.UShort).Sample(t =>
        {
            var a = new Ip6(t.Item1, t.Item2);
            string text = Ip6.Format(a, t.Item3);
            Assert.Equal($"[{a}]:{t.Item3}", text);
            Assert.True(Ip6.TryParseEndpoint(text, out Ip6 back, out ushort port));
            Assert.Equal((a, t.Item3), (back, port));
        });
    }

    [Theory]
    [InlineData("fd00:10:96::a", "fd00:10:96::", 108, true)]
    [InlineData("fd00:10:97::a", "fd00:10:96::", 48, false)]
    [InlineData("fd00:10:96::a", "fd00:10:96::", 64, true)]
    [InlineData("fd00:10:96:1::a", "fd00:10:96::", 64, false)]
    [InlineData("fd00::1", "fd00::1", 128, true)]
    [InlineData("fd00::2", "fd00::1", 128, false)]
    [InlineData("fd00::2", "fd00::1", 126, true)]
    [InlineData("2001:db8::1", "::", 0, true)]
    [InlineData("8000::", "::", 1, false)]
    public void Prefix_membership(string address, string prefix, int length, bool expected) =>
        Assert.Equal(expected, Ip6.Parse(address).InPrefix(Ip6.Parse(prefix), length));

    [Fact]
    public void Mapped_addresses_and_groups()
    {
        Ip6 m = Ip6.FromV4Mapped(Ip4.Parse("10.96.0.10"));
        Assert.True(m.IsV4Mapped);
        Assert.Equal("::ffff:10.96.0.10", m.ToString());
        Assert.Equal(0xffff, m.Group(5));
        Assert.Equal(0x0a60, m.Group(6));
        Assert.False(Ip6.Loopback.IsV4Mapped);
        Assert.Equal("::", Ip6.Any.ToString());
    }

    [Fact]
    public void UInt128_conversion_keeps_network_order_meaning()
    {
        Ip6 a = Ip6.Parse("2001:db8::1");
        Assert.Equal(new UInt128(0x2001_0db8_0000_0000, 1), a.ToUInt128());
        var bytes = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, a.ToUInt128());
        Assert.Equal(Bytes(a), bytes);
        Gen.Select(Gen.ULong, Gen.ULong).Sample(t =>
        {
            var x = new Ip6(t.Item1, t.Item2);
            Assert.Equal(x, Ip6.FromUInt128(x.ToUInt128()));
        });
    }

    static Ip6 FromGroups(ushort[] w) => new(
        (ulong)w[0] << 48 | (ulong)w[1] << 32 | (ulong)w[2] << 16 | w[3],
        (ulong)w[4] << 48 | (ulong)w[5] << 32 | (ulong)w[6] << 16 | w[7]);

    static byte[] Bytes(Ip6 a)
    {
        var b = new byte[16];
        a.Write(b);
        return b;
    }

    /// <summary>
    /// Where .NET's IPAddress.ToString writes a dotted quad (IPv6AddressHelper.ShouldHaveIpv4Embedded): IPv4-compatible,
    /// IPv4-mapped, SIIT and ISATAP addresses. Only IPv4-mapped is mixed here, as Go's netip does.
    /// </summary>
    static bool DotNetEmbedsIpv4(ushort[] w) =>
        (w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == 0 && w[6] != 0
            && ((w[4] == 0 && (w[5] == 0 || w[5] == 0xFFFF)) || (w[4] == 0xFFFF && w[5] == 0)))
        || (w[4] == 0 && w[5] == 0x5EFE);
}
