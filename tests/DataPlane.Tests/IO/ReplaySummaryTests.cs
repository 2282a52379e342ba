using System.Text.Json.Nodes;
using DataPlane.FixtureBuilder;
using DataPlane.IO.Pcap;
using DataPlane.IO.Replay;
using DataPlane.Kubernetes;
using DataPlane.Maps;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.IO;

/// <summary>
/// The replay summary's frame, verdict and reason totals (built from the workers' counters and the link layer's) agree
/// with the verdict lines and the output capture, frame for frame, with any number of workers.
/// </summary>
public sealed class ReplaySummaryTests : IDisposable
{
    readonly TempDir _tmp = new("summary");

    public void Dispose()
    {
        _tmp.Dispose();
    }

    /// <summary>The bundled cases that replay with default options (the others carry an args file).</summary>
    public static TheoryData<string, int> CasesAndWorkers()
    {
        var d = new TheoryData<string, int>();
        foreach (Case c in Cases.All())
            if (!File.Exists(Path.Combine(Repo.Cases, c.Id, "args")))
                foreach (int n in new[] { 1, 3 }) d.Add(c.Id, n);
        return d;
    }

    static MapSetHolder Cluster() => new(ControlPlane.LoadAndCompile(Repo.Cluster, Case.Node));

    [Theory]
    [MemberData(nameof(CasesAndWorkers))]
    public void Totals_match_the_verdict_lines_and_the_output_capture(string id, int workers)
    {
        string o = Path.Combine(_tmp.Path, "out.pcap"), v = Path.Combine(_tmp.Path, "out.jsonl");
        using var set = new WorkerSet(Cluster(), new PipelineOptions { Seed = Case.Seed, CtCapacity = 1 << 12 }, workers);
        ReplaySummary s = ReplaySession.Run(Path.Combine(Repo.Cases, id, "input.pcap"), o, v, set);
        JsonObject[] lines = [.. File.ReadAllLines(v).Select(l => JsonNode.Parse(l)!.AsObject())];
        Assert.Equal(lines.Length, s.Frames);
        Assert.Equal(CountFrames(o), s.Emitted);
        AssertTotals(lines, s);
    }

    [Fact]
    public void A_pipeline_that_ran_before_the_replay_adds_nothing_to_its_totals()
    {
        string o = Path.Combine(_tmp.Path, "out.pcap"), v = Path.Combine(_tmp.Path, "out.jsonl");
        var p = new PacketPipeline(Cluster(), new PipelineOptions { Seed = Case.Seed, CtCapacity = 1 << 12 });
        using var owner = WorkerSet.Over(p);
        // Counted by the pipeline before the replay: two truncated frames (drop, truncated-ethernet).
        for (int i = 0; i < 2; i++) p.Process(new byte[4], 0, new byte[2048], out PacketResult _);
        // 016-sll-any: a Linux cooked capture, so the link layer's verdicts (outgoing copies) are in the totals too.
        ReplaySummary s = ReplaySession.Run(Path.Combine(Repo.Cases, "016-sll-any", "input.pcap"), o, v, p);
        JsonObject[] lines = [.. File.ReadAllLines(v).Select(l => JsonNode.Parse(l)!.AsObject())];
        Assert.Equal(lines.Length, s.Frames);
        Assert.True(s.OutgoingCopies > 0, "016-sll-any holds outgoing copies");
        AssertTotals(lines, s);
    }

    /// <summary>
    /// Per verdict and per reason, the summary's counts are the verdict lines' (outgoing copies on their own, the
    /// reasons of rejects apart from those of drops).
    /// </summary>
    static void AssertTotals(JsonObject[] lines, ReplaySummary s)
    {
        var verdicts = lines.GroupBy(l => (string)l["verdict"]!).ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(verdicts.OrderBy(kv => kv.Key), s.ByVerdict.ToDictionary(kv => kv.Key.Name(), kv => kv.Value).OrderBy(kv => kv.Key));
        Dictionary<string, long> Reasons(bool rejects) => lines.Where(l => ((string)l["verdict"]! == "reject") == rejects)
            .Select(l => (string?)l["reason"]).OfType<string>().Where(r => r != "outgoing-copy")
            .GroupBy(r => r).ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(Reasons(rejects: false).OrderBy(kv => kv.Key), s.ByReason.ToDictionary(kv => kv.Key.Name(), kv => kv.Value).OrderBy(kv => kv.Key));
        Assert.Equal(Reasons(rejects: true).OrderBy(kv => kv.Key), s.RejectReasons.ToDictionary(kv => kv.Key.Name(), kv => kv.Value).OrderBy(kv => kv.Key));
        Assert.Equal(lines.Count(l => (string?)l["reason"] == "outgoing-copy"), s.OutgoingCopies);
    }

    static long CountFrames(string pcap)
    {
        using var r = new CaptureReader(pcap);
        long n = 0;
        while (r.TryRead(out _)) n++;
        return n;
    }
}
