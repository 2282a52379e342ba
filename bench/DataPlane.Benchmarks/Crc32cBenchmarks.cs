using BenchmarkDotNet.Attributes;
using DataPlane.Packets;

namespace DataPlane.Benchmarks;

/// <summary>
/// CRC32c alone over an SCTP packet: the data plane's hardware path (<see cref="Crc32c.Sctp"/>, 8 bytes per CRC32
/// instruction) against the classic byte-at-a-time table (RFC 9260 Appendix A's sample code, written here), the
/// baseline. 512 packets of 64 B and 1400 B payload (plus the 12-byte header and a 16-byte DATA chunk header).
/// </summary>
[MemoryDiagnoser]
public class Crc32cBenchmarks
{
    [Params(64, 1400)]
    public int Payload;

    byte[][] _packets = [];
    static readonly uint[] s_table = BuildTable();

    static uint[] BuildTable()
    {
        var t = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ 0x82F63B78 : c >> 1;
            t[i] = c;
        }
        return t;
    }

    /// <summary>The same value as <see cref="Crc32c.Sctp"/>, one table lookup per byte.</summary>
    static uint TableSctp(ReadOnlySpan<byte> p)
    {
        uint crc = 0xFFFFFFFF;
        for (int i = 0; i < p.Length; i++)
        {
            byte b = i is >= Sctp.ChecksumOffset and < Sctp.CommonHeaderLength ? (byte)0 : p[i];
            crc = s_table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return ~crc;
    }

    [GlobalSetup]
    public void Setup()
    {
        _packets = new byte[BenchData.Batch][];
        var rng = new Random(42);
        for (int i = 0; i < _packets.Length; i++)
        {
            byte[] p = new byte[Sctp.CommonHeaderLength + SctpFrameBuilder.DataChunkHeaderLength + Payload];
            rng.NextBytes(p);
            _packets[i] = p;
        }
        foreach (byte[] p in _packets)
            if (TableSctp(p) != Crc32c.Sctp(p)) throw new InvalidOperationException("table and hardware CRC32c disagree");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public uint TableDriven()
    {
        uint x = 0;
        foreach (byte[] p in _packets) x ^= TableSctp(p);
        return Check(x);
    }

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public uint Hardware()
    {
        uint x = 0;
        foreach (byte[] p in _packets) x ^= Crc32c.Sctp(p);
        return Check(x);
    }

    uint _expected;

    /// <summary>Both must produce the XOR of all packets' CRCs (computed once by the table); anything else throws.</summary>
    uint Check(uint x)
    {
        if (_expected == 0) { uint e = 0; foreach (byte[] p in _packets) e ^= TableSctp(p); _expected = e; }
        return x == _expected ? x : throw new InvalidOperationException("CRC32c benchmark computed a wrong value");
    }
}
