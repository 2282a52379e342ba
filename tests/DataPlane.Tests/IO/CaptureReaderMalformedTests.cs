using DataPlane.IO.Pcap;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.IO;

/// <summary>
/// Bad capture files: each must give <see cref="CaptureFormatException"/> (never another type) with a one-line message
/// naming the file and saying what is wrong, after delivering every frame that precedes the damage.
/// </summary>
public sealed class CaptureReaderMalformedTests : IDisposable
{
    readonly TempDir _scratch = new("io");

    public void Dispose() => _scratch.Dispose();

    /// <summary>Corpus files whose header the reader must refuse; the message fragment says why.</summary>
    public static TheoryData<string, string> RejectedAtOpen => new()
    {
        // pcap 1.4: libpcap says "archaic pcap savefile format".
        { "pcap-invalid-version-1.pcap", "unsupported pcap version 1.4" },

        // pcap 2.5: libpcap says "unsupported pcap savefile version 2.5" (Wireshark reads it anyway).
        { "pcap-invalid-version-2.pcap", "unsupported pcap version 2.5" },

        // pcapng SHB 0.1 and 1.1.
        { "pcapng-invalid-vers-1.pcapng", "unsupported pcapng version 0.1" },
        { "pcapng-invalid-vers-2.pcapng", "unsupported pcapng version 1.1" },

        // SHB whose option runs past the block, so header and trailer lengths disagree (libpcap: "block total length
        // in header and trailer don't match").
        { "shb-option-too-long.pcapng", "block total length in header (52) and trailer (808464432) differ" },

        // Reserved bits 0x00300000 in the link-type field (draft-ietf-opsawg-pcap section 4).
        { "linktype-reserved-field-not-zero.pcap", "reserved bits set" },

        // Fuzzer output: ns magic, version 2.0, SnapLen 0, then a 524501-byte record in a 239-byte file. Refused at the
        // version already (libpcap still accepts 2.0..2.3 and hands out a garbage first record).
        { "fuzz-2021-10-13.pcap", "unsupported pcap version 2.0" },
    };

    [Theory]
    [MemberData(nameof(RejectedAtOpen))]
    public void Rejects_bad_file_headers(string file, string problem)
    {
        string path = CaptureCorpus.File(file);
        var e = Assert.Throws<CaptureFormatException>(() => new CaptureReader(path));
        Assert.Contains(problem, e.Message);
        AssertOneLineNaming(e, path);
    }

    [Fact]
    public void Fuzz_pcap_gives_its_one_good_frame_then_reports_the_oversized_record()
    {
        // Record 1 is a normal 188-byte frame; record 2 (at 24 + 16 + 188 = 228) claims 1409179648 bytes.
        string path = CaptureCorpus.File("fuzz.pcap");
        using var reader = new CaptureReader(path);
        Assert.True(reader.TryRead(out CaptureFrame frame));
        Assert.Equal(188, frame.Data.Length);
        Assert.Equal(1508525002992213000, frame.TimestampNs);

        var e = Assert.Throws<CaptureFormatException>(() => reader.TryRead(out _));
        Assert.Equal(2, e.RecordNumber);
        Assert.Equal(228, e.Offset);
        Assert.Contains("record 2 at byte offset 228", e.Message);
        Assert.Contains("captured length 1409179648 exceeds the maximum of 262144", e.Message);
        AssertOneLineNaming(e, path);
    }

    [Fact]
    public void Pcapng_with_an_unknown_major_version_in_its_second_section_stops_there()
    {
        // le_test901: section 1 (v1.0) holds one EPB; section 2 (at 0x1E0) is v2.0, which cannot be parsed. libpcap
        // prints the first frame then "unknown pcapng savefile major version number 2"; we do the same.
        string path = CaptureCorpus.File("le_test901.pcapng");
        using var reader = new CaptureReader(path);
        Assert.True(reader.TryRead(out CaptureFrame frame));
        Assert.Equal(1340954905298858000, frame.TimestampNs);
        Assert.Equal(314, frame.Data.Length);

        var e = Assert.Throws<CaptureFormatException>(() => reader.TryRead(out _));
        Assert.Equal(0x1E0, e.Offset);
        Assert.Contains("unsupported pcapng version 2.0", e.Message);
        AssertOneLineNaming(e, path);
    }

    [Fact]
    public void Missing_file()
    {
        string path = Path.Combine(_scratch.Path, "no-such.pcap");
        var e = Assert.Throws<CaptureFormatException>(() => new CaptureReader(path));
        Assert.Contains("cannot open capture file", e.Message);
        Assert.IsType<FileNotFoundException>(e.InnerException);
        AssertOneLineNaming(e, path);
    }

    [Fact]
    public void Missing_directory()
    {
        string path = Path.Combine(_scratch.Path, "no-such-dir", "x.pcap");
        var e = Assert.Throws<CaptureFormatException>(() => new CaptureReader(path));
        AssertOneLineNaming(e, path);
    }

