using DataPlane.IO.Pcap;

namespace DataPlane.Tests.IO;

/// <summary>
/// Reads real captures from the corpus (pcaps/corpus) and checks every frame against what
/// <c>tcpdump --nano -r FILE -tt -nn -e -xx</c> (libpcap 1.10.3) reported: timestamps to the nanosecond, captured length
/// (bytes of the hex dump) and original length ("length N"). The numbers are hard-coded; the tests do not run tcpdump.
/// </summary>
public sealed class CaptureReaderCorpusTests
{
    /// <summary>One expected file: format, byte order, link type, and per frame: timestamp, captured and wire length.</summary>
    public static TheoryData<string, CaptureFileFormat, bool, LinkType, long[], int[], int[]> ReadableFiles => new()
    {
        // Little-endian µs pcap cut at snaplen 96: captured < original on the data segments; timestamps not monotonic
        // (frames 8 and 10 are earlier than 7 and 9), which the reader must pass through untouched.
        {
            "tcp.pcap", CaptureFileFormat.Pcap, false, LinkType.Ethernet,
            [
                1071580904891921000, 1071580905035577000, 1071580905035724000, 1071580905037333000,
                1071580905181581000, 1071580905184528000, 1071580905184844000, 1071580905184698000,
                1071580905184920000, 1071580905184736000, 1071580905203025000, 1071580905346457000,
            ],
            [74, 74, 66, 96, 66, 96, 66, 96, 66, 66, 66, 66],
            [74, 74, 66, 562, 66, 1514, 66, 349, 66, 66, 66, 66]
        },

        // Big-endian µs pcap (magic stored a1 b2 c3 d4).
        { "bigendian.pcap", CaptureFileFormat.Pcap, true, LinkType.Ethernet, [1335958313152630000, 1335958317529201000], [98, 98], [98, 98] },
        { "unaligned-nfs-1.pcap", CaptureFileFormat.Pcap, true, LinkType.Ethernet, [1440444096913318000], [182], [182] },

        // Nanosecond magic (stored 4d 3c b2 a1); the fraction is already in ns.
        {
            "get-to-ssh-server.pcap", CaptureFileFormat.Pcap, false, LinkType.Ethernet,
            [
                1770126425732560000, 1770126425733357000, 1770126425879407000, 1770126425884708000, 1770126425885330000,
                1770126425898127000, 1770126425899407000, 1770126426041010000, 1770126426041811000,
            ],
            [74, 74, 66, 671, 66, 87, 66, 66, 60],
            [74, 74, 66, 671, 66, 87, 66, 66, 60]
        },

        // LINKTYPE_RAW: link type passed through, no L2 header.
        { "LINKTYPE_RAW_ipv4.pcap", CaptureFileFormat.Pcap, false, LinkType.Raw, [1751997551951226000], [57], [57] },

        // 80066-byte BIG TCP frame: a record far larger than an MTU.
        { "bigtcp-ipv4.pcap", CaptureFileFormat.Pcap, false, LinkType.Ethernet, [1759417540030951000], [80066], [80066] },

        // SnapLen 1 in the header but an 8-byte record. libpcap clamps the record to the SnapLen (tcpdump prints 1 byte);
        // we, like Wireshark, hand out the 8 bytes that are in the file (SnapLen is advisory, see CaptureReader.Pcap.cs).
        { "trunc-hdr.pcap", CaptureFileFormat.Pcap, false, LinkType.Ethernet, [1404148886981015000], [8], [78] },

        // Header only.
        { "empty.pcap", CaptureFileFormat.Pcap, false, LinkType.Ethernet, [], [], [] },

        // pcapng little- and big-endian, same four DHCP frames with all-zero timestamps.
        { "le_test001.pcapng", CaptureFileFormat.PcapNg, false, LinkType.Ethernet, [0, 0, 0, 0], [314, 342, 314, 342], [314, 342, 314, 342] },
        { "be_test001.pcapng", CaptureFileFormat.PcapNg, true, LinkType.Ethernet, [0, 0, 0, 0], [314, 342, 314, 342], [314, 342, 314, 342] },

        // Simple Packet Blocks: no timestamp (0), length from the block.
        { "le_test010.pcapng", CaptureFileFormat.PcapNg, false, LinkType.Ethernet, [0, 0, 0, 0], [314, 342, 314, 342], [314, 342, 314, 342] },

        // Binary if_tsresol 0x88 = 2^-8 s: .1953125 s exactly.
        { "le_test902.pcapng", CaptureFileFormat.PcapNg, false, LinkType.Ethernet, [1519128000195312500], [314], [314] },

        // Two IDBs: the first with if_tsresol 9 (ns), the second with the default µs.
        {
            "pcapng-multi-interface.pcapng", CaptureFileFormat.PcapNg, false, LinkType.Ethernet,
            [1767663089500330493, 1767663089514291940, 1767663437111897000, 1767663437126460000, 1767663437128303000, 1767663437140942000],
            [96, 214, 70, 166, 70, 182],
            [96, 214, 70, 166, 70, 182]
        },

        { "rarp_req_reply.pcapng", CaptureFileFormat.PcapNg, false, LinkType.Ethernet, [1386259199430926000, 1386259199432926000], [42, 42], [42, 42] },

        // SHB and IDB only.
        { "empty.pcapng", CaptureFileFormat.PcapNg, false, LinkType.Ethernet, [], [], [] },

        // SHB only, no IDB: readable, no frames, link type unknown (tcpdump refuses: "no Interface Description Blocks").
        { "le_test002.pcapng", CaptureFileFormat.PcapNg, false, LinkType.Unknown, [], [], [] },
    };

