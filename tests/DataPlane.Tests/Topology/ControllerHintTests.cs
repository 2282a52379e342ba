using DataPlane.Kubernetes.Manifests;
using DataPlane.Tests.Kubernetes;
using static DataPlane.Tests.Topology.TopologyWorld;

namespace DataPlane.Tests.Topology;

/// <summary>
/// The hints DataPlane's endpoints controller writes on the slices it makes from Pods, against the EndpointSlice
/// controller's rule (k8s.io/endpointslice trafficdist and topologycache; written down on TopologyHints). Nodes:
/// node-1 and node-2 in zone-a (4 CPU each), node-3 in zone-b (8 CPU), so the CPU ratio is 1:1. Expected hints are
/// worked out by hand from that rule.
/// </summary>
public class ControllerHintTests
{
    const string Selector = "{app: web}";

    static TopologyWorld World(string spec, string annotations, string pods, string nodes = "") =>
        new((nodes.Length > 0 ? nodes : Nodes()) + Service(spec, annotations, Selector) + pods);

    static readonly string FourPods = PodOn("a1", "10.0.1.1", "node-1") + PodOn("a2", "10.0.1.2", "node-1") + PodOn("a3", "10.0.2.1", "node-2") + PodOn("b1", "10.0.3.1", "node-3");

    [Theory]
    [InlineData("PreferClose")]
    [InlineData("PreferSameZone")]
    public void Prefer_same_zone_hints_each_ready_endpoint_for_its_own_zone(string td)
    {
        var w = World($"trafficDistribution: {td}", "{}", FourPods + PodOn("b9", "10.0.3.9", "node-3", ready: false));
        Assert.Equal(["10.0.1.1 zones=zone-a nodes=", "10.0.1.2 zones=zone-a nodes=", "10.0.2.1 zones=zone-a nodes=", "10.0.3.1 zones=zone-b nodes=",
            "10.0.3.9 zones= nodes="], w.ControllerHints());
        Assert.Equal("10.0.1.1,10.0.1.2,10.0.2.1", w.Candidates(TopologyWorld.Pod, "172.30.0.10", 80));
    }

    [Fact]
    public void Prefer_same_node_adds_node_hints_and_falls_back_to_the_zone()
    {
        var w = World("trafficDistribution: PreferSameNode", "{}", FourPods);
        Assert.Equal(["10.0.1.1 zones=zone-a nodes=node-1", "10.0.1.2 zones=zone-a nodes=node-1", "10.0.2.1 zones=zone-a nodes=node-2",
            "10.0.3.1 zones=zone-b nodes=node-3"], w.ControllerHints());
        Assert.Equal("10.0.1.1,10.0.1.2", w.Candidates(TopologyWorld.Pod, "172.30.0.10", 80));
        // No pod on node-1: node hints name other nodes only, zone hints narrow to zone-a.
        var far = World("trafficDistribution: PreferSameNode", "{}", PodOn("a3", "10.0.2.1", "node-2") + PodOn("b1", "10.0.3.1", "node-3"));
        Assert.Equal("10.0.2.1", far.Candidates(TopologyWorld.Pod, "172.30.0.10", 80));
    }

    [Fact]
    public void Unknown_traffic_distribution_writes_no_hints()
    {
        var w = World("trafficDistribution: Elsewhere", "{}", FourPods);
        Assert.All(w.ControllerHints(), h => Assert.EndsWith("zones= nodes=", h));
        Assert.Equal("10.0.1.1,10.0.1.2,10.0.2.1,10.0.3.1", w.Candidates(TopologyWorld.Pod, "172.30.0.10", 80));
    }

    [Fact]
    public void Auto_hints_are_proportional_to_zone_cpu()
    {
        // 4 endpoints, CPU 1:1: desired 2 per zone (minimum ⌈2/1.2⌉ = 2). zone-a has 3: it gives its first one to zone-b.
        var w = World("", "{service.kubernetes.io/topology-mode: Auto}", FourPods);
        Assert.Equal(["10.0.1.1 zones=zone-b nodes=", "10.0.1.2 zones=zone-a nodes=", "10.0.2.1 zones=zone-a nodes=", "10.0.3.1 zones=zone-b nodes="],
            w.ControllerHints());
        Assert.Equal("10.0.1.2,10.0.2.1", w.Candidates(TopologyWorld.Pod, "172.30.0.10", 80));
        Assert.Empty(w.Warnings);
    }

    [Fact]
    public void Auto_with_balanced_zones_hints_each_endpoint_for_its_own_zone()
    {
        var w = World("", "{service.kubernetes.io/topology-mode: auto}", PodOn("a1", "10.0.1.1", "node-1") + PodOn("b1", "10.0.3.1", "node-3"));
        Assert.Equal(["10.0.1.1 zones=zone-a nodes=", "10.0.3.1 zones=zone-b nodes="], w.ControllerHints());
        Assert.Equal("10.0.1.1", w.Candidates(TopologyWorld.Pod, "172.30.0.10", 80));
    }

