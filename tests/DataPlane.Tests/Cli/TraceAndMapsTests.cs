using System.Text.Json.Nodes;
using DataPlane.Tests.Infrastructure;
using DataPlane.Tests.Semantics;

namespace DataPlane.Tests.Cli;

/// <summary>`dataplane trace` and `dataplane maps` as a user runs them, on the bundled cluster and kube-proxy's test world.</summary>
public class TraceAndMapsTests
{
    static JsonObject TraceJson(string cluster, string src, string dst, string proto = "tcp")
    {
        var r = CliTests.Run("trace", "--cluster", cluster, "--node", "node-1", "--src", src, "--dst", dst, "--proto", proto, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        return JsonNode.Parse(r.Stdout)!.AsObject();
    }

    [Fact]
    public void Json_trace_of_a_nodeport_connection()
    {
        var o = TraceJson(Repo.Cluster, "203.0.113.2:40001", "192.168.0.2:30080");
        o.Remove("stages"); // the stage log and the explanation have their own tests (Trace/)
        o.Remove("why");
        Assert.Equal("""{"verdict":"forward","reason":null,"service":"default/web:http","candidates":["10.244.2.7:8080"],"backend":"10.244.2.7:8080","masquerade":true,"out":{"src":"192.168.0.2:40001","dst":"10.244.2.7:8080"}}""",
            o.ToJsonString());
    }

    [Fact]
    public void Candidates_are_the_ready_endpoints_and_the_backend_is_one_of_them()
    {
        var o = TraceJson(Repo.Cluster, "10.244.1.5", "10.96.0.40:443");
        string[] c = o["candidates"]!.AsArray().Select(n => (string)n!).ToArray();
        Assert.Equal(["10.244.1.21:8443", "10.244.2.22:8443", "10.244.2.23:8443"], c); // 10.244.2.24 is not ready
        Assert.Contains((string)o["backend"]!, c);
        Assert.False((bool)o["masquerade"]!);
    }

    [Fact]
    public void Text_trace_names_each_stage_and_reject_has_no_out()
    {
        var r = CliTests.Run("trace", "--cluster", Repo.Cluster, "--node", "node-1", "--src", "10.244.1.5", "--dst", "10.96.0.30:80");
        Assert.Equal(0, r.ExitCode);
        foreach (string stage in new[] { "packet", "parse", "conntrack", "service", "candidates", "verdict     reject" })
            Assert.Contains(stage, r.Stdout);
        Assert.Null(TraceJson(Repo.Cluster, "10.244.1.5", "10.96.0.30:80")["out"]);
    }

    [Fact]
    public void Batch_traces_each_line_against_fresh_state()
    {
        using var scratch = new TempDir("trace");
        string dir = scratch.Path;
        File.WriteAllText(Path.Combine(dir, "w.yaml"), PolicyWorld.Manifests());
        string batch = Path.Combine(dir, "batch.jsonl");
        // The same connection twice: fresh state means both are new connections (both show candidates).
        File.WriteAllLines(batch,
        [
            """{"src":"203.0.113.2:5000","dst":"1.2.3.4:80","proto":"tcp"}""",
            """{"src":"203.0.113.2:5000","dst":"1.2.3.4:80","proto":"tcp"}""",
            """{"src":"10.0.0.5","dst":"192.168.0.2:30002"}""",
            """{"src":"203.0.113.2","dst":"192.168.0.2:30002"}""",
        ]);
        var r = CliTests.Run("trace", "--cluster", dir, "--node", "node-1", "--batch", batch);
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToArray();
        Assert.Equal(4, lines.Length);
        Assert.Equal(lines[0].ToJsonString(), lines[1].ToJsonString());
        Assert.Equal("""["10.0.1.1:80"]""", lines[0]["candidates"]!.ToJsonString());
        Assert.Equal("forward", (string)lines[2]["verdict"]!);
        Assert.Equal(("drop", "no-service-backend"), ((string)lines[3]["verdict"]!, (string)lines[3]["reason"]!));
    }

    [Fact]
    public void Bad_batch_line_is_a_one_line_error_naming_file_and_line()
    {
        using var scratch = new TempDir("trace");
        string batch = scratch.File("b.jsonl");
        File.WriteAllLines(batch, ["""{"src":"10.0.0.1","dst":"10.96.0.10:80"}""", "{not json"]);
        var r = CliTests.Run("trace", "--cluster", Repo.Cluster, "--node", "node-1", "--batch", batch);
        Assert.Contains("b.jsonl:2", CliTests.AssertOneLineError(r));
    }

    [Fact]
    public void Maps_lists_frontends_slots_and_reverse_nat()
    {
        var r = CliTests.Run("maps", "--cluster", Repo.Cluster, "--node", "node-1");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("192.168.0.2:30080/TCP", r.Stdout);
        Assert.Matches(@"10\.96\.0\.30:80/TCP\s+0\.0\.0\.0:0 \(\d+\) \(0\)", r.Stdout);  // the empty service: master only
        Assert.Matches(@"10\.244\.2\.7:8080/TCP \(\d+\) \(1\)", r.Stdout);
        Assert.Contains("REVNAT_ID", r.Stdout);
    }
}
