using System.Buffers.Binary;

namespace DataPlane.FixtureBuilder.Verify;

/// <summary>The Internet checksum (RFC 1071), computed from scratch: the altered captures get their checksums from here,
/// not from DataPlane's incremental updates.</summary>
public static class Checksum
{
    /// <summary>Adds <paramref name="data"/> as 16-bit big-endian words (an odd last byte padded with zero) to
    /// <paramref name="sum"/>.</summary>
    public static uint Sum(ReadOnlySpan<byte> data, uint sum)
    {
        int i = 0;
        for (; i + 1 < data.Length; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (i < data.Length) sum += (uint)(data[i] << 8);
        return sum;
    }

    /// <summary>Folds the carries and complements: the value to put in the header.</summary>
    public static ushort Fold(uint sum)
    {
        while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }
}
