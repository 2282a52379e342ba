using System.Text.Json.Nodes;
using DataPlane.FixtureBuilder;
using DataPlane.IO.Pcap;
using DataPlane.IO.Replay;
using DataPlane.Kubernetes;
using DataPlane.Maps;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Fixtures;

/// <summary>
/// The regression cases in pcaps/cases: replay input.pcap against pcaps/cluster as node-1 and compare the output capture
/// byte for byte with expected.pcap, and each verdict line field by field with expected.jsonl.
/// </summary>
public class CaseReplayTests
{
    public static TheoryData<string> CaseIds()
    {
        var d = new TheoryData<string>();
        foreach (Case c in Cases.All()) d.Add(c.Id);
        return d;
    }

    /// <summary>Replays case <paramref name="id"/> into <paramref name="tmp"/>; returns the output capture and verdicts.</summary>
    static (string Out, string Verdicts) Replay(string id, string tmp, ulong seed = Case.Seed)
    {
        string dir = Path.Combine(Repo.Cases, id);
        if (File.Exists(Path.Combine(dir, "args")))
        {
            // A case with its own replay options runs through the CLI, from its folder, exactly as replay-all.sh runs it.
            string[] extra = File.ReadAllLines(Path.Combine(dir, "args")).Where(l => l.Length > 0).ToArray();
            string co = Path.Combine(tmp, "out.pcap"), cv = Path.Combine(tmp, "out.jsonl");
            var r = Cli.CliTests.RunIn(dir, ["replay", "--cluster", Repo.Cluster, "--node", Case.Node, "--seed", seed.ToString(), "-q",
                "input.pcap", "-o", co, "--verdicts", cv, .. extra]);
            Assert.True(r.ExitCode == 0, $"{id}: replay failed: {r.Stderr}");
            return (co, cv);
        }
        MapSet maps = ControlPlane.LoadAndCompile(Repo.Cluster, Case.Node);
        var pipeline = new PacketPipeline(new MapSetHolder(maps), new PipelineOptions { Seed = seed, CtCapacity = 1 << 12 });
        string o = Path.Combine(tmp, "out.pcap"), v = Path.Combine(tmp, "out.jsonl");
        ReplaySession.Run(Path.Combine(dir, "input.pcap"), o, v, pipeline);
        return (o, v);
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Output_capture_matches_expected_byte_for_byte(string id)
    {
        using var scratch = new TempDir("case");
        var (o, _) = Replay(id, scratch.Path);
        byte[] expected = File.ReadAllBytes(Path.Combine(Repo.Cases, id, "expected.pcap"));
        byte[] actual = File.ReadAllBytes(o);
        if (!expected.AsSpan().SequenceEqual(actual))
        {
            // Say which frame differs, not just that the files do.
            var e = Read(Path.Combine(Repo.Cases, id, "expected.pcap"));
            var a = Read(o);
            Assert.Equal(e.Count, a.Count);
            for (int i = 0; i < e.Count; i++)
                Assert.True(e[i].AsSpan().SequenceEqual(a[i]), $"{id}: output frame {i + 1} differs:\n expected {Convert.ToHexString(e[i])}\n actual   {Convert.ToHexString(a[i])}");
            Assert.Equal(expected, actual);
        }
        foreach (byte[] frame in Read(o)) Oracle.AssertChecksums(frame);
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Verdicts_match_expected_field_by_field(string id)
    {
        using var scratch = new TempDir("case");
        var (_, v) = Replay(id, scratch.Path);
        string[] expected = File.ReadAllLines(Path.Combine(Repo.Cases, id, "expected.jsonl"));
        string[] actual = File.ReadAllLines(v);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            var e = JsonNode.Parse(expected[i])!.AsObject();
            var a = JsonNode.Parse(actual[i])!.AsObject();
            Assert.Equal(e.Select(kv => kv.Key), a.Select(kv => kv.Key));
            foreach (var (key, value) in e)
                Assert.True(JsonNode.DeepEquals(value, a[key]), $"{id} frame {i + 1} field '{key}': expected {value?.ToJsonString() ?? "null"}, got {a[key]?.ToJsonString() ?? "null"}");
        }
    }

    [Fact]
    public void Replay_is_deterministic_and_appending_frames_never_changes_earlier_results()
    {
        // Concatenate every case's input into one capture; the first half alone must give a prefix of the outputs.
        using var scratch = new TempDir("append");
        string tmp = scratch.Path;
        // Ethernet cases only: one capture has one link type.
        var frames = Cases.All().Where(c => c.InputLinkType == LinkType.Ethernet).SelectMany(c => c.Steps).Select(s => s.Input).ToList();
        string full = Path.Combine(tmp, "full.pcap"), half = Path.Combine(tmp, "half.pcap");
        Write(full, frames);
        Write(half, frames.Take(frames.Count / 2).ToList());
        string[] Run(string input, string tag)
        {
            var p = new PacketPipeline(new MapSetHolder(ControlPlane.LoadAndCompile(Repo.Cluster, Case.Node)), new PipelineOptions { CtCapacity = 1 << 12 });
            string v = Path.Combine(tmp, tag + ".jsonl");
            ReplaySession.Run(input, Path.Combine(tmp, tag + ".pcap"), v, p);
            return File.ReadAllLines(v);
        }
        string[] a = Run(full, "a"), b = Run(full, "b"), h = Run(half, "h");
        Assert.Equal(a, b);
        Assert.Equal(File.ReadAllBytes(Path.Combine(tmp, "a.pcap")), File.ReadAllBytes(Path.Combine(tmp, "b.pcap")));
        // Except the fragments still held when the shorter capture ends: its end decides them (dropped, nothing can
        // complete them), and their lines come last; everything decided before is a prefix of the longer replay's.
        int decided = h.Length;
        while (decided > 0 && h[decided - 1].Contains("\"reason\":\"frag-reassembly-timeout\"", StringComparison.Ordinal)) decided--;
        Assert.True(decided < h.Length, "the concatenated cases hold fragments whose first fragment never comes");
        Assert.Equal(h[..decided], a[..decided]);
    }

    [Fact]
    public void Committed_fixtures_are_what_the_builder_produces()
    {
        // Guards against a fixture edited by hand (or a builder changed without regenerating).
        using var scratch = new TempDir("build");
        string tmp = scratch.Path;
        foreach (Case c in Cases.All())
        {
            string d = Path.Combine(tmp, c.Id);
            Directory.CreateDirectory(d);
            CaseFiles.Write(c, d);
            foreach (string f in CaseFiles.FileNames(c))
                Assert.True(File.ReadAllBytes(Path.Combine(d, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(Repo.Cases, c.Id, f))),
                    $"pcaps/cases/{c.Id}/{f} is stale: run dotnet run --project tests/DataPlane.FixtureBuilder -- pcaps/cases");
        }
    }

    [Fact]
    public void Lifecycle_case_rebalances_at_every_new_connection()
    {
        // 011's expectations only prove re-balancing if the backend actually changes where a new connection starts:
        // after the RST + SYN reuse (frame 10), after 6 h idle (frame 13), after the SYN timeout (frame 16).
        string[] backends = File.ReadAllLines(Path.Combine(Repo.Cases, "011-ct-lifecycle", "expected.jsonl"))
            .Select(l => (string)JsonNode.Parse(l)!["backend"]!).ToArray();
        Assert.NotEqual(backends[8], backends[9]);
        Assert.NotEqual(backends[11], backends[12]);
        Assert.Equal(backends[13], backends[14]);   // retransmitted SYN within 60 s: same connection
        Assert.NotEqual(backends[14], backends[15]);
    }

    [Theory]
    [InlineData("001-clusterip-tcp")]
    [InlineData("002-clusterip-udp")]
    [InlineData("015-endpoint-change")]
    [InlineData("030-sctp-clusterip")]
    public void Two_workers_give_the_same_verdicts_where_no_choice_depends_on_the_worker(string id)
    {
        // One endpoint per service and no SNAT port to choose: steering must not change anything.
        string dir = Path.Combine(Repo.Cases, id);
        string[] extra = File.Exists(Path.Combine(dir, "args")) ? File.ReadAllLines(Path.Combine(dir, "args")).Where(l => l.Length > 0).ToArray() : [];
        using var scratch = new TempDir("workers");
        string v = scratch.File("out.jsonl");
        var r = Cli.CliTests.RunIn(dir, ["replay", "--cluster", Repo.Cluster, "--node", Case.Node, "-q", "--workers", "2", "input.pcap", "--verdicts", v, .. extra]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("over 2 workers", r.Stdout);
        Assert.Equal(File.ReadAllLines(Path.Combine(dir, "expected.jsonl")), File.ReadAllLines(v));
    }

    [Fact]
    public void Udp_timeout_case_rebalances_onto_another_endpoint()
    {
        // 012 proves re-selection only if the flow's backend changes where its entry expired (frame 5).
        string[] backends = File.ReadAllLines(Path.Combine(Repo.Cases, "012-udp-timeout", "expected.jsonl"))
            .Select(l => (string?)JsonNode.Parse(l)!["backend"] ?? "").ToArray();
        Assert.Equal(backends[1], backends[3]);      // 20 s later: same flow
        Assert.NotEqual(backends[3], backends[4]);   // 31 s of silence: a new flow, another endpoint
    }

    static List<byte[]> Read(string path)
    {
        var list = new List<byte[]>();
        using var r = new CaptureReader(path);
        while (r.TryRead(out CaptureFrame f)) list.Add(f.Data.ToArray());
        return list;
    }

    static void Write(string path, List<byte[]> frames)
    {
        using var w = new CaptureWriter(path);
        for (int i = 0; i < frames.Count; i++) w.Write(frames[i], Case.TimestampNs(i));
    }
}
