using DataPlane.Packets;

namespace DataPlane.Tests.Packets;

public class Ip4Tests
{
    [Theory]
    [InlineData("10.0.0.1", 0x0A000001u)]
    [InlineData("255.255.255.255", 0xFFFFFFFFu)]
    [InlineData("0.0.0.0", 0u)]
    public void Parses_dotted_quads(string text, uint expected)
    {
        Assert.True(Ip4.TryParse(text, out uint a));
        Assert.Equal(expected, a);
        Assert.Equal(text, Ip4.Format(a));
    }

    [Theory]
    [InlineData("")]
    [InlineData("10.0.0")]          // three octets
    [InlineData("10.0.0.256")]      // octet out of range
    [InlineData("10.0.0.01")]       // leading zero: ambiguous (octal in some parsers), rejected like Go's net.ParseIP
    [InlineData("10.0.0.1 ")]       // trailing space
    [InlineData("10..0.1")]
    [InlineData("1.2.3.4.5")]
    public void Rejects_malformed_addresses(string text) => Assert.False(Ip4.TryParse(text, out _));

    [Fact]
    public void Cidr_contains_and_clears_host_bits()
    {
        Assert.True(Cidr4.TryParse("10.244.1.7/24", out var c));
        Assert.Equal("10.244.1.0/24", c.ToString());
        Assert.True(c.Contains(Ip4.Parse("10.244.1.255")));
        Assert.False(c.Contains(Ip4.Parse("10.244.2.0")));
        Assert.True(Cidr4.TryParse("0.0.0.0/0", out var all));
        Assert.True(all.Contains(0xFFFFFFFF));
    }
}
