using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Dns;

/// <summary><c>dataplane dns</c> as a user runs it: dig-like text, --json lines, --batch, one-line errors.</summary>
public class DnsCliTests
{
    [Fact]
    public void Batch_prints_one_json_line_per_query()
    {
        using var scratch = new TempDir("dns");
        string file = scratch.File("q.jsonl");
        File.WriteAllText(file, "{\"qname\":\"web.default.svc.cluster.local\",\"qtype\":\"A\"}\n\n{\"qname\":\"nope.default.svc.cluster.local\",\"qtype\":\"SRV\"}\n{\"qname\":\"example.com\"}\n");
        var r = CliTests.Run("dns", "--cluster", DnsWorld.ClusterFile, "--batch", file, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal([
            "{\"rcode\":\"NOERROR\",\"answer\":[\"web.default.svc.cluster.local. 5 IN A 10.96.0.20\"],\"authority\":[],\"additional\":[]}",
            "{\"rcode\":\"NXDOMAIN\",\"answer\":[],\"authority\":[\"cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5\"],\"additional\":[]}",
            "{\"rcode\":\"REFUSED\",\"answer\":[],\"authority\":[],\"additional\":[]}",
        ], r.Stdout.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void Text_output_reads_like_dig_and_tcp_gives_the_same_answer()
    {
        var r = CliTests.Run("dns", "--cluster", DnsWorld.ClusterFile, "_http._tcp.web.default.svc.cluster.local", "SRV");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(";; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1", r.Stdout);
        Assert.Contains(";; ANSWER SECTION:\n_http._tcp.web.default.svc.cluster.local. 5 IN SRV 0 100 80 web.default.svc.cluster.local.", r.Stdout);
        var t = CliTests.Run("dns", "--cluster", DnsWorld.ClusterFile, "_http._tcp.web.default.svc.cluster.local", "SRV", "--tcp");
        Assert.Equal(r.Stdout, t.Stdout);
    }

    [Fact]
    public void Bad_input_is_one_line()
    {
        CliTests.AssertOneLineError(CliTests.Run("dns", "--cluster", DnsWorld.ClusterFile, "--from", "default/nobody", "web"));
        CliTests.AssertOneLineError(CliTests.Run("dns", "--cluster", DnsWorld.ClusterFile, "web", "BOGUS"));
        CliTests.AssertOneLineError(CliTests.Run("dns", "--cluster", DnsWorld.ClusterFile, "--cluster-dns", "10.96.0", "web"));
        CliTests.AssertOneLineError(CliTests.Run("dns", "--cluster", DnsWorld.ClusterFile, new string('a', 64) + ".default"));
    }
}
