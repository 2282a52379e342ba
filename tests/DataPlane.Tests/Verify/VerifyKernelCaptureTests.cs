using System.Text.Json.Nodes;
using DataPlane.FixtureBuilder.Verify;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Verify;

/// <summary>
/// <c>dataplane verify</c> against reality (issue 19, "Tests"): every connection of a capture a real kernel made under
/// kube-proxy's rules agrees; each altered copy diverges on exactly the altered connection(s), with the field the
/// alteration broke. Written against verify's JSON: one object per connection
/// <c>{"flow":{"proto","src","dst"},"service","status","frames","diffs":[{"frame","field","expected","seen"}],"why"}</c>,
/// then <c>{"summary":{...}}</c>; exit 0 when nothing diverges, 1 when something does.
/// </summary>
[Trait("Needs", "verify")]
public sealed class VerifyKernelCaptureTests
{
    static string VerifyRoot => Repo.Path_("pcaps", "verify");

    sealed record Flow(string Proto, string Src, string Dst, string? Service, string Status, IReadOnlyList<(int Frame, string Field, string Seen)> Diffs, string Json)
    {
        public string Key => $"{Proto} {Src} -> {Dst}";
    }

    static (CliTests.Result Run, List<Flow> Flows, JsonObject Summary) Verify(string dir)
    {
        CliTests.Result r = CliTests.Run("verify", "--cluster", Path.Combine(dir, "cluster"), "--node", "node-1", Path.Combine(dir, "node.pcap"), "--json");
        var flows = new List<Flow>();
        JsonObject? summary = null;
        foreach (string line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            JsonObject o;
            try
            {
                o = JsonNode.Parse(line)!.AsObject();
            }
            catch (System.Text.Json.JsonException e)
            {
                Assert.Fail($"verify --json printed a line that is not a JSON object ({e.Message}): {line}\n{r}");
                throw;
            }
            if (o["summary"] is JsonObject s) { summary = s; continue; }
            var flow = o["flow"]!.AsObject();
            var diffs = (o["diffs"] as JsonArray ?? []).Select(d => ((int)d!["frame"]!, (string)d["field"]!, d["seen"]?.ToString() ?? "")).ToList();
            flows.Add(new Flow((string)flow["proto"]!, (string)flow["src"]!, (string)flow["dst"]!, o["service"]?.GetValue<string>(), (string)o["status"]!, diffs, line));
        }
        Assert.True(summary is not null, $"verify --json printed no summary line\n{r}");
        return (r, flows, summary!);
    }

    public static TheoryData<string> KernelCaptures => ["kernel-iptables", "kernel-nftables"];

    [Theory]
    [MemberData(nameof(KernelCaptures))]
    public void Every_connection_of_a_kernel_capture_agrees(string name)
    {
        string dir = Path.Combine(VerifyRoot, name);
        var (r, flows, summary) = Verify(dir);
        var notAgreeing = flows.Where(f => f.Status != "agrees").Select(f => f.Json).ToList();
        Assert.True(notAgreeing.Count == 0, $"{name}: {notAgreeing.Count} connection(s) do not agree:\n{string.Join('\n', notAgreeing)}");
        Assert.True(r.ExitCode == 0, $"expected exit 0\n{r}");
        Assert.Equal(0, (int)summary["diverges"]!);

        // Every client connection the script made is one of verify's flows, named by the client's tuple.
        KernelCapture capture = KernelCapture.Read(Path.Combine(dir, "node.pcap"));
        var seen = flows.ToDictionary(f => f.Key);
        foreach (var k in capture.Connections)
        {
            Assert.True(seen.TryGetValue($"{k.Proto} {k.Client} -> {k.Frontend}", out Flow? f), $"{name}: verify reports no flow for {k}");
            Assert.Equal(AlteredCaptures.ServiceOf[$"{k.Proto} {k.Frontend}"], f!.Service);
        }
        Assert.Equal(flows.Count, (int)summary["flows"]!);
        Assert.Equal(flows.Count, (int)summary["agrees"]!);
    }

    public static TheoryData<string> Altered => [.. AlteredCaptures.Names];

    [Theory]
    [MemberData(nameof(Altered))]
    public void An_altered_capture_diverges_on_exactly_the_altered_connections(string name)
    {
        string dir = Path.Combine(VerifyRoot, "altered", name);
        var expected = AlteredExpectation.Read(dir);
        var (r, flows, summary) = Verify(dir);

        var diverging = flows.Where(f => f.Status == "diverges").ToDictionary(f => f.Key);
        Assert.True(diverging.Keys.Order().SequenceEqual(expected.Diverges.Select(d => d.Flow).Order()),
            $"{name}: expected to diverge: {string.Join("; ", expected.Diverges.Select(d => d.Flow))}\n" +
            $"diverging: {string.Join("; ", diverging.Keys)}\n{string.Join('\n', diverging.Values.Select(f => f.Json))}");
        foreach (var d in expected.Diverges)
        {
            Flow f = diverging[d.Flow];
            Assert.Equal(d.Service, f.Service);
            Assert.True(f.Diffs.Any(x => x.Field == d.Field && d.Frames.Contains(x.Frame)),
                $"{name}: {d.Flow} should have a `{d.Field}` diff at one of frames {string.Join(", ", d.Frames)}: {f.Json}");
        }
        // Nothing else is called wrong: the other connections agree (or, at worst, are incomplete, never diverging).
        Assert.Equal(expected.Diverges.Count, (int)summary["diverges"]!);
        Assert.True(r.ExitCode == expected.Exit, $"expected exit {expected.Exit}\n{r}");
    }
}
