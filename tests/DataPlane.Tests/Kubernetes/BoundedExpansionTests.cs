using System.Text.RegularExpressions;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Kubernetes;

/// <summary>
/// Issue 18 item 1: a replica count is a number the input chooses, not work the control plane does. A Deployment with
/// <c>replicas: 2000000000</c> (a valid int32 the API server accepts) was expanded pod by pod, with one warning per pod
/// that found no address: 1.8 GB in 40 s and 845 MB of warnings a minute; 100 000 replicas printed 100 000 lines. Now
/// the cluster's capacity bounds the work (a node holds as many pods as its podCIDR has addresses, 110 without one;
/// the cluster 150 000): the pods it can hold are made, the first that does not fit is listed Pending, the rest are
/// counted, and one line per workload says so.
/// </summary>
public class BoundedExpansionTests
{
    const int TwoBillion = 2_000_000_000;
    // The default topology: three /24 podCIDRs, each holding network+2 .. broadcast-1 = 253 pods.
    const int DefaultCapacity = 3 * 253;

    static (ClusterManifests M, List<string> Warnings) Expand(string yaml)
    {
        var warnings = new List<string>();
        return (WorkloadExpander.Expand(WorkloadExpansionTests.Load(yaml), warn: warnings.Add), warnings);
    }

    static string Workload(string kind, int replicas, string podSpec = "containers: [{name: c}]", string extra = "") => $$$"""
        ---
        apiVersion: apps/v1
        kind: {{{kind}}}
        metadata: {name: web}
        spec:
          replicas: {{{replicas}}}{{{extra}}}
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {{{{podSpec}}}}

        """;

    /// <summary>The Pending count a summary line reports ("N of M pods stay Pending").</summary>
    static long PendingIn(string line)
    {
        Match m = Regex.Match(line, @": (\d+) of (\d+) pods stay Pending");
        Assert.True(m.Success, line);
        return long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData("Deployment")]
    [InlineData("StatefulSet")]
    [InlineData("ReplicaSet")]
    public void Two_billion_replicas_make_the_pods_the_cluster_holds_and_one_summary_line(string kind)
    {
        var (m, warnings) = Expand(Workload(kind, TwoBillion, extra: kind == "StatefulSet" ? "\n  serviceName: web" : ""));
        // Every address of the three podCIDRs is used, then one Pending pod is listed; nothing else is made.
        Assert.Equal(DefaultCapacity, m.Pods.Count(p => p.PodIP is not null));
        Assert.Equal(DefaultCapacity + 1, m.Pods.Count);
        Assert.Equal(PodPhase.Pending, m.Pods[^1].Phase);
        Assert.Null(m.Pods[^1].PodIP);
        Assert.Equal(TwoBillion - DefaultCapacity - 1, m.UnlistedPendingPods);
        string line = Assert.Single(warnings);
        Assert.Equal(TwoBillion - DefaultCapacity, PendingIn(line));
        Assert.Contains($"of {TwoBillion} pods stay Pending (1 listed): 0/3 nodes have room: all 3 eligible nodes are full", line);
        Assert.StartsWith($"{kind} default/web: ", line);
    }

    [Fact]
    public void A_hundred_thousand_replicas_print_one_line_not_one_per_pod()
    {
        var (m, warnings) = Expand(Workload("Deployment", 100_000));
        Assert.Equal(100_000 - DefaultCapacity, PendingIn(Assert.Single(warnings)));
        Assert.Equal(DefaultCapacity + 1, m.Pods.Count);
    }

    [Fact]
    public void Replicas_that_no_node_accepts_are_one_listed_pod_and_one_line()
    {
        // A nodeSelector no node matches: every replica stays Pending for the same reason, decided once.
        var (m, warnings) = Expand(Workload("Deployment", TwoBillion, podSpec: "nodeSelector: {disk: nvme}, containers: [{name: c}]"));
        Pod p = Assert.Single(m.Pods);
        Assert.Equal(PodPhase.Pending, p.Phase);
        string line = Assert.Single(warnings);
        Assert.Equal(TwoBillion, PendingIn(line));
        Assert.Contains("0/3 nodes are available", line);

        // spec.nodeName naming no node: the same.
        (m, warnings) = Expand(Workload("Deployment", TwoBillion, podSpec: "nodeName: nowhere, containers: [{name: c}]"));
        Assert.Single(m.Pods);
        Assert.Contains("spec.nodeName 'nowhere' is not a node", Assert.Single(warnings));
    }