    [Fact]
    public void A_directory_instead_of_a_file()
    {
        var e = Assert.Throws<CaptureFormatException>(() => new CaptureReader(_scratch.Path));
        AssertOneLineNaming(e, _scratch.Path);
    }

    /// <summary>Hand-made files: bytes, and the message fragment each must produce.</summary>
    public static TheoryData<string, byte[], string> BadBytes => new()
    {
        // Zero-length file.
        { "empty-file", [], "file is empty" },

        // Shorter than any magic.
        { "three-bytes", [0xD4, 0xC3, 0xB2], "too short" },

        // Text, not a capture.
        { "text", "hello, world, this is not a capture file"u8.ToArray(), "not a pcap or pcapng file" },

        // pcap magic, then the header stops.
        { "cut-pcap-header", [0xD4, 0xC3, 0xB2, 0xA1, 0x02, 0x00, 0x04, 0x00], "truncated pcap file header: 8 of 24 bytes" },

        // The "modified pcap" (Kuznetzov) magic 0xA1B2CD34 is not supported.
        { "kuznetzov", [0x34, 0xCD, 0xB2, 0xA1, 0x02, 0x00, 0x04, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0], "not a pcap or pcapng file" },

        // pcapng SHB type, garbage Byte-Order Magic.
        { "bad-bom", [0x0A, 0x0D, 0x0D, 0x0A, 28, 0, 0, 0, 1, 2, 3, 4, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 28, 0, 0, 0], "bad Byte-Order Magic" },

        // pcapng SHB whose total length is not a multiple of 4.
        { "odd-length", [0x0A, 0x0D, 0x0D, 0x0A, 29, 0, 0, 0, 0x4D, 0x3C, 0x2B, 0x1A, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 29, 0, 0, 0, 0], "invalid block total length 29" },

        // pcapng SHB claiming 16 MiB + 4.
        { "huge-block", [0x0A, 0x0D, 0x0D, 0x0A, 4, 0, 0, 1, 0x4D, 0x3C, 0x2B, 0x1A, 1, 0, 0, 0], "exceeds the maximum of 16777216" },
    };

    [Theory]
    [MemberData(nameof(BadBytes))]
    public void Rejects_hand_made_bad_files(string name, byte[] bytes, string problem)
    {
        string path = Path.Combine(_scratch.Path, name);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<CaptureFormatException>(() => ReadAll(path));
        Assert.Contains(problem, e.Message);
        AssertOneLineNaming(e, path);
    }

    [Fact]
    public void Epb_referring_to_a_missing_interface()
    {
        // SHB (28 bytes) then an EPB for interface 3 with no IDB in the section.
        var bytes = new List<byte>();
        bytes.AddRange([0x0A, 0x0D, 0x0D, 0x0A, 28, 0, 0, 0, 0x4D, 0x3C, 0x2B, 0x1A, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 28, 0, 0, 0]);
        bytes.AddRange([6, 0, 0, 0, 32, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0, 0]);
        string path = Path.Combine(_scratch.Path, "no-idb.pcapng");
        File.WriteAllBytes(path, bytes.ToArray());

        var e = Assert.Throws<CaptureFormatException>(() => ReadAll(path));
        Assert.Contains("block 2 at byte offset 28: packet refers to interface 3 but the section has 0", e.Message);
    }

    [Fact]
    public void Epb_whose_captured_length_runs_past_its_block()
    {
        // SHB, IDB (Ethernet), then an EPB of 36 bytes (4 bytes of packet room) claiming 100 captured bytes.
        var bytes = new List<byte>();
        bytes.AddRange([0x0A, 0x0D, 0x0D, 0x0A, 28, 0, 0, 0, 0x4D, 0x3C, 0x2B, 0x1A, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 28, 0, 0, 0]);
        bytes.AddRange([1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0]);
        bytes.AddRange([6, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 100, 0, 0, 0, 1, 2, 3, 4, 36, 0, 0, 0]);
        string path = Path.Combine(_scratch.Path, "epb-overrun.pcapng");
        File.WriteAllBytes(path, bytes.ToArray());

        var e = Assert.Throws<CaptureFormatException>(() => ReadAll(path));
        Assert.Contains("block 3 at byte offset 48: captured length 100 runs past the end of the block", e.Message);
    }

    /// <summary>Valid files to cut at every length.</summary>
    public static TheoryData<string> PrefixSources => new()
    {
        "tcp.pcap",                       // LE µs pcap
        "bigendian.pcap",                 // BE pcap
        "get-to-ssh-server.pcap",         // ns pcap
        "le_test001.pcapng",              // LE pcapng
        "be_test001.pcapng",              // BE pcapng
        "pcapng-multi-interface.pcapng",  // two IDBs
        "le_test102.pcapng",              // every block type
    };

