using System.Buffers.Binary;
using CsCheck;
using DataPlane.FixtureBuilder;
using DataPlane.Packets;

namespace DataPlane.Tests.Packets;

public class ChecksumTests
{
    [Fact]
    public void Compute_matches_an_independent_RFC1071_implementation()
    {
        Gen.Byte[0, 255].Array[0, 1500].Sample(data =>
            Assert.Equal(Frames.InternetChecksum(data), Checksum.Compute(data)));
    }

    /// <summary>RFC 1624 eqn. 3: patching a valid checksum after changing 32 + 16 bits equals recomputing it.</summary>
    [Fact]
    public void Incremental_update_equals_full_recompute()
    {
        Gen.Select(Gen.Byte[0, 255].Array[20, 200], Gen.UInt, Gen.UShort, Gen.Int[0, 1000]).Sample(t =>
        {
            var (data, newWord32, newWord16, pos) = t;
            if (data.Length % 2 == 1) data = data[..^1];
            data[0] = data[1] = 0;
            ushort check = Checksum.Compute(data);
            BinaryPrimitives.WriteUInt16BigEndian(data, check);
            int o32 = 2 + (pos % ((data.Length - 8) / 2)) * 2; // an even offset after the checksum, room for 6 bytes
            uint old32 = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(o32));
            ushort old16 = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(o32 + 4));
            BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(o32), newWord32);
            BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(o32 + 4), newWord16);
            ushort patched = Checksum.Apply(check, Checksum.Diff32(old32, newWord32) + Checksum.Diff16(old16, newWord16));
            data[0] = data[1] = 0;
            Assert.Equal(Checksum.Compute(data), patched);
        });
    }

    [Fact]
    public void Udp_zero_checksum_stays_zero_and_a_zero_result_is_sent_as_FFFF()
    {
        Assert.Equal(0, Checksum.ApplyUdp(0, Checksum.Diff32(1, 2)));
        // ~(~HC + diff) == 0 needs ~HC + diff == 0xFFFF: HC = 0x1234 and a diff of 0x1234 gives a computed 0.
        Assert.Equal(0xFFFF, Checksum.ApplyUdp(0x1234, 0x1234));
    }

    [Fact]
    public void Ipv4_header_validation_detects_a_flipped_bit()
    {
        byte[] f = Frames.TcpFrame("10.0.0.1", 1, "10.0.0.2", 2, Frames.Tcp.Syn, 1, 0);
        Assert.True(Checksum.Ipv4HeaderValid(f.AsSpan(14, 20)));
        f[14 + 8] ^= 1;
        Assert.False(Checksum.Ipv4HeaderValid(f.AsSpan(14, 20)));
    }
}