    [Fact]
    public void HostNetwork_replicas_are_bounded_by_the_nodes_too()
    {
        // hostNetwork pods need no address, but a node still holds only so many pods (the kubelet's max-pods, sized
        // to the podCIDR here): without that bound they would be the one unbounded loop left.
        var (m, warnings) = Expand(Workload("Deployment", TwoBillion, podSpec: "hostNetwork: true, containers: [{name: c}]"));
        Assert.Equal(DefaultCapacity, m.Pods.Count(p => p.PodIP is not null));
        Assert.Equal(TwoBillion - DefaultCapacity, PendingIn(Assert.Single(warnings)));
    }

    [Fact]
    public void Huge_pod_cidrs_are_capped_at_the_largest_cluster_kubernetes_supports()
    {
        // One node with a /8 podCIDR would otherwise hold 16 M pods.
        string node = """
            apiVersion: v1
            kind: Node
            metadata: {name: big}
            spec: {podCIDR: 10.0.0.0/8}
            status: {addresses: [{type: InternalIP, address: 192.168.0.2}]}

            """;
        var (m, warnings) = Expand(node + Workload("Deployment", TwoBillion));
        Assert.Equal(WorkloadExpander.MaxClusterPods, m.Pods.Count(p => p.PodIP is not null));
        string line = Assert.Single(warnings);
        Assert.Equal(TwoBillion - WorkloadExpander.MaxClusterPods, PendingIn(line));
        Assert.Contains("the cluster holds 150000 pods", line);
    }

    [Fact]
    public void A_full_node_is_passed_over_while_another_has_room()
    {
        // n1's /29 holds 5 pods (.2-.6), n2's /24 253: the scheduler stops placing on n1 once it is full instead of
        // giving it pods that then get no address.
        string nodes = """
            apiVersion: v1
            kind: Node
            metadata: {name: n1}
            spec: {podCIDR: 10.1.1.0/29}
            status: {addresses: [{type: InternalIP, address: 10.0.0.1}]}
            ---
            apiVersion: v1
            kind: Node
            metadata: {name: n2}
            spec: {podCIDR: 10.1.2.0/24}
            status: {addresses: [{type: InternalIP, address: 10.0.0.2}]}

            """;
        var (m, warnings) = Expand(nodes + Workload("Deployment", 20));
        Assert.Empty(warnings);
        Assert.Equal(5, m.Pods.Count(p => p.NodeName == "n1"));
        Assert.Equal(15, m.Pods.Count(p => p.NodeName == "n2"));
        Assert.All(m.Pods, p => Assert.NotNull(p.PodIP));
    }

    [Fact]
    public void Maps_and_replay_apply_at_of_two_billion_replicas_finish_with_one_warning_line()
    {
        using var tmp = new TempDir("bounded");
        string huge = Path.Combine(tmp.Path, "huge.yaml");
        File.WriteAllText(huge, Workload("Deployment", TwoBillion, podSpec: "containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]") + """
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec: {selector: {app: web}, ports: [{name: http, port: 80, targetPort: http}]}
            """);
        var maps = CliTests.Run("maps", "--cluster", huge);
        Assert.True(maps.ExitCode == 0, maps.ToString());
        string line = Assert.Single(maps.StderrLines);
        Assert.Equal(TwoBillion - DefaultCapacity, PendingIn(line));
        // Every pod with an address is a backend of the service: 759 slots behind its ClusterIP.
        Assert.Contains($"({DefaultCapacity})", maps.Stdout);

        // The cluster view says how many it did not list, from the same count as the warning (text and JSON).
        var cluster = CliTests.Run("cluster", "--cluster", huge);
        Assert.True(cluster.ExitCode == 0, cluster.ToString());
        Assert.Contains($"... and {TwoBillion - DefaultCapacity - 1} more Pending pods not listed (no node has room for them: counted, not made)", cluster.Stdout);
        var json = CliTests.Run("cluster", "--cluster", huge, "--json");
        Assert.Contains($"\"unlistedPendingPods\":{TwoBillion - DefaultCapacity - 1}", json.Stdout.Replace(" ", "", StringComparison.Ordinal));

        // The same manifest applied mid-replay is a new generation, not a hang.
        var replay = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1",
            Repo.Path_("pcaps", "cases", "001-clusterip-tcp", "input.pcap"), "-q", "--apply-at", $"0={huge}");
        Assert.True(replay.ExitCode == 0, replay.ToString());
        Assert.Contains($"+0s apply {huge}, first met by frame 1 (+0s): generation 2", replay.Stdout);
    }
}