    /// <summary>
    /// Every prefix of a valid file (Kestrel's incomplete-request idea applied to files): a cut exactly between
    /// records reads cleanly with fewer frames; any other cut reads the complete records, then throws
    /// CaptureFormatException. The last record cut short is therefore an error, never a silent end of file.
    /// </summary>
    [Theory]
    [MemberData(nameof(PrefixSources))]
    public void Every_truncation_prefix_reads_the_complete_records_then_reports_the_cut(string file)
    {
        byte[] whole = File.ReadAllBytes(CaptureCorpus.File(file));
        List<long> boundaries = RecordBoundaries(CaptureCorpus.File(file), whole.Length, out int totalFrames);
        string path = Path.Combine(_scratch.Path, "prefix-" + file);

        for (int length = 0; length < whole.Length; length++)
        {
            File.WriteAllBytes(path, whole.AsSpan(0, length).ToArray());
            int frames = 0;
            CaptureFormatException? error = null;
            try
            {
                using var reader = new CaptureReader(path);
                while (reader.TryRead(out _))
                {
                    frames++;
                }
            }
            catch (CaptureFormatException e)
            {
                error = e;
            }

            bool atBoundary = boundaries.Contains(length);
            if (atBoundary)
            {
                Assert.True(error is null, $"{file} cut at {length} (a record boundary): unexpected error {error?.Message}");
            }
            else
            {
                Assert.True(error is not null, $"{file} cut at {length}: truncation not reported ({frames} frames read)");
                AssertOneLineNaming(error!, path);
            }

            Assert.True(frames <= totalFrames);
        }
    }

    /// <summary>
    /// Random byte corruption with fixed seeds (reproducible): whatever the damage, the reader either reads or
    /// throws CaptureFormatException.
    /// </summary>
    [Theory]
    [InlineData("tcp.pcap", 1)]
    [InlineData("get-to-ssh-server.pcap", 2)]
    [InlineData("le_test102.pcapng", 3)]
    [InlineData("le_test202.pcapng", 4)]
    [InlineData("pcapng-multi-interface.pcapng", 5)]
    public void Random_corruption_only_ever_gives_CaptureFormatException(string file, int seed)
    {
        byte[] whole = File.ReadAllBytes(CaptureCorpus.File(file));
        var random = new Random(seed);
        string path = Path.Combine(_scratch.Path, "corrupt-" + file);
        for (int round = 0; round < 300; round++)
        {
            byte[] bytes = (byte[])whole.Clone();
            int flips = 1 + random.Next(4);
            for (int f = 0; f < flips; f++)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            File.WriteAllBytes(path, bytes);
            try
            {
                ReadAll(path);
            }
            catch (CaptureFormatException e)
            {
                AssertOneLineNaming(e, path);
            }
        }
    }

    private static int ReadAll(string path)
    {
        using var reader = new CaptureReader(path);
        int frames = 0;
        while (reader.TryRead(out _))
        {
            frames++;
        }

        return frames;
    }

    /// <summary>
    /// File offsets at which a prefix of the file ends cleanly: after the file header / leading blocks, and after
    /// every record or block. Found by walking the format's own length fields, independently of CaptureReader.
    /// </summary>
    private static List<long> RecordBoundaries(string path, int fileLength, out int frames)
    {
        byte[] b = File.ReadAllBytes(path);
        var boundaries = new List<long>();
        frames = 0;
        uint magic = BitConverter.ToUInt32(b, 0);
        if (magic == 0x0A0D0D0A)
        {
            // pcapng: every block end is a boundary, except that a file must hold at least the first SHB.
            bool big = false;
            for (int offset = 0; offset < fileLength;)
            {
                uint type = Read32(b, offset, big);
                if (type == 0x0A0D0D0A)
                {
                    big = BitConverter.ToUInt32(b, offset + 8) == 0x4D3C2B1A;
                }

                int total = (int)Read32(b, offset + 4, big);
                offset += total;
                boundaries.Add(offset);
                if (type is 2 or 3 or 6)
                {
                    frames++;
                }
            }
        }
        else
        {
            bool big = magic is 0xD4C3B2A1 or 0x4D3CB2A1;
            for (int offset = 24; offset <= fileLength;)
            {
                boundaries.Add(offset);
                if (offset == fileLength)
                {
                    break;
                }

                offset += 16 + (int)Read32(b, offset + 8, big);
                frames++;
            }
        }

        return boundaries;
    }

    private static uint Read32(byte[] b, int offset, bool bigEndian)
    {
        uint v = BitConverter.ToUInt32(b, offset);
        return bigEndian ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v) : v;
    }

    private static void AssertOneLineNaming(CaptureFormatException e, string path)
    {
        Assert.StartsWith(path + ":", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain('\r', e.Message);
        Assert.Equal(path, e.FilePath);
    }
}
