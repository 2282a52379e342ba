using DataPlane.IO.Replay;
using DataPlane.IO.Text;
using DataPlane.Kubernetes;
using DataPlane.Maps;
using DataPlane.Pipeline;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.IO;

/// <summary>
/// Issue 19 item 2: a capture whose replies come from a backend the replay's draw did not pick used to give
/// <c>pass=2 drop=2 (ct-invalid)</c> with nothing saying why (<c>replay … 011-ct-lifecycle/input.pcap --seed 2</c>).
/// The summary now names the backend and the option; <c>--backends follow</c> takes the backend the capture shows.
/// </summary>
public sealed class BackendFollowTests : IDisposable
{
    readonly TempDir _tmp = new("follow");

    public void Dispose() => _tmp.Dispose();

    static string Case(string id) => Path.Combine(Repo.Cases, id, "input.pcap");

    static ReplaySummary Replay(string input, ulong seed, bool follow, string? output = null, string? verdicts = null)
    {
        using var p = new PacketPipeline(new MapSetHolder(ControlPlane.LoadAndCompile(Repo.Cluster, "node-1")), new PipelineOptions { Seed = seed });
        using var workers = WorkerSet.Over(p);
        return ReplaySession.Run(input, output, verdicts, workers, null, null, follow);
    }

    [Fact]
    public void A_draw_that_differs_from_the_capture_is_named_in_the_summary()
    {
        ReplaySummary s = Replay(Case("011-ct-lifecycle"), seed: 2, follow: false);
        Assert.Equal(2, s.ByReason.GetValueOrDefault(DropReason.CtInvalid));
        Assert.Equal(2, s.UnpickedBackends);
        string line = Assert.Single(ReplayNotes.Lines(s), l => l.StartsWith("backends: ", StringComparison.Ordinal));
        Assert.Matches(@"^backends: 2 connections: replies came from 10\.244\.\d+\.\d+:8443 and others, a usable endpoint the data plane did not pick; try --backends follow$", line);

        // A seed whose draws agree with the capture says nothing.
        ReplaySummary agree = Replay(Case("011-ct-lifecycle"), seed: 1, follow: false);
        Assert.Equal(0, agree.UnpickedBackends);
        Assert.DoesNotContain(ReplayNotes.Lines(agree), l => l.StartsWith("backends: ", StringComparison.Ordinal));
    }

    [Fact]
    public void Following_the_capture_every_seed_forwards_every_frame()
    {
        for (ulong seed = 1; seed <= 10; seed++)
        {
            ReplaySummary s = Replay(Case("011-ct-lifecycle"), seed, follow: true);
            Assert.True(s.ByVerdict.GetValueOrDefault(Verdict.Forward) == 16, $"seed {seed}: {string.Join(' ', ReplayNotes.Lines(s))}");
            Assert.Empty(s.ByReason);
            Assert.Equal(0, s.UnpickedBackends);
        }
    }

    public static TheoryData<string> CasesWithReplies => new() { "001-clusterip-tcp", "002-clusterip-udp", "003-nodeport-tcp", "006-session-affinity", "007-local-policy", "008-hairpin", "016-sll-any", "017-sll2-any" };

    [Theory]
    [MemberData(nameof(CasesWithReplies))]
    public void Followed_replays_of_the_bundled_cases_are_the_same_for_seeds_1_to_10(string id)
    {
        string first = Path.Combine(_tmp.Path, id + "-1");
        Replay(Case(id), 1, follow: true, first + ".pcap", first + ".jsonl");
        for (ulong seed = 2; seed <= 10; seed++)
        {
            string other = Path.Combine(_tmp.Path, $"{id}-{seed}");
            Replay(Case(id), seed, follow: true, other + ".pcap", other + ".jsonl");
            Assert.Equal(File.ReadAllBytes(first + ".pcap"), File.ReadAllBytes(other + ".pcap"));
            Assert.Equal(File.ReadAllLines(first + ".jsonl"), File.ReadAllLines(other + ".jsonl"));
        }
    }

    [Fact]
    public void The_cli_takes_backends_follow()
    {
        var draw = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", "-q", "--seed", "2", Case("011-ct-lifecycle"));
        Assert.Contains("try --backends follow", draw.Stdout);
        var follow = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", "-q", "--seed", "2", "--backends", "follow", Case("011-ct-lifecycle"));
        Assert.Equal(0, follow.ExitCode);
        Assert.Contains("verdicts: forward=16", follow.Stdout);
        Assert.Contains("backends: the capture shows the backend reached from", follow.Stdout);
        // A capture that shows no backend (a service without endpoints) says so instead of counting zero.
        var none = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", "-q", "--backends", "follow", Case("004-no-endpoints-reject"));
        Assert.Equal(0, none.ExitCode);
        Assert.Contains("backends: the capture shows no backend reached by a connection to a service; every new connection was drawn", none.Stdout);
    }
}
