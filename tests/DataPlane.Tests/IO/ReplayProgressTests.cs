using System.Diagnostics;
using DataPlane.FixtureBuilder;
using DataPlane.IO.Pcap;
using DataPlane.IO.Replay;
using DataPlane.Kubernetes;
using DataPlane.Maps;
using DataPlane.Pipeline;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.IO;

/// <summary>
/// Issue 19 item 4: a long replay shows its progress on stderr (a live line on a terminal, plain lines otherwise),
/// never on stdout, and the live line is gone when the summary is printed.
/// </summary>
public sealed class ReplayProgressTests : IDisposable
{
    readonly TempDir _tmp = new("progress");

    public void Dispose() => _tmp.Dispose();

    static readonly byte[] Query = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1];

    /// <summary><paramref name="n"/> datagrams to kube-system/dns from 50 000 flows, 1 µs apart.</summary>
    string Capture(string name, int n)
    {
        string path = Path.Combine(_tmp.Path, name);
        using var w = new CaptureWriter(path);
        byte[][] frames = [.. Enumerable.Range(0, 50_000).Select(i => Frames.UdpFrame($"10.244.1.{1 + i / 10_000}", (ushort)(10_000 + i % 10_000), "10.96.0.53", 53, Query))];
        for (int i = 0; i < n; i++) w.Write(frames[i % frames.Length], 1_000_000_000L + i * 1_000L);
        return path;
    }

    [Fact]
    public void The_line_gives_frames_share_rate_eta_and_drops()
    {
        Assert.Equal("replay: 1,234,567 frames, 45%, 617.3 k frames/s, ETA 0:02, 1,234 dropped",
                     ReplayProgress.Line(1_234_567, 450, 1000, 1234, TimeSpan.FromSeconds(2)));
        Assert.Equal("replay: 10 frames, 5 frames/s, 0 dropped", ReplayProgress.Line(10, 0, -1, 0, TimeSpan.FromSeconds(2)));
        Assert.Equal("replay: 2,000,000 frames, 10%, 1.0 M frames/s, ETA 0:18, 3 dropped",
                     ReplayProgress.Line(2_000_000, 10, 100, 3, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void Plain_lines_follow_the_batches_to_the_end_of_the_file()
    {
        string input = Capture("plain.pcap", 40_000);
        var err = new StringWriter();
        using var p = new PacketPipeline(new MapSetHolder(ControlPlane.LoadAndCompile(Repo.Cluster, "node-1")), new PipelineOptions { CtCapacity = 1 << 17 });
        using var workers = WorkerSet.Over(p);
        ReplaySummary s = ReplaySession.Run(input, null, null, workers, null, new ReplayProgress(err, live: false, TimeSpan.Zero));
        string[] lines = err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // One line per batch of 16 384 frames: 16 384, 32 768, then the last 7 232 at the end of the file.
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("replay: 16,384 frames, ", lines[0]);
        Assert.StartsWith("replay: 32,768 frames, ", lines[1]);
        Assert.StartsWith("replay: 40,000 frames, 100%, ", lines[2]);
        Assert.All(lines, l => Assert.EndsWith(", 0 dropped", l));
        Assert.Equal(40_000, s.Frames);
    }

    [Fact]
    public void A_live_line_is_redrawn_in_place_and_erased_at_the_end()
    {
        var err = new StringWriter();
        var progress = new ReplayProgress(err, live: true, TimeSpan.Zero);
        progress.Batch(100, 10, 100, 0);
        progress.Batch(200, 20, 100, 1);
        progress.Done();
        string text = err.ToString();
        Assert.DoesNotContain("\n", text);
        string[] draws = text.Split('\r', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("replay: 100 frames, 10%", draws[0]);
        Assert.StartsWith("replay: 200 frames, 20%", draws[1]);
        Assert.Equal(draws[1].Length, draws[2].Length); // the erasure covers the longest line drawn
        Assert.True(string.IsNullOrWhiteSpace(draws[2]));
    }

    [Fact]
    public void Non_terminal_replays_print_nothing_on_stdout_but_the_summary()
    {
        string input = Capture("cli.pcap", 20_000);
        var r = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", "-q", "--progress", "always", input);
        Assert.Equal(0, r.ExitCode);
        Assert.DoesNotContain("ETA ", r.Stdout);
        Assert.DoesNotContain("replay: ", r.Stdout);
        var never = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", "-q", "--progress", "never", input);
        Assert.Equal(string.Empty, never.Stderr);
        Assert.Equal(r.Stdout.Split('\n').Length, never.Stdout.Split('\n').Length);
    }

    /// <summary>
    /// As a person meets it: replay in a terminal (tmux), the pane polled while it runs. The live line shows up
    /// (frames, share, rate) and is gone from the screen once the summary is printed.
    /// </summary>
    [Fact]
    public void In_a_terminal_the_live_line_shows_while_replaying_and_is_gone_after()
    {
        string input = Capture("tty.pcap", 1_000_000);
        string session = "dp-progress-" + Environment.ProcessId;
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        string cmd = $"'{host}' '{CliTests.CliDll()}' replay --cluster '{Repo.Cluster}' --node node-1 -q --ct-max 131072 --verdicts /dev/null '{input}'; echo EXIT=$?; sleep 60";
        Tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "40", cmd);
        try
        {
            bool seen = false;
            string pane = "";
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(120))
            {
                pane = Tmux("capture-pane", "-p", "-t", session);
                if (pane.Contains("replay: ", StringComparison.Ordinal) && pane.Contains(" frames/s, ETA ", StringComparison.Ordinal)) seen = true;
                if (pane.Contains("EXIT=", StringComparison.Ordinal)) break;
                Thread.Sleep(50);
            }
            Assert.True(seen, "the progress line never showed in the terminal:\n" + pane);
            Assert.Contains("EXIT=0", pane);
            Assert.DoesNotContain("ETA ", pane);
            Assert.Contains(SummaryMark, pane); // the summary, on stdout, is what stays
        }
        finally
        {
            Tmux("kill-session", "-t", session);
        }
    }

    /// <summary>The summary's first line, which stays on the screen.</summary>
    const string SummaryMark = "tty.pcap: 1000000 frames";

    static string Tmux(params string[] args)
    {
        var psi = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string o = p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return o;
    }
}
