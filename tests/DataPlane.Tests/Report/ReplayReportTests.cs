using System.Text.Json.Nodes;
using DataPlane.FixtureBuilder;
using DataPlane.IO.Replay;
using DataPlane.IO.Report;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Report;

/// <summary>
/// A replay with a report: the report's embedded JSON has the summary's counts, frame for frame, with any number of
/// workers; the replay's own outputs are the same with and without it (the report cuts batches to sample occupancy,
/// which must change nothing); reloads are marked at the frame that met them.
/// </summary>
public sealed class ReplayReportTests : IDisposable
{
    readonly TempDir _tmp = new("report");

    public void Dispose() => _tmp.Dispose();

    /// <summary>Every bundled case that replays with default options, with one worker and with three.</summary>
    public static TheoryData<string, int> CasesAndWorkers()
    {
        var d = new TheoryData<string, int>();
        foreach (Case c in Cases.All())
            if (!File.Exists(Path.Combine(Repo.Cases, c.Id, "args")))
                foreach (int n in new[] { 1, 3 }) d.Add(c.Id, n);
        return d;
    }

    /// <summary>The JSON's verdict and reason counts must be the summary's (what the text summary prints).</summary>
    internal static void AssertCountsEqualSummary(JsonObject json, ReplaySummary s)
    {
        Assert.Equal(s.Frames, (long)json["frames"]!);
        var verdicts = json["verdicts"]!.AsObject().Where(kv => (long)kv.Value! != 0).ToDictionary(kv => kv.Key, kv => (long)kv.Value!);
        Assert.Equal(s.ByVerdict.ToDictionary(kv => kv.Key.Name(), kv => kv.Value).OrderBy(kv => kv.Key), verdicts.OrderBy(kv => kv.Key));
        Dictionary<string, long> Reasons(string name) => json[name]!.AsArray().ToDictionary(r => (string)r!["reason"]!, r => (long)r!["frames"]!);
        Assert.Equal(s.ByReason.ToDictionary(kv => kv.Key.Name(), kv => kv.Value).OrderBy(kv => kv.Key), Reasons("drops").OrderBy(kv => kv.Key));
        Assert.Equal(s.RejectReasons.ToDictionary(kv => kv.Key.Name(), kv => kv.Value).OrderBy(kv => kv.Key), Reasons("rejects").OrderBy(kv => kv.Key));
        Assert.Equal(s.OutgoingCopies, (long)json["outgoingCopies"]!);
        // The buckets add up to the totals.
        JsonArray names = json["verdictNames"]!.AsArray();
        for (int v = 0; v < names.Count; v++)
            Assert.Equal((long)json["verdicts"]![(string)names[v]!]!, json["buckets"]!.AsArray().Sum(b => (long)b!["frames"]![v]!));
    }

    [Theory]
    [MemberData(nameof(CasesAndWorkers))]
    public void The_reports_json_has_the_summarys_counts_and_the_replay_writes_the_same_with_or_without_it(string id, int workers)
    {
        string o1 = _tmp.File("with.pcap"), v1 = _tmp.File("with.jsonl"), o2 = _tmp.File("without.pcap"), v2 = _tmp.File("without.jsonl");
        var options = new PipelineOptions { Seed = Case.Seed, CtCapacity = 1 << 12 };
        ReportRun.Result with = ReportRun.Run(id, workers, options, output: o1, verdicts: v1);
        ReportRun.Result without = ReportRun.Run(id, workers, options, output: o2, verdicts: v2, report: false);
        Assert.Equal(File.ReadAllBytes(v2), File.ReadAllBytes(v1));
        Assert.Equal(File.ReadAllBytes(o2), File.ReadAllBytes(o1));
        Assert.Equal(without.Summary.ByVerdict.OrderBy(kv => kv.Key), with.Summary.ByVerdict.OrderBy(kv => kv.Key));
        AssertCountsEqualSummary(JsonNode.Parse(ReportJson.ToJson(with.Data))!.AsObject(), with.Summary);
    }

    [Fact]
    public void Reloads_are_marked_at_the_frame_that_met_them_and_occupancy_is_measured_around_them()
    {
        ReportRun.Result r = ReportRun.Run("015-endpoint-change", applyAt: [(5, "apply-5s.yaml"), (10, "apply-10s.yaml")]);
        Assert.Equal(2, r.Data.Reloads.Count);
        Assert.Equal([6L, 11L], r.Data.Reloads.Select(x => x.Frame));
        Assert.Equal([5_000_000_000L, 10_000_000_000L], r.Data.Reloads.Select(x => x.AtNs));
        Assert.Equal(r.Summary.Updates, r.Data.Reloads.Select(x => x.Outcome));
        // Sampled in every bucket that has frames (the batch is cut there), so each reload's bucket has a sample.
        foreach (ReportReload reload in r.Data.Reloads)
            Assert.Contains(r.Data.Occupancy, o => o.StartNs <= reload.AtNs && reload.AtNs < o.StartNs + r.Data.BucketWidthNs);
        Assert.Equal(2, r.Data.Services.Count); // statsd's UDP and TCP ports, each balanced over two endpoints in turn
    }

    [Fact]
    public void Snat_exhaustion_shows_the_busiest_destination_at_the_ranges_capacity()
    {
        // 014: a two-port masquerade range; the third client towards the same backend is dropped nat-port-exhausted.
        ReportRun.Result r = ReportRun.Run("014-nat-port-exhaustion",
            options: new PipelineOptions { Seed = Case.Seed, CtCapacity = 1 << 12, SnatPortMin = 40000, SnatPortMax = 40001, SnatPrivilegedClasses = false });
        Assert.Equal(2, r.Data.SnatCapacity);
        Assert.Equal(2, r.Data.Occupancy.Max(o => o.SnatBusiest ?? 0));
        Assert.Equal(1 << 12, r.Data.CtCapacity);
        Assert.Equal(r.Summary.ByReason[DropReason.NatPortExhausted], Assert.Single(r.Data.Drops, d => d.Reason == "nat-port-exhausted").Frames);
    }
}
