using System.Diagnostics;
using DataPlane.FixtureBuilder;
using DataPlane.IO.Pcap;
using DataPlane.IO.Text;
using DataPlane.IO.Replay;
using DataPlane.Kubernetes;
using DataPlane.Maps;
using DataPlane.Pipeline;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.IO;

/// <summary>
/// Replay around the pipeline: a corrupt record after many good ones, a FIFO or a directory as the capture, a flow
/// report that stays bounded, conntrack listings that do not show expired connections.
/// </summary>
public sealed class ReplayRobustnessTests : IDisposable
{
    readonly TempDir _tmp = new("replay");

    public void Dispose()
    {
        _tmp.Dispose();
    }

    static PacketPipeline NewPipeline(int ct = 1 << 12) =>
        new(new MapSetHolder(ControlPlane.LoadAndCompile(Repo.Cluster, "node-1")), new PipelineOptions { CtCapacity = ct });

    static readonly byte[] Query = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1];

    /// <summary>N datagrams to kube-system/dns, each from its own port (a new flow each), 1 ms apart.</summary>
    string WriteFlows(string name, int n, Action<CaptureWriter>? after = null)
    {
        string path = Path.Combine(_tmp.Path, name);
        using (var w = new CaptureWriter(path))
        {
            for (int i = 0; i < n; i++)
                w.Write(Frames.UdpFrame($"10.244.{1 + i / 60000}.5", (ushort)(1024 + i % 60000), "10.96.0.53", 53, Query), 1_000_000_000L + i * 1_000_000L);
            after?.Invoke(w);
        }
        return path;
    }

    /// <summary>20 000 good frames then a record header claiming more than the maximum record length.</summary>
    string CorruptAfter20000()
    {
        string path = WriteFlows("corrupt.pcap", 20_000);
        using var f = new FileStream(path, FileMode.Append);
        Span<byte> header = stackalloc byte[16];
        BitConverter.TryWriteBytes(header[8..], (uint)(CaptureReader.MaxRecordLength + 1));
        BitConverter.TryWriteBytes(header[12..], (uint)(CaptureReader.MaxRecordLength + 1));
        f.Write(header);
        return path;
    }

    [Fact]
    public void A_corrupt_record_after_20000_good_frames_keeps_their_verdicts_and_output_then_fails()
    {
        string input = CorruptAfter20000(), output = Path.Combine(_tmp.Path, "out.pcap"), verdicts = Path.Combine(_tmp.Path, "v.jsonl");
        var e = Assert.Throws<CaptureFormatException>(() => ReplaySession.Run(input, output, verdicts, NewPipeline(1 << 15)));
        Assert.Contains("record 20001", e.Message);
        string[] lines = File.ReadAllLines(verdicts);
        Assert.Equal(20_000, lines.Length);
        Assert.All(lines, l => Assert.Contains("\"verdict\":\"forward\"", l));
        // The output capture was flushed and closed: it reads back whole, one frame per forwarded input.
        using var r = new CaptureReader(output);
        int n = 0;
        while (r.TryRead(out _)) n++;
        Assert.Equal(20_000, n);
    }

    [Fact]
    public void A_corrupt_record_through_the_cli_gives_all_verdicts_then_one_error_line_and_exit_1()
    {
        string input = CorruptAfter20000(), verdicts = Path.Combine(_tmp.Path, "cli.jsonl");
        var r = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", "--ct-max", "32768", "-q", input, "-o", Path.Combine(_tmp.Path, "cli.pcap"), "--verdicts", verdicts);
        string error = CliTests.AssertOneLineError(r);
        Assert.Contains("corrupt.pcap", error);
        Assert.Equal(20_000, File.ReadAllLines(verdicts).Length);
    }

    [Fact]
    public async Task A_fifo_is_read_as_a_stream()
    {
        string source = WriteFlows("source.pcap", 300);
        string fifo = Path.Combine(_tmp.Path, "capture.fifo");
        using (var mk = Process.Start("mkfifo", [fifo])) mk.WaitForExit();
        Assert.True(File.Exists(fifo));
        // The writer side, as `cat x.pcap > fifo &` would be.
        var writer = Task.Run(() =>
        {
            using var f = new FileStream(fifo, FileMode.Open, FileAccess.Write);
            byte[] bytes = File.ReadAllBytes(source);
            for (int i = 0; i < bytes.Length; i += 1000) f.Write(bytes, i, Math.Min(1000, bytes.Length - i)); // in pieces
        });
        string verdicts = Path.Combine(_tmp.Path, "fifo.jsonl");
        ReplaySummary s = ReplaySession.Run(fifo, null, verdicts, NewPipeline());
        await writer.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(300, s.Frames);
        Assert.Equal(300, s.ByVerdict[Verdict.Forward]);
    }

    [Fact]
    public void A_directory_is_reported_as_a_directory()
    {
        var e = Assert.Throws<CaptureFormatException>(() => new CaptureReader(_tmp.Path));
        Assert.Contains("is a directory", e.Message);
        Assert.DoesNotContain("denied", e.Message);
        var r = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", _tmp.Path);
        Assert.Contains("is a directory", CliTests.AssertOneLineError(r));
    }

    [Fact]
    public void The_flow_report_keeps_a_bounded_number_of_rows_and_counts_the_rest()
    {
        // 3000 new flows, then frames of an untracked kind (to an address no service has): more than the report keeps.
        string input = WriteFlows("many.pcap", 3000, w =>
        {
            for (int i = 0; i < 500; i++) w.Write(Frames.UdpFrame("10.244.1.5", (ushort)(2000 + i), "198.51.100.1", 9, Query), 5_000_000_000L + i);
        });
        ReplaySummary s = ReplaySession.Run(input, null, null, NewPipeline());
        Assert.Equal(FlowReport.MaxRows, s.Flows.Rows);
        Assert.Equal(2000, s.Flows.UnlistedFlows);
        Assert.Equal(2500, s.Flows.UnlistedFrames);
        var text = new StringWriter();
        s.Flows.Print(text);
        string[] printed = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(FlowReport.MaxRows + 1, printed.Length);
        Assert.Equal("  ... not listed (the report keeps the first 1000 rows): 2000 more tracked flows (2000 frames), 500 frames of other traffic", printed[^1]);

        // Every frame of a listed flow is still counted in its row.
        var small = new FlowReport(maxRows: 2);
        var first = new PacketResult { Verdict = Verdict.Forward, FlowId = 7, NewFlow = true, HasTuple = true };
        var again = first with { NewFlow = false };
        MapSet maps = ControlPlane.LoadAndCompile(Repo.Cluster, "node-1");
        small.Add(1, first, maps);
        small.Add(2, first with { FlowId = 8 }, maps);
        small.Add(3, first with { FlowId = 9 }, maps);
        small.Add(4, again, maps);
        small.Add(5, again with { FlowId = 9 }, maps);
        Assert.Equal((2, 1L, 2L), (small.Rows, small.UnlistedFlows, small.UnlistedFrames));
        var t = new StringWriter();
        small.Print(t);
        Assert.Contains("[2 frames, first #1]", t.ToString());
    }

    [Fact]
    public void Expired_connections_the_gc_has_not_reached_are_not_counted_or_listed()
    {
        PacketPipeline p = NewPipeline();
        byte[] reply = new byte[2048];
        // Two UDP flows (60 s timeout): one at t = 1 s, one at t = 50 s. No packet after that, so no GC step runs.
        byte[] a = Frames.UdpFrame("203.0.113.9", 40000, "10.96.0.53", 53, Query), b = Frames.UdpFrame("203.0.113.9", 40001, "10.96.0.53", 53, Query);
        Assert.Equal(Verdict.Forward, p.Process(a, 1_000_000_000L, reply, out PacketResult _));
        Assert.Equal(Verdict.Forward, p.Process(b, 50_000_000_000L, reply, out PacketResult _));
        Assert.Equal(2, p.Conntrack.Count); // both still in the table

        long at = 70_000_000_000L; // the first expired at 61 s, the second is alive until 110 s
        Assert.Equal(1, ConntrackListing.LiveCount(p.Conntrack, at));
        var ct = new StringWriter();
        ConntrackListing.WriteCt(ct, p.Conntrack, p.Maps, at);
        string[] rows = ct.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(rows);
        Assert.Contains("sport=40001", rows[0]);
        var nat = new StringWriter();
        ConntrackListing.WriteNat(nat, p.Conntrack, at);
        Assert.Equal(2, nat.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // OUT and IN of the live one
        Assert.DoesNotContain(":40000", nat.ToString());
        Assert.Equal(0, ConntrackListing.LiveCount(p.Conntrack, 200_000_000_000L));
    }

    [Fact]
    public void The_replay_summary_counts_live_flows_at_the_capture_end()
    {
        // One flow at 0 s, another at 100 s: the first has expired (60 s) by the last frame, whether or not the
        // GC collected it.
        string path = Path.Combine(_tmp.Path, "two.pcap");
        using (var w = new CaptureWriter(path))
        {
            w.Write(Frames.UdpFrame("203.0.113.9", 40000, "10.96.0.53", 53, Query), 1_000_000_000L);
            w.Write(Frames.UdpFrame("203.0.113.9", 40001, "10.96.0.53", 53, Query), 101_000_000_000L);
        }
        var r = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", "-q", "--dump-ct", path);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("conntrack: 1 live flow\n", r.Stdout.ReplaceLineEndings("\n"));
        Assert.Contains("sport=40001", r.Stdout);
        Assert.DoesNotContain("sport=40000", r.Stdout);
    }
}
