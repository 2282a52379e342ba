using CsCheck;
using DataPlane.FixtureBuilder;
using DataPlane.Packets;

namespace DataPlane.Tests.Sctp;

/// <summary>The hardware-instruction CRC32c against published vectors and the bit-by-bit oracle.</summary>
public class Crc32cTests
{
    [Theory]
    [InlineData("313233343536373839", 0xE3069283u)]                                             // "123456789", the CRC catalogue's check value
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000", 0x8A9136AAu)] // RFC 3720 B.4: 32 bytes of 0
    [InlineData("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 0x62A8AB43u)] // RFC 3720 B.4: 32 bytes of 0xff
    [InlineData("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 0x46DD794Eu)] // RFC 3720 B.4: incrementing
    [InlineData("", 0x00000000u)]
    public void Known_vectors(string hex, uint expected)
    {
        byte[] data = Convert.FromHexString(hex);
        Assert.Equal(expected, Crc32c.Compute(data));
        Assert.Equal(expected, SctpFrames.Crc32cBitwise(data)); // the oracle itself is right
    }

    [Fact]
    public void Hardware_path_equals_bitwise_oracle_for_every_length_and_alignment()
    {
        Gen.Byte.Array[0, 300].Select(Gen.Int[0, 7]).Sample((data, skip) =>
        {
            ReadOnlySpan<byte> d = data.AsSpan(Math.Min(skip, data.Length));
            Assert.Equal(SctpFrames.Crc32cBitwise(d), Crc32c.Compute(d));
        }, iter: 2000);
    }

    [Fact]
    public void Sctp_checksum_is_computed_over_the_packet_with_the_field_zeroed()
    {
        Gen.Byte.Array[12, 200].Sample(pkt =>
        {
            byte[] a = (byte[])pkt.Clone();
            Crc32c.WriteSctp(a);
            byte[] b = (byte[])pkt.Clone();
            SctpFrames.WriteChecksum(b);
            Assert.Equal(b, a);
            Assert.True(Crc32c.SctpValid(a));
            a[^1] ^= 0x40;
            Assert.False(Crc32c.SctpValid(a));
        }, iter: 1000);
    }
}
