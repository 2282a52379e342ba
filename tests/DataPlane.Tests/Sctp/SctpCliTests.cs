using System.Text.Json.Nodes;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Sctp;

/// <summary>SCTP through the CLI on the bundled cluster (pcaps/cluster/sctp.yaml): trace, replay --dump-ct, --host-ports.</summary>
public class SctpCliTests
{
    [Fact]
    public void Trace_proto_sctp_sends_an_init_through_the_nodeport()
    {
        var r = CliTests.Run("trace", "--cluster", Repo.Cluster, "--node", "node-1", "--src", "203.0.113.2:40010", "--dst", "192.168.0.2:30132", "--proto", "sctp", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("""{"verdict":"forward","reason":null,"service":"default/diameter:diameter","candidates":["10.244.2.32:3869"],"backend":"10.244.2.32:3869","masquerade":true,"out":{"src":"192.168.0.2:40010","dst":"10.244.2.32:3869"}}""",
            WithoutStageLog(JsonNode.Parse(r.Stdout)!.AsObject()).ToJsonString());
        var text = CliTests.Run("trace", "--cluster", Repo.Cluster, "--node", "node-1", "--src", "10.244.1.5", "--dst", "10.96.0.133:2905", "--proto", "sctp");
        Assert.Contains("packet      sctp 10.244.1.5:", text.Stdout);
        Assert.Contains("[INIT]", text.Stdout);
        Assert.Contains("verdict     reject: ICMP port unreachable 10.244.1.1 -> 10.244.1.5", text.Stdout);
    }

    // The stage log and the explanation have their own tests (Trace/).
    static JsonObject WithoutStageLog(JsonObject o)
    {
        o.Remove("stages");
        o.Remove("why");
        return o;
    }

    [Fact]
    public void Dump_ct_lists_the_association_like_conntrack_L()
    {
        var r = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1",
            Path.Combine(Repo.Cases, "030-sctp-clusterip", "input.pcap"), "-q", "--dump-ct");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"(?m)^sctp\s+132 10 CLOSED src=10\.244\.1\.5 dst=10\.96\.0\.132 sport=5000 dport=3868 src=10\.244\.2\.32 dst=10\.244\.1\.5 sport=3869 dport=5000 \[ASSURED\]", r.Stdout);
    }

    [Fact]
    public void Host_ports_option_is_parsed_and_rejects_nonsense()
    {
        var bad = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1",
            Path.Combine(Repo.Cases, "034-node-answers", "input.pcap"), "-q", "--host-ports", "22/icmp");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--host-ports: '22/icmp' is not PORT[-PORT][/tcp|/udp]", bad.Stderr);
        // Everything served: the old behaviour, the node never answers (4 frames pass, only the forwarded one is emitted).
        var all = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1",
            Path.Combine(Repo.Cases, "034-node-answers", "input.pcap"), "-q", "--host-ports", "1-65535/tcp,1-65535/udp");
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Contains("verdicts: forward=1 pass=4", all.Stdout);
    }
}
