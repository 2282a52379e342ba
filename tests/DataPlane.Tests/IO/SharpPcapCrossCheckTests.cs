using DataPlane.IO.Pcap;
using DataPlane.Tests.Infrastructure;
using SharpPcap;
using SharpPcap.LibPcap;

namespace DataPlane.Tests.IO;

/// <summary>
/// Cross-check against libpcap through SharpPcap: the same files read by both must give the same frames, bytes and
/// nanosecond timestamps, and files written by CaptureWriter must read back through libpcap.
/// </summary>
/// <remarks>
/// These tests need the native libpcap (Debian package libpcap0.8, which the test command installs). Without it they
/// FAIL with a message saying so rather than skip: a silently skipped oracle is no oracle.
/// </remarks>
public sealed class SharpPcapCrossCheckTests : IDisposable
{
    readonly TempDir _scratch = new("io");

    public void Dispose() => _scratch.Dispose();

    /// <summary>
    /// Corpus files where libpcap and CaptureReader are expected to differ, and why. Everything else must agree
    /// frame for frame, including where reading stops.
    /// </summary>
    private static readonly Dictionary<string, string> s_knownDifferences = new(StringComparer.Ordinal)
    {
        // libpcap clamps a record longer than the header SnapLen (1) to the SnapLen; we hand out all 8 stored bytes.
        ["trunc-hdr.pcap"] = "record longer than SnapLen",

        // libpcap refuses a pcapng file whose interfaces have different link types; we read them, per-frame link type.
        ["le_test006.pcapng"] = "mixed link types",
        ["le_test102.pcapng"] = "mixed link types",
        ["le_test202.pcapng"] = "mixed link types",

        // libpcap refuses a pcapng file with no IDB at all; we read it as zero frames.
        ["le_test002.pcapng"] = "no IDB",

        // libpcap reports the reserved link-type bits only as an unknown link type (tcpdump: "unknown data link type
        // 3145728"); the header has no records, and we reject it at open (draft-ietf-opsawg-pcap section 4).
        ["linktype-reserved-field-not-zero.pcap"] = "reserved link-type bits",

        // Fuzzer output with pcap version 2.0: libpcap accepts versions up to 2.4 and returns one garbage record
        // (caplen 524501 in a 239-byte file) before failing; we accept only 2.4 and refuse the header.
        ["fuzz-2021-10-13.pcap"] = "pcap version 2.0",
    };

    [Fact]
    public void Every_corpus_file_reads_the_same_through_libpcap()
    {
        RequireLibpcap();
        int compared = 0;
        foreach (string path in Directory.EnumerateFiles(CaptureCorpus.Directory))
        {
            string name = Path.GetFileName(path);
            if ((!name.EndsWith(".pcap", StringComparison.Ordinal) && !name.EndsWith(".pcapng", StringComparison.Ordinal))
                || s_knownDifferences.ContainsKey(name))
            {
                continue;
            }

            List<Record> theirs = ReadWithLibpcap(path, out bool theirError);
            List<Record> ours = ReadWithCaptureReader(path, out bool ourError);
            Assert.True(theirs.Count == ours.Count, $"{name}: libpcap read {theirs.Count} frames, CaptureReader {ours.Count}");
            for (int i = 0; i < ours.Count; i++)
            {
                Assert.True(theirs[i].TimestampNs == ours[i].TimestampNs, $"{name} frame {i + 1}: timestamp libpcap {theirs[i].TimestampNs}, ours {ours[i].TimestampNs}");
                Assert.True(theirs[i].OriginalLength == ours[i].OriginalLength, $"{name} frame {i + 1}: original length libpcap {theirs[i].OriginalLength}, ours {ours[i].OriginalLength}");
                Assert.True(theirs[i].Data.AsSpan().SequenceEqual(ours[i].Data), $"{name} frame {i + 1}: bytes differ");
            }

            // Where libpcap stops with an error (fuzz.pcap, le_test901.pcapng, bad versions), so must we.
            Assert.True(theirError == ourError, $"{name}: libpcap error={theirError}, CaptureReader error={ourError}");
            compared++;
        }

        Assert.True(compared >= 100, $"only {compared} files compared");
    }

