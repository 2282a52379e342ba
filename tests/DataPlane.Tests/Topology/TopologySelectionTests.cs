using DataPlane.Kubernetes.Compiler;
using static DataPlane.Tests.Topology.TopologyWorld;

namespace DataPlane.Tests.Topology;

/// <summary>
/// kube-proxy's topology rule (pkg/proxy/topology.go CategorizeEndpoints / topologyModeFromHints) as it shapes the
/// compiled maps of node-1 (zone-a): which endpoints a new connection can reach, per traffic-policy scope.
/// Expected candidates are written by hand from the rule, not computed.
/// </summary>
public class TopologySelectionTests
{
    const string ClusterIp = "172.30.0.10";

    static TopologyWorld World(string spec, params string[] eps) => new(Nodes() + Service(spec) + Slice(eps));

    public static TheoryData<string, string[], string, TopologyMode> Rules() => new()
    {
        // Zone hints on every ready endpoint, some for zone-a: only those.
        { "zone hints all present", [Ep("10.0.1.1", "node-1", "zone-a", "zone-a"), Ep("10.0.2.1", "node-2", "zone-a", "zone-a"), Ep("10.0.3.1", "node-3", "zone-b", "zone-b")],
            "10.0.1.1,10.0.2.1", TopologyMode.PreferSameZone },
        // One ready endpoint without a zone hint: hints ignored, every endpoint.
        { "one zone hint missing", [Ep("10.0.1.1", "node-1", "zone-a", "zone-a"), Ep("10.0.2.1", "node-2", "zone-a"), Ep("10.0.3.1", "node-3", "zone-b", "zone-b")],
            "10.0.1.1,10.0.2.1,10.0.3.1", TopologyMode.None },
        // Every endpoint hinted, none for zone-a.
        { "no zone hint matches", [Ep("10.0.3.1", "node-3", "zone-b", "zone-b"), Ep("10.0.3.2", "node-3", "zone-b", "zone-c")],
            "10.0.3.1,10.0.3.2", TopologyMode.None },
        // Node hints win over zone hints when every ready endpoint has one and one names node-1.
        { "node hints preferred", [Ep("10.0.1.1", "node-1", "zone-a", "zone-a", "node-1"), Ep("10.0.2.1", "node-2", "zone-a", "zone-a", "node-2"), Ep("10.0.3.1", "node-3", "zone-b", "zone-b", "node-3")],
            "10.0.1.1", TopologyMode.PreferSameNode },
        // Node hints for other nodes only: fall back to the zone hints.
        { "node hints none for this node", [Ep("10.0.2.1", "node-2", "zone-a", "zone-a", "node-2"), Ep("10.0.3.1", "node-3", "zone-b", "zone-b", "node-3")],
            "10.0.2.1", TopologyMode.PreferSameZone },
        // A node hint missing on one endpoint: node hints ignored, zone hints used.
        { "one node hint missing", [Ep("10.0.1.1", "node-1", "zone-a", "zone-a", "node-1"), Ep("10.0.2.1", "node-2", "zone-a", "zone-a"), Ep("10.0.3.1", "node-3", "zone-b", "zone-b", "node-3")],
            "10.0.1.1,10.0.2.1", TopologyMode.PreferSameZone },
        // An endpoint may be hinted for several zones.
        { "several zones per endpoint", [Ep("10.0.3.1", "node-3", "zone-b", "zone-b,zone-a"), Ep("10.0.3.2", "node-3", "zone-b", "zone-b")],
            "10.0.3.1", TopologyMode.PreferSameZone },
        // Not-ready endpoints do not count: the unhinted one is not ready, so the hints stand.
        { "unhinted endpoint not ready", [Ep("10.0.1.1", "node-1", "zone-a", "zone-a"), Ep("10.0.3.1", "node-3", "zone-b", "zone-b"), Ep("10.0.2.9", "node-2", "zone-a", conditions: "ready: false")],
            "10.0.1.1", TopologyMode.PreferSameZone },
        // Terminating endpoints: narrowing is over ready ones; a serving-terminating one in zone-a is not added.
        { "terminating ignored while ready ones exist", [Ep("10.0.3.1", "node-3", "zone-b", "zone-a"), Ep("10.0.3.2", "node-3", "zone-b", "zone-b"), Ep("10.0.1.9", "node-1", "zone-a", "zone-a", conditions: "ready: false, serving: true, terminating: true")],
            "10.0.3.1", TopologyMode.PreferSameZone },
        // No ready endpoint anywhere: no topology, every serving-terminating endpoint (hints on them do not matter).
        { "only terminating endpoints", [Ep("10.0.1.9", "node-1", "zone-a", "zone-a", conditions: "ready: false, serving: true, terminating: true"), Ep("10.0.3.9", "node-3", "zone-b", "zone-b", conditions: "ready: false, serving: true, terminating: true")],
            "10.0.1.9,10.0.3.9", TopologyMode.None },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Cluster_ip_candidates_follow_kube_proxys_hint_rule(string why, string[] eps, string expected, TopologyMode mode)
    {
        var w = World("", eps);
        Assert.Equal(expected, w.Candidates(Pod, ClusterIp, 80));
        Assert.Equal(expected, w.Candidates(External, NodeIp, 30010)); // externalTrafficPolicy Cluster: the same scope
        Assert.True(why.Length > 0);
        Assert.Equal(mode, w.Decision?.Mode ?? TopologyMode.None); // no ready endpoint: nothing to decide, nothing recorded
    }

    [Fact]
    public void Node_without_zone_label_ignores_zone_hints()
    {
        var w = new TopologyWorld(Nodes(node1Labels: "{}") + Service("") +
            Slice(Ep("10.0.1.1", "node-1", "zone-a", "zone-a"), Ep("10.0.3.1", "node-3", "zone-b", "zone-b")));
        Assert.Equal("10.0.1.1,10.0.3.1", w.Candidates(Pod, ClusterIp, 80));
        Assert.Equal(["zone hints ignored: node node-1 has no topology.kubernetes.io/zone label"], w.Decision!.Reasons);
    }

    [Fact]
    public void Internal_traffic_policy_local_is_not_narrowed()
    {
        // iTP Local: this node's endpoints, even the one hinted for another zone (upstream: localEndpoints ignore topology).
        var w = World("internalTrafficPolicy: Local",
            Ep("10.0.1.1", "node-1", "zone-a", "zone-b"), Ep("10.0.1.2", "node-1", "zone-a", "zone-b"), Ep("10.0.2.1", "node-2", "zone-a", "zone-a"));
        Assert.Equal("10.0.1.1,10.0.1.2", w.Candidates(Pod, ClusterIp, 80));
        // The NodePort (eTP Cluster) still uses the narrowed cluster endpoints.
        Assert.Equal("10.0.2.1", w.Candidates(External, NodeIp, 30010));
    }

    [Fact]
    public void External_traffic_policy_local_narrows_only_the_internal_scope()
    {
        var w = World("externalTrafficPolicy: Local",
            Ep("10.0.1.1", "node-1", "zone-a", "zone-b"), Ep("10.0.2.1", "node-2", "zone-a", "zone-a"), Ep("10.0.3.1", "node-3", "zone-b", "zone-b"));
        // External client: local endpoints only, not narrowed (10.0.1.1 is hinted for zone-b).
        Assert.Equal("10.0.1.1", w.Candidates(External, NodeIp, 30010));
        // Pods reaching the NodePort take the cluster chain: narrowed to zone-a's hints.
        Assert.Equal("10.0.2.1", w.Candidates(Pod, NodeIp, 30010));
        // ClusterIP (iTP Cluster): narrowed.
        Assert.Equal("10.0.2.1", w.Candidates(Pod, ClusterIp, 80));
    }

    [Fact]
    public void Legacy_endpoints_have_no_hints()
    {
        var w = new TopologyWorld(Nodes() + Service("trafficDistribution: PreferClose") + """
            apiVersion: v1
            kind: Endpoints
            metadata: {name: svc, namespace: ns}
            subsets: [{addresses: [{ip: 10.0.1.1, nodeName: node-1}, {ip: 10.0.3.1, nodeName: node-3}], ports: [{name: p80, port: 80}]}]
            """);
        Assert.Equal("10.0.1.1,10.0.3.1", w.Candidates(Pod, ClusterIp, 80));
        Assert.Equal(TopologyMode.None, w.Decision!.Mode);
    }

    [Fact]
    public void Reasons_name_the_endpoint_without_a_hint()
    {
        var w = World("", Ep("10.0.1.1", "node-1", "zone-a", "zone-a", "node-1"), Ep("10.0.1.5", "node-1", "zone-a"));
        Assert.Equal(["node hints ignored: endpoint 10.0.1.5 has no node hint", "zone hints ignored: endpoint 10.0.1.5 has no zone hint"],
            w.Decision!.Reasons);
        Assert.Equal(["10.0.1.1:80"], w.Decision.NodeSubset);
        Assert.Equal(["10.0.1.1:80"], w.Decision.ZoneSubset);
    }

    [Fact]
    public void Incremental_slice_change_applies_the_same_rule()
    {
        using var dir = new DataPlane.Tests.Kubernetes.ManifestDirectory();
        string file = dir.Write("world.yaml", Nodes() + Service("") + Slice(Ep("10.0.1.1", "node-1", "zone-a"), Ep("10.0.3.1", "node-3", "zone-b")));
        var cp = new DataPlane.Kubernetes.ControlPlane(file, "node-1");
        string change = dir.Write("change.yaml", Slice(Ep("10.0.1.1", "node-1", "zone-a", "zone-a"), Ep("10.0.3.1", "node-3", "zone-b", "zone-b")));
        var maps = cp.Apply(change);
        var w = new DataPlane.Pipeline.PacketPipeline(new DataPlane.Maps.MapSetHolder(maps), new DataPlane.Pipeline.PipelineOptions { CtCapacity = 64 });
        byte[] f = DataPlane.FixtureBuilder.Frames.TcpFrame(Pod, 40000, ClusterIp, 80, DataPlane.FixtureBuilder.Frames.Tcp.Syn, 1, 0);
        var (_, r, _) = DataPlane.Tests.Infrastructure.TestWorld.Run(w, f);
        Assert.Equal(1, r.SlotCount);
        Assert.Equal("10.0.1.1", DataPlane.Packets.Ip4.Format(r.Backend.Address));
    }
}
