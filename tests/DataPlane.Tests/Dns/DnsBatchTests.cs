using DataPlane.Tests.Infrastructure;
using DataPlane.IO.Text;
using DataPlane.IO.Trace;
using DataPlane.Tests.Cli;

namespace DataPlane.Tests.Dns;

/// <summary><c>dns --batch</c>: a bad line gives an error result in its place, and the batch goes on.</summary>
public sealed class DnsBatchTests : IDisposable
{
    readonly TempDir _tmp = new("dns-batch");

    public void Dispose() => _tmp.Dispose();

    string BatchFile(string text)
    {
        string file = _tmp.File($"q{Guid.NewGuid():N}.jsonl");
        File.WriteAllText(file, text);
        return file;
    }

    const string Lines =
        "{\"qname\":\"web.default.svc.cluster.local\"}\n" +
        "{\"qname\":\"web.default.svc.cluster.local\",\"qtype\":\"BOGUS\"}\n" +
        "web A\n" +
        "\n" +
        "{\"qtype\":\"A\"}\n" +
        "null\n" +
        "{\"qname\":\"web.default.svc.cluster.local\",\"qtype\":\"mx\"}\n";

    [Fact]
    public void Json_error_lines_have_the_results_shape_and_name_file_and_line()
    {
        string file = BatchFile(Lines + "{\"qname\":\"" + new string('a', 64) + ".default\"}\n");
        var r = CliTests.Run("dns", "--cluster", DnsWorld.ClusterFile, "--batch", file, "--json");
        Assert.True(r.ExitCode == 1, r.ToString()); // some lines were not queries
        Assert.Equal("", r.Stderr);
        string[] lines = r.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal([
            "{\"rcode\":\"NOERROR\",\"answer\":[\"web.default.svc.cluster.local. 5 IN A 10.96.0.20\"],\"authority\":[],\"additional\":[]}",
            $"{{\"rcode\":\"NONE\",\"answer\":[],\"authority\":[],\"additional\":[],\"error\":\"{file}:2: 'BOGUS' is not a record type\"}}",
        ], lines[..2]);
        Assert.StartsWith($"{{\"rcode\":\"NONE\",\"answer\":[],\"authority\":[],\"additional\":[],\"error\":\"{file}:3: not a JSON object: ", lines[2]);
        Assert.Equal($"{{\"rcode\":\"NONE\",\"answer\":[],\"authority\":[],\"additional\":[],\"error\":\"{file}:5: no \\\"qname\\\"\"}}", lines[3]);
        Assert.Equal($"{{\"rcode\":\"NONE\",\"answer\":[],\"authority\":[],\"additional\":[],\"error\":\"{file}:6: not a JSON object: null\"}}", lines[4]);
        Assert.StartsWith("{\"rcode\":\"NOERROR\",\"answer\":[],\"authority\":[\"cluster.local. 5 IN SOA", lines[5]); // MX: no data
        Assert.StartsWith($"{{\"rcode\":\"NONE\",\"answer\":[],\"authority\":[],\"additional\":[],\"error\":\"{file}:8: '{new string('a', 64)}.default': ", lines[6]);
        Assert.Equal(7, lines.Length);
    }

    [Fact]
    public void Text_error_lines_are_dig_comments_and_the_batch_goes_on()
    {
        string file = BatchFile(Lines);
        var r = CliTests.Run("dns", "--cluster", DnsWorld.ClusterFile, "--batch", file);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($";; error: {file}:2: 'BOGUS' is not a record type\n", r.Stdout);
        Assert.Contains($";; error: {file}:5: no \"qname\"\n", r.Stdout);
        Assert.Contains(";web.default.svc.cluster.local. IN MX", r.Stdout); // the last line was still asked
        Assert.Equal(2, r.Stdout.Split(";; ->>HEADER<<-").Length - 1);
    }

    [Fact]
    public void WriteLine_writes_a_result_or_an_error_and_says_which()
    {
        var world = new DnsWorld();
        using var probe = new DnsProbe(world.Zone, DnsWorld.Client, tcp: false);
        var w = new StringWriter();
        Assert.True(DnsBatch.WriteLine(w, probe, "q.jsonl", 1, "{\"qname\":\"web.default.svc.cluster.local\",\"qtype\":\"TYPE1\"}", json: true));
        Assert.False(DnsBatch.WriteLine(w, probe, "q.jsonl", 2, "{\"qname\":\"web\",\"qtype\":\"TYPE0\"}", json: true));
        Assert.Equal([
            "{\"rcode\":\"NOERROR\",\"answer\":[\"web.default.svc.cluster.local. 5 IN A 10.96.0.20\"],\"authority\":[],\"additional\":[]}",
            "{\"rcode\":\"NONE\",\"answer\":[],\"authority\":[],\"additional\":[],\"error\":\"q.jsonl:2: 'TYPE0' is not a record type\"}",
        ], w.ToString().ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'));
    }
}