    [Theory]
    [InlineData(CaptureTimestampResolution.Microsecond)]
    [InlineData(CaptureTimestampResolution.Nanosecond)]
    public void Files_written_by_CaptureWriter_read_back_through_libpcap(CaptureTimestampResolution resolution)
    {
        RequireLibpcap();
        string path = Path.Combine(_scratch.Path, $"written-{resolution}.pcap");
        var frames = new List<Record>();
        using (var writer = new CaptureWriter(path, LinkType.Ethernet, resolution))
        {
            for (int i = 0; i < 50; i++)
            {
                byte[] data = new byte[60 + (i * 37 % 1454)];
                new Random(i).NextBytes(data);
                long ts = 1_700_000_000_000_000_000L + i * 1_234_567_891L;
                writer.Write(data, ts);
                long stored = resolution == CaptureTimestampResolution.Microsecond ? ts / 1000 * 1000 : ts;
                frames.Add(new Record(stored, data.Length, data));
            }
        }

        List<Record> theirs = ReadWithLibpcap(path, out bool error);
        Assert.False(error, "libpcap reported an error reading a CaptureWriter file");
        Assert.Equal(frames.Count, theirs.Count);
        for (int i = 0; i < frames.Count; i++)
        {
            Assert.Equal(frames[i].TimestampNs, theirs[i].TimestampNs);
            Assert.Equal(frames[i].OriginalLength, theirs[i].OriginalLength);
            Assert.Equal(frames[i].Data, theirs[i].Data);
        }
    }

    private sealed record Record(long TimestampNs, int OriginalLength, byte[] Data);

    /// <summary>Fails (does not skip) when libpcap cannot be loaded, naming the package that provides it.</summary>
    private static void RequireLibpcap()
    {
        string version = Pcap.Version;
        Assert.True(
            !version.Contains("can't be identified", StringComparison.Ordinal),
            $"libpcap is not loadable (SharpPcap says: {version}). Install it: apt-get install -y --no-install-recommends libpcap0.8");
    }

    private static List<Record> ReadWithLibpcap(string path, out bool error)
    {
        var records = new List<Record>();
        error = false;
        using var device = new CaptureFileReaderDevice(path);
        try
        {
            // Nanosecond resolution so libpcap hands over full ns timestamps for ns files and pcapng if_tsresol 9.
            device.Open(new DeviceConfiguration { TimestampResolution = TimestampResolution.Nanosecond });
        }
        catch (DllNotFoundException e)
        {
            Assert.Fail($"libpcap is not loadable ({e.Message.Split('\n')[0]}). Install it: apt-get install -y --no-install-recommends libpcap0.8");
            throw;
        }
        catch (PcapException)
        {
            error = true;   // libpcap refused the header
            return records;
        }

        while (true)
        {
            GetPacketStatus status = device.GetNextPacket(out PacketCapture capture);
            if (status == GetPacketStatus.PacketRead)
            {
                var header = (PcapHeader)capture.Header;
                long ns = (long)(capture.Header.Timeval.Value * 1_000_000_000m);
                records.Add(new Record(ns, (int)Math.Min(header.PacketLength, int.MaxValue), capture.Data.ToArray()));
            }
            else
            {
                // NoRemainingPackets is a clean end; Error is libpcap's "truncated dump file" / "invalid capture length".
                error = status == GetPacketStatus.Error;
                return records;
            }
        }
    }

    private static List<Record> ReadWithCaptureReader(string path, out bool error)
    {
        var records = new List<Record>();
        error = false;
        try
        {
            using var reader = new CaptureReader(path);
            while (reader.TryRead(out CaptureFrame frame))
            {
                records.Add(new Record(frame.TimestampNs, frame.OriginalLength, frame.Data.ToArray()));
            }
        }
        catch (CaptureFormatException)
        {
            error = true;
        }

        return records;
    }
}