    public static TheoryData<string, string, string, string> AutoDropped() => new()
    {
        // 3 endpoints at 1:1: minimum ⌈1.5/1.2⌉ = 2 per zone, 4 > 3.
        { "overload threshold", "", PodOn("a1", "10.0.1.1", "node-1") + PodOn("a3", "10.0.2.1", "node-2") + PodOn("b1", "10.0.3.1", "node-3"),
            "unable to allocate the minimum endpoints to each zone without exceeding the overload threshold (3 endpoints, 2 zones)" },
        { "fewer endpoints than zones", "", PodOn("a1", "10.0.1.1", "node-1"), "insufficient number of endpoints (1 endpoints, 2 zones)" },
        { "node without allocatable CPU", Nodes(node1Cpu: "0"), FourPods,
            "insufficient node information: node node-1 has no topology.kubernetes.io/zone label or no allocatable CPU" },
        { "node without zone", Nodes(node1Labels: "{}"), FourPods,
            "insufficient node information: node node-1 has no topology.kubernetes.io/zone label or no allocatable CPU" },
        // node-3 is the only zone-b node; as a control-plane node it does not count.
        { "one zone", Nodes(node3Labels: "{topology.kubernetes.io/zone: zone-b, node-role.kubernetes.io/control-plane: \"\"}"), FourPods,
            "insufficient node information: ready nodes in 1 zone, at least 2 needed" },
    };

    [Theory]
    [MemberData(nameof(AutoDropped))]
    public void Auto_hints_are_dropped_when_zones_cannot_be_balanced(string why, string nodes, string pods, string warning)
    {
        var w = World("", "{service.kubernetes.io/topology-mode: Auto}", pods, nodes);
        Assert.True(why.Length > 0);
        Assert.All(w.ControllerHints(), h => Assert.EndsWith("zones= nodes=", h));
        Assert.Equal([$"Service ns/svc: topology-aware hints not written: {warning}"], w.Warnings);
    }

    [Fact]
    public void Auto_annotation_wins_over_traffic_distribution_and_the_old_annotation_wins_over_the_new()
    {
        var auto = World("trafficDistribution: PreferSameNode", "{service.kubernetes.io/topology-mode: Auto}", FourPods);
        Assert.Equal("10.0.1.1 zones=zone-b nodes=", auto.ControllerHints()[0]);
        var old = World("trafficDistribution: PreferSameNode",
            "{service.kubernetes.io/topology-aware-hints: Disabled, service.kubernetes.io/topology-mode: Auto}", FourPods);
        Assert.Equal("10.0.1.1 zones=zone-a nodes=node-1", old.ControllerHints()[0]);
    }

    [Theory]
    [InlineData("\"2\"", 2000)]
    [InlineData("2", 2000)]
    [InlineData("1500m", 1500)]
    [InlineData("0.5", 500)]
    [InlineData("\"0.0001\"", 1)] // MilliValue rounds up
    [InlineData("1k", 1_000_000)]
    [InlineData("1Ki", 1_024_000)]
    [InlineData("1e3", 1_000_000)]
    public void Allocatable_cpu_quantities(string cpu, long millis)
    {
        var m = Load(Nodes(node1Cpu: cpu));
        Assert.Equal(millis, m.Nodes.Single(n => n.Name == "node-1").AllocatableMilliCpu);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("\"1.5x\"")]
    [InlineData("\"-1\"")]
    public void Invalid_cpu_quantity_names_the_field(string cpu)
    {
        var e = Assert.Throws<ManifestException>(() => Load(Nodes(node1Cpu: cpu)));
        Assert.Contains("Node node-1", e.Message);
        Assert.Contains("status.allocatable.cpu", e.Message);
    }

    [Fact]
    public void Slice_hints_and_node_conditions_are_read()
    {
        var m = Load(Nodes() + Service("") + Slice(Ep("10.0.1.1", "node-1", "zone-a", "zone-a,zone-b", "node-1")) + """
            ---
            apiVersion: v1
            kind: Node
            metadata: {name: node-4}
            status: {addresses: [{type: InternalIP, address: 192.168.0.5}], conditions: [{type: Ready, status: "False"}]}
            """);
        SliceEndpoint ep = m.EndpointSlices.Single().Endpoints.Single();
        Assert.Equal(["zone-a", "zone-b"], ep.ForZones);
        Assert.Equal(["node-1"], ep.ForNodes);
        Assert.Equal("zone-a", m.Nodes[0].Zone);
        Assert.Null(m.Nodes[0].Ready);
        Assert.False(m.Nodes.Single(n => n.Name == "node-4").Ready);
    }

    static ClusterManifests Load(string yaml)
    {
        using var dir = new ManifestDirectory();
        return ManifestLoader.Load(dir.Write("m.yaml", yaml));
    }
}
