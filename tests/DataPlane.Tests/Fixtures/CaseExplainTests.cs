using System.Text.Json.Nodes;
using DataPlane.FixtureBuilder;
using DataPlane.IO.Replay;
using DataPlane.Kubernetes;
using DataPlane.Maps;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Fixtures;

/// <summary>
/// replay --explain N is the replay itself with frame N traced: for every bundled case and every frame, the explained
/// verdict and reason are those of the replay's own line N (expected.jsonl, which CaseReplayTests holds the replay to).
/// </summary>
public class CaseExplainTests
{
    public static TheoryData<string> CaseIds() => CaseReplayTests.CaseIds();

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Explain_N_gives_the_verdict_and_reason_of_replay_line_N(string id)
    {
        string dir = Path.Combine(Repo.Cases, id);
        string[] expected = File.ReadAllLines(Path.Combine(dir, "expected.jsonl"));
        for (int n = 1; n <= expected.Length; n++)
        {
            var e = JsonNode.Parse(expected[n - 1])!.AsObject();
            var (verdict, reason, why) = Explain(dir, n);
            Assert.True((string?)e["verdict"] == verdict && (string?)e["reason"] == reason,
                $"{id} frame {n}: replay line says {e["verdict"]}/{e["reason"]?.ToString() ?? "null"}, --explain says {verdict}/{reason ?? "null"} ({why})");
            Assert.False(string.IsNullOrEmpty(why), $"{id} frame {n}: no why");
        }
    }

    static (string Verdict, string? Reason, string? Why) Explain(string dir, int n)
    {
        if (File.Exists(Path.Combine(dir, "args")))
        {
            // A case with its own replay options runs through the CLI, from its folder, as CaseReplayTests runs it.
            string[] extra = File.ReadAllLines(Path.Combine(dir, "args")).Where(l => l.Length > 0).ToArray();
            var r = Cli.CliTests.RunIn(dir, ["replay", "--cluster", Repo.Cluster, "--node", Case.Node, "--seed", Case.Seed.ToString(),
                "input.pcap", "--explain", n.ToString(), "--json", .. extra]);
            Assert.True(r.ExitCode == 0, $"{dir} frame {n}: {r.Stderr}");
            var o = JsonNode.Parse(r.Stdout)!.AsObject();
            return ((string)o["verdict"]!, (string?)o["reason"], (string?)o["why"]);
        }
        MapSet maps = ControlPlane.LoadAndCompile(Repo.Cluster, Case.Node);
        using var pipeline = new PacketPipeline(new MapSetHolder(maps), new PipelineOptions { Seed = Case.Seed, CtCapacity = 1 << 12 });
        using WorkerSet workers = WorkerSet.Over(pipeline);
        ExplainedFrame f = ReplayExplain.Run(Path.Combine(dir, "input.pcap"), n, workers)!;
        string why = new DataPlane.Kubernetes.Explain.Explainer(ControlPlane.Resolve(DataPlane.Kubernetes.Manifests.ManifestLoader.Load(Repo.Cluster)), Case.Node, f.Maps).Why(f.Log);
        return (f.Verdict.Name(), f.Result.Reason == DropReason.None ? null : f.Result.Reason.Name(), why);
    }
}