    [Theory]
    [MemberData(nameof(ReadableFiles))]
    public void Reads_every_frame_as_tcpdump_reports_it(
        string file, CaptureFileFormat format, bool bigEndian, LinkType linkType, long[] timestampsNs, int[] captured, int[] original)
    {
        using var reader = new CaptureReader(CaptureCorpus.File(file));
        Assert.Equal(format, reader.Format);
        Assert.Equal(bigEndian, reader.IsBigEndian);
        Assert.Equal(linkType, reader.LinkType);

        int i = 0;
        while (reader.TryRead(out CaptureFrame frame))
        {
            Assert.True(i < timestampsNs.Length, $"{file}: more than {timestampsNs.Length} frames");
            Assert.Equal(timestampsNs[i], frame.TimestampNs);
            Assert.Equal(captured[i], frame.Data.Length);
            Assert.Equal(original[i], frame.OriginalLength);
            Assert.Equal(linkType, frame.LinkType);
            i++;
        }

        Assert.Equal(timestampsNs.Length, i);
        Assert.Equal(i, reader.FramesRead);

        // End of file is sticky: asking again stays false, no exception.
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public void Tcp_pcap_header_fields_and_first_frame_bytes()
    {
        using var reader = new CaptureReader(CaptureCorpus.File("tcp.pcap"));
        Assert.Equal(96, reader.SnapLength);
        Assert.True(reader.TryRead(out CaptureFrame frame));

        // tcpdump -e: 00:60:97:94:82:df > 00:00:0c:07:ac:01, ethertype IPv4 (0x0800).
        Assert.Equal(new byte[] { 0x00, 0x00, 0x0c, 0x07, 0xac, 0x01, 0x00, 0x60, 0x97, 0x94, 0x82, 0xdf, 0x08, 0x00 }, frame.Data.Slice(0, 14).ToArray());
        Assert.False(frame.IsTruncated);
        Assert.Equal(0, frame.InterfaceId);
    }

    [Fact]
    public void Multi_interface_pcapng_reports_the_interface_of_each_frame()
    {
        using var reader = new CaptureReader(CaptureCorpus.File("pcapng-multi-interface.pcapng"));
        var interfaces = new List<int>();
        while (reader.TryRead(out CaptureFrame frame))
        {
            interfaces.Add(frame.InterfaceId);
        }

        // Two merged captures: the first two frames from the ns interface, the other four from the µs one.
        Assert.Equal([0, 0, 1, 1, 1, 1], interfaces);
    }

    /// <summary>
    /// Files libpcap refuses because their interfaces have different link types ("an interface has a type 0 different
    /// from the type of the first interface"); Wireshark's capinfos counts the packets given here. We read them:
    /// each frame carries its interface's link type.
    /// </summary>
    [Theory]
    [InlineData("le_test006.pcapng", 5)]   // two IDBs (EN10MB, NULL), snaplen 96
    [InlineData("le_test102.pcapng", 5)]   // every block type intermixed: custom, NRB, ISB, SPB, EPB
    [InlineData("le_test202.pcapng", 8)]   // several sections with different byte orders
    public void Reads_mixed_link_type_pcapng_files(string file, int frames)
    {
        using var reader = new CaptureReader(CaptureCorpus.File(file));
        int count = 0;
        bool sawNull = false, sawEthernet = false;
        while (reader.TryRead(out CaptureFrame frame))
        {
            count++;
            sawNull |= frame.LinkType == LinkType.Null;
            sawEthernet |= frame.LinkType == LinkType.Ethernet;
            Assert.True(frame.Data.Length <= frame.OriginalLength);
        }

        Assert.Equal(frames, count);
        Assert.True(sawNull && sawEthernet, "expected frames from both the NULL and the Ethernet interface");
    }

    [Fact]
    public void Reads_every_file_of_the_corpus_without_another_exception_type()
    {
        // The whole corpus, including the fuzzer outputs: each file either reads to a clean end or stops with
        // CaptureFormatException. Anything else (IndexOutOfRange, OverflowException, OutOfMemory...) is a reader bug.
        int files = 0;
        foreach (string path in Directory.EnumerateFiles(CaptureCorpus.Directory))
        {
            if (!path.EndsWith(".pcap", StringComparison.Ordinal) && !path.EndsWith(".pcapng", StringComparison.Ordinal))
            {
                continue;
            }

            files++;
            try
            {
                using var reader = new CaptureReader(path);
                while (reader.TryRead(out CaptureFrame frame))
                {
                    Assert.True(frame.Data.Length <= CaptureReader.MaxBlockLength);
                }
            }
            catch (CaptureFormatException e)
            {
                Assert.Contains(Path.GetFileName(path), e.Message);
            }
        }

        Assert.True(files >= 100, $"only {files} capture files found in {CaptureCorpus.Directory}");
    }
}
