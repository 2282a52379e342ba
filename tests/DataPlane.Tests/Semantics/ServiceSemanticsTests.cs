using DataPlane.Pipeline;
using static DataPlane.Tests.Semantics.PolicyWorld;

namespace DataPlane.Tests.Semantics;

/// <summary>
/// kube-proxy's flow rules (kube-proxy-rules.md), each row naming the upstream test it mirrors. The outcome of the
/// first packet of a new connection: verdict, candidate endpoints, masquerade.
/// </summary>
public class ServiceSemanticsTests
{
    static readonly PolicyWorld Iptables = new();

    static readonly PolicyWorld Nft = new("nftables");

    static PolicyWorld In(string mode) => mode == "nftables" ? Nft : Iptables;

    /// <summary>Rows that hold in both modes, run once per mode (nftables has no localhost NodePorts).</summary>
    public static TheoryData<string, string, string, ushort, string, bool> Flows()
    {
        (string Src, string Dst, ushort Port, string Candidates, bool Masq)[] rows =
        [
            // TestExternalTrafficPolicyLocal: external client -> only local endpoints, source kept.
            (External, "1.2.3.4", 80, "10.0.1.1", false),
            (External, Node, 30001, "10.0.1.1", false),
            (External, "192.168.99.11", 80, "10.0.1.1", false),
            // Pods (cluster CIDR) are short-circuited to every endpoint, not masqueraded.
            (Pod, "1.2.3.4", 80, "10.0.1.1,10.0.2.1", false),
            (Pod, Node, 30001, "10.0.1.1,10.0.2.1", false),
            // Node-local sources: every endpoint, masqueraded ("LOCAL, KUBE-MARK-MASQ").
            (Node, Node, 30001, "10.0.1.1,10.0.2.1", true),
            ("127.0.0.1", "127.0.0.1", 30001, "10.0.1.1,10.0.2.1", true),
            // eTP does not apply to the ClusterIP; off-cluster sources to a ClusterIP are masqueraded, pods are not.
            (External, "172.30.0.41", 80, "10.0.1.1,10.0.2.1", true),
            (Pod, "172.30.0.41", 80, "10.0.1.1,10.0.2.1", false),
        ];
        var data = new TheoryData<string, string, string, ushort, string, bool>();
        foreach (string mode in new[] { "iptables", "nftables" })
            foreach (var r in rows)
                if (mode == "iptables" || r.Dst != "127.0.0.1")
                    data.Add(mode, r.Src, r.Dst, r.Port, r.Candidates, r.Masq);
        return data;
    }

    [Theory]
    [MemberData(nameof(Flows))]
    public void Forwarded_flows(string mode, string src, string dst, ushort port, string candidates, bool masquerade)
    {
        var o = (mode == "nftables" ? Nft : Iptables).Syn(src, dst, port);
        Assert.Equal(Verdict.Forward, o.Verdict);
        Assert.Equal(candidates.Split(','), o.Candidates);
        Assert.Contains(o.Backend, o.Candidates);
        Assert.Equal(masquerade, o.Masqueraded);
    }

    [Theory]
    [InlineData("iptables")]
    [InlineData("nftables")]
    public void Etp_local_without_local_endpoints_drops_external_but_serves_pods(string mode)
    {
        var world = In(mode);
        // IPT TestTracePacket "DROP"; TestTerminatingEndpointsTrafficPolicyLocal.
        var ext = world.Syn(External, Node, 30002);
        Assert.Equal((Verdict.Drop, DropReason.NoServiceBackend), (ext.Verdict, ext.Reason));
        Assert.Equal(["10.0.2.2"], world.Syn(Pod, Node, 30002).Candidates);
    }

    [Theory]
    [InlineData("iptables")]
    [InlineData("nftables")]
    public void Itp_local_restricts_cluster_ip_to_local_endpoints_and_drops_when_none(string mode)
    {
        var world = In(mode);
        // TestInternalTrafficPolicy.
        Assert.Equal(["10.0.1.3"], world.Syn(Pod, "172.30.0.43", 80).Candidates);
        Assert.Equal(["10.0.1.3"], world.Syn(External, "172.30.0.43", 80).Candidates);
        var none = world.Syn(Pod, "172.30.0.44", 80);
        Assert.Equal((Verdict.Drop, DropReason.NoServiceBackend), (none.Verdict, none.Reason));
    }

    [Theory]
    [InlineData("iptables")]
    [InlineData("nftables")]
    public void Terminating_endpoints_serve_only_a_scope_without_ready_ones(string mode)
    {
        var world = In(mode);
        // TestTerminatingEndpointsTrafficPolicyLocal "only terminating endpoints exist" (locally).
        Assert.Equal(["10.0.2.5"], world.Syn(Pod, "172.30.0.45", 80).Candidates);
        Assert.Equal(["10.0.1.5"], world.Syn(External, "5.6.7.8", 80).Candidates);
        // 10.0.2.6 is neither ready nor serving: never a candidate.
        Assert.DoesNotContain("10.0.2.6", world.Syn(Pod, "5.6.7.8", 80).Candidates);
    }

