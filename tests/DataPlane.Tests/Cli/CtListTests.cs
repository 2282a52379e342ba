using System.Text.RegularExpressions;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Cli;

/// <summary>`replay --dump-ct/--dump-nat`: the tables a network engineer reads with conntrack -L and cilium bpf nat list.</summary>
public class CtListTests
{
    [Fact]
    public void NodePort_connection_is_listed_with_both_tuples_state_timeout_and_nat_binding()
    {
        var r = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1",
            Path.Combine(Repo.Cases, "003-nodeport-tcp", "input.pcap"), "-q", "--dump-ct", "--dump-nat");
        Assert.True(r.ExitCode == 0, r.ToString());
        // FIN both ways: TIME_WAIT with cilium's 10 s closing timeout, measured from the last frame.
        Assert.Contains("tcp      6 10 TIME_WAIT src=203.0.113.2 dst=192.168.0.2 sport=40001 dport=30080 " +
                        "src=10.244.2.7 dst=192.168.0.2 sport=8080 dport=40001 [ASSURED] backend=10.244.2.7:8080 service=default/web:http", r.Stdout);
        Assert.Contains("TCP OUT 203.0.113.2:40001 -> 10.244.2.7:8080 XLATE_SRC 192.168.0.2:40001", r.Stdout);
        Assert.Contains("TCP IN 10.244.2.7:8080 -> 192.168.0.2:40001 XLATE_DST 203.0.113.2:40001", r.Stdout);
    }

    [Fact]
    public void Dns_flows_without_snat_have_no_nat_lines()
    {
        var r = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1",
            Path.Combine(Repo.Cases, "002-clusterip-udp", "input.pcap"), "-q", "--dump-ct", "--dump-nat");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(2, Regex.Matches(r.Stdout, @"^udp\s+17 (59|60) src=10\.244\.1\.5 .* \[ASSURED\]", RegexOptions.Multiline).Count);
        Assert.DoesNotContain("XLATE", r.Stdout);
    }
}
