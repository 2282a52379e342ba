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
        Assert.Equal(2, Regex.Count(r.Stdout, @"^udp\s+17 (59|60) src=10\.244\.1\.5 .* \[ASSURED\]", RegexOptions.Multiline));
        Assert.DoesNotContain("XLATE", r.Stdout);
    }
}

public class ReplayOptionTests
{
    [Fact]
    public void Snat_port_range_comes_from_the_command_line()
    {
        // 003's client port 40001 is outside 50000-50001, so masquerade picks from that range. The capture's replies
        // still go to 192.168.0.2:40001, which is now no connection's binding and no port the node serves: the node
        // answers them with resets, and the entry stays [UNREPLIED] in SYN_SENT, so the client's later ACKs are
        // INVALID (ct-invalid), as in the kernel.
        var r = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1",
            Path.Combine(Repo.Cases, "003-nodeport-tcp", "input.pcap"), "-q", "--dump-ct", "--dump-nat", "--snat-port-range", "50000-50001");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("verdicts: forward=1 reject=3 drop=4", r.Stdout);
        Assert.Contains("drop reasons: ct-invalid=4", r.Stdout);
        Assert.Matches(@"XLATE_SRC 192\.168\.0\.2:5000[01]", r.Stdout);
        Assert.Matches(@"dport=5000[01] \[UNREPLIED\]", r.Stdout);
    }

    [Fact]
    public void Conntrack_timeouts_come_from_the_command_line()
    {
        var r = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1",
            Path.Combine(Repo.Cases, "002-clusterip-udp", "input.pcap"), "-q", "--dump-ct", "--ct-timeout-any", "5");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(r.Stdout, @"^udp\s+17 [45] ", System.Text.RegularExpressions.RegexOptions.Multiline));
    }

    [Theory]
    [InlineData("--snat-port-range", "9-1")]
    [InlineData("--snat-port-range", "abc")]
    [InlineData("--ct-timeout-syn", "0")]
    public void Bad_values_are_one_line_errors(string option, string value)
    {
        var r = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1",
            Path.Combine(Repo.Cases, "003-nodeport-tcp", "input.pcap"), option, value);
        Assert.Contains(option, CliTests.AssertOneLineError(r));
    }
}