    [Theory]
    // TestNoEndpointsReject: every address of a service without usable endpoints rejects, pods and outsiders alike.
    [InlineData(Pod, "172.30.0.46", 80)]
    [InlineData(External, "172.30.0.46", 80)]
    [InlineData(External, Node, 30006)]
    [InlineData(Pod, "192.168.99.33", 80)]
    [InlineData(External, "9.10.11.12", 80)]
    public void No_usable_endpoint_rejects_everywhere(string src, string dst, ushort port)
    {
        foreach (var w in new[] { Iptables, Nft })
        {
            var o = w.Syn(src, dst, port);
            Assert.Equal(Verdict.Reject, o.Verdict);
            Assert.NotNull(o.OutSrc); // an ICMP error was generated towards the sender
        }
    }

    [Theory]
    // TestLoadBalancer: LB-IP traffic only from inside the ranges (leading space tolerated), pods included in the filter;
    // a node IP inside a range also admits the LB IP itself as a source; NodePort and ClusterIP bypass the ranges.
    [InlineData("203.0.113.2", "1.2.3.7", 80, Verdict.Forward)]
    [InlineData("203.0.113.200", "1.2.3.7", 80, Verdict.Drop)]
    [InlineData(Pod, "1.2.3.7", 80, Verdict.Drop)]
    [InlineData(Node, "1.2.3.7", 80, Verdict.Forward)]
    [InlineData("1.2.3.7", "1.2.3.7", 80, Verdict.Forward)]
    [InlineData("203.0.113.200", Node, 30007, Verdict.Forward)]
    [InlineData("203.0.113.200", "172.30.0.47", 80, Verdict.Forward)]
    public void Load_balancer_source_ranges(string src, string dst, ushort port, Verdict expected)
    {
        foreach (var w in new[] { Iptables, Nft })
        {
            var o = w.Syn(src, dst, port);
            Assert.Equal(expected, o.Verdict);
            if (expected == Verdict.Drop) Assert.Equal(DropReason.NotInSourceRange, o.Reason);
        }
    }

    [Theory]
    [InlineData("iptables")]
    [InlineData("nftables")]
    public void Session_affinity_pins_a_client_until_the_timeout(string mode)
    {
        var w = new PolicyWorld(mode);
        const long s = 1_000_000_000;
        string first = w.Syn("203.0.113.9", "1.2.3.7", 80, 10 * s).Backend!;
        // Each new connection within 100 s of the previous one goes to the same backend and slides the window.
        for (int i = 1; i <= 20; i++)
            Assert.Equal(first, w.Syn("203.0.113.9", "1.2.3.7", 80, (10 + i * 90) * s).Backend);
        // Another client is balanced independently; after 100 s idle the pin is gone and balancing resumes.
        var after = Enumerable.Range(0, 40).Select(i => w.Syn("203.0.113.10", "172.30.0.47", 80, (5000 + i * 101) * s).Backend).Distinct().Count();
        Assert.True(after > 1, "connections 101 s apart should be re-balanced");
    }

    [Theory]
    [InlineData("iptables")]
    [InlineData("nftables")]
    public void Health_check_node_port_is_answered_by_the_node(string mode)
    {
        var world = In(mode);
        Assert.Equal(Verdict.Local, world.Syn(External, Node, 30100).Verdict);
    }

    [Fact]
    public void Headless_and_external_name_services_get_no_entries()
    {
        Assert.Equal(Verdict.Pass, Iptables.Syn(Pod, "172.30.0.1", 80).Verdict);
        Assert.DoesNotContain(Iptables.Maps.ServiceNames, n => n.StartsWith("ns/headless") || n.StartsWith("ns/ext"));
    }

    [Fact]
    public void Nftables_rejects_unknown_ports_and_drops_unallocated_service_ips()
    {
        var nft = new PolicyWorld("nftables");
        Assert.Equal(Verdict.Reject, nft.Syn(Pod, "172.30.0.41", 81).Verdict);       // TestClusterIPGeneral (NFT)
        var d = nft.Syn(Pod, "172.30.0.200", 80);                                     // cluster-ips-check
        Assert.Equal((Verdict.Drop, DropReason.ServiceIpUnallocated), (d.Verdict, d.Reason));
        Assert.Equal(Verdict.Pass, Iptables.Syn(Pod, "172.30.0.41", 81).Verdict);           // iptables leaves both alone
        Assert.Equal(Verdict.Pass, Iptables.Syn(Pod, "172.30.0.200", 80).Verdict);
        // nftables: NodePorts only on the primary IP by default, no localhost NodePorts.
        Assert.Equal(Verdict.Pass, nft.Syn("127.0.0.1", "127.0.0.1", 30001).Verdict);
    }

    [Fact]
    public void Masquerade_all_marks_pod_traffic_to_cluster_ips()
    {
        var w = new PolicyWorld(extra: "iptables: {masqueradeAll: true}");
        Assert.True(w.Syn(Pod, "172.30.0.41", 80).Masqueraded);
        Assert.False(Iptables.Syn(Pod, "172.30.0.41", 80).Masqueraded);
    }
}
