using DataPlane.Packets;

namespace DataPlane.Tests.Packets;

public class Ip4ParsingTests
{
    [Theory]
    [InlineData("10.0.0.1", 0x0A000001u)]
    [InlineData("0.0.0.0", 0u)]
    [InlineData("255.255.255.255", 0xFFFFFFFFu)]
    [InlineData("192.168.0.2", 0xC0A80002u)]
    public void Strict_accepts_dotted_quads_in_host_order(string text, uint expected)
    {
        Assert.True(Ip4.TryParse(text, out var ip));
        Assert.Equal(expected, ip);
        Assert.Equal(text, Ip4.Format(ip));
    }

    [Theory]
    [InlineData("")]
    [InlineData("10.0.0")]            // three octets
    [InlineData("10.0.0.1.2")]        // five octets
    [InlineData("10.0.0.256")]        // octet out of range
    [InlineData("010.0.0.1")]         // leading zero: strict API validation rejects it (read as octal elsewhere)
    [InlineData("10.0.0.01")]
    [InlineData(" 10.0.0.1")]         // whitespace only tolerated by the lenient CIDR form
    [InlineData("10.0.0.1 ")]
    [InlineData("10..0.1")]
    [InlineData("10.0.0.-1")]
    [InlineData("::1")]
    [InlineData("10.0.0.1/32")]
    [InlineData("1e1.0.0.1")]
    [InlineData("99999999999.0.0.1")] // must not overflow into a valid octet
    public void Strict_rejects(string text) => Assert.False(Ip4.TryParse(text, out _));

    [Fact]
    public void Lenient_reads_leading_zeros_as_decimal()
    {
        Assert.True(Ip4.TryParseLenient("010.000.000.001", out var ip));
        Assert.Equal(0x0A000001u, ip);
    }

    [Theory]
    [InlineData("10.0.0.0/8", 0x0A000000u, 8)]
    [InlineData("0.0.0.0/0", 0u, 0)]
    [InlineData("192.168.1.7/32", 0xC0A80107u, 32)]
    [InlineData("10.1.2.3/8", 0x0A000000u, 8)] // host bits cleared, as Go's net.ParseCIDR returns the network
    public void Cidr_strict(string text, uint prefix, int length)
    {
        Assert.True(Cidr4.TryParse(text, out var cidr));
        Assert.Equal(prefix, cidr.Prefix);
        Assert.Equal(length, cidr.Length);
    }

    [Theory]
    [InlineData("10.0.0.0")]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.0/")]
    [InlineData("10.0.0.0/08")]         // leading zero in the length
    [InlineData("203.0.113.000/25")]    // leading zeros in the address
    [InlineData(" 10.0.0.0/8")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("fd00::/8")]
    public void Cidr_strict_rejects(string text) => Assert.False(Cidr4.TryParse(text, out _));

    [Theory]
    [InlineData(" 203.0.113.000/025", 0xCB007100u, 25)] // kube-proxy TestLoadBalancer's source range spelling
    [InlineData("10.0.0.0/8 ", 0x0A000000u, 8)]
    [InlineData("1.2.3.4/32", 0x01020304u, 32)]
    public void Cidr_lenient(string text, uint prefix, int length)
    {
        Assert.True(Cidr4.TryParseLenient(text, out var cidr));
        Assert.Equal(new Cidr4(prefix, length), cidr);
    }

    [Fact]
    public void Cidr_contains_and_formats()
    {
        var cidr = new Cidr4(0x0A600000, 12);
        Assert.True(cidr.Contains(0x0A600001));
        Assert.True(cidr.Contains(0x0A6FFFFF));
        Assert.False(cidr.Contains(0x0A700000));
        Assert.Equal(0xFFF00000u, cidr.Mask);
        Assert.Equal("10.96.0.0/12", cidr.ToString());
        Assert.True(new Cidr4(0, 0).Contains(0xFFFFFFFF));
    }
}
