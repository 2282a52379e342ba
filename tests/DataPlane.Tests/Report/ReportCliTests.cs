using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Report;

/// <summary><c>replay --report</c> through the built CLI: the page is written and stdout does not change; with --explain it is refused.</summary>
public sealed class ReportCliTests : IDisposable
{
    readonly TempDir _tmp = new("report-cli");

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void Replay_with_a_report_prints_what_it_prints_without_one_and_writes_the_page()
    {
        string dir = Path.Combine(Repo.Cases, "015-endpoint-change"), page = _tmp.File("r.html");
        string[] args = ["replay", "--cluster", Repo.Cluster, "--node", "node-1", "input.pcap", "--apply-at", "5=apply-5s.yaml", "--apply-at", "10=apply-10s.yaml"];
        CliTests.Result plain = CliTests.RunIn(dir, args);
        CliTests.Result reported = CliTests.RunIn(dir, [.. args, "--report", page]);
        Assert.Equal(0, reported.ExitCode);
        Assert.Equal(plain.Stdout, reported.Stdout);
        Assert.Equal(plain.Stderr, reported.Stderr);
        string html = File.ReadAllText(page);
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("id=\"report-data\"", html);
    }

    [Fact]
    public void Report_with_explain_is_a_one_line_usage_error_and_writes_nothing()
    {
        string page = _tmp.File("r.html");
        CliTests.Result r = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1",
            Path.Combine(Repo.Cases, "001-clusterip-tcp", "input.pcap"), "--explain", "1", "--report", page);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("dataplane: error: --report: not with --explain (an explained replay stops at its frame and writes nothing)", Assert.Single(r.StderrLines));
        Assert.False(File.Exists(page));
    }

    [Fact]
    public void A_replay_that_fails_leaves_no_empty_page_behind()
    {
        string page = _tmp.File("r.html"), bad = _tmp.File("bad.pcap");
        File.WriteAllBytes(bad, [1, 2, 3, 4, 5, 6, 7, 8]);
        CliTests.Result r = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", bad, "--report", page);
        Assert.NotEqual(0, r.ExitCode);
        Assert.False(File.Exists(page));
    }
}
