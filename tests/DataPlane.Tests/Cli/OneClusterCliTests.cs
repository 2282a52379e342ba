using System.Text.Json.Nodes;
using DataPlane.Tests.Infrastructure;
using DataPlane.Tests.Kubernetes;

namespace DataPlane.Tests.Cli;

/// <summary>
/// Each command reads the one resolved cluster: the outputs a new user met that disagreed with the engine, as the
/// user typed them.
/// </summary>
public class OneClusterCliTests
{
    static readonly string Web = Repo.Path_("pcaps", "examples", "web.yaml");

    [Fact]
    public void Endpoint_rows_name_the_pod_each_address_is()
    {
        using var dir = new ManifestDirectory();
        // hostNetwork pods of a DaemonSet share their node's address: the controller's targetRef says which pod.
        string ds = dir.Write("ds.yaml", """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata: {name: agent}
            spec:
              selector: {matchLabels: {app: agent}}
              template:
                metadata: {labels: {app: agent}}
                spec: {hostNetwork: true, containers: [{name: a, ports: [{containerPort: 9100}]}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: agent}
            spec: {selector: {app: agent}, ports: [{port: 9100}]}
            """);
        var r = CliTests.Run("cluster", "--cluster", ds, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        JsonNode agent = JsonNode.Parse(r.Stdout)!["services"]!.AsArray().Single(s => (string)s!["name"]! == "agent")!;
        string[] pods = [.. agent["endpoints"]!.AsArray().Select(e => (string)e!["pod"]!)];
        Assert.Equal(3, pods.Length);
        Assert.All(pods, p => Assert.StartsWith("agent-", p));
        Assert.Equal(3, pods.Distinct().Count());

        // A dumped slice carries targetRef: two pods with the same IP (hostNetwork, one node) are told apart by it.
        string dump = dir.Write("dump.yaml", """
            apiVersion: v1
            kind: Node
            metadata: {name: n1}
            status: {addresses: [{type: InternalIP, address: 10.0.0.5}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: exporter-a, namespace: mon}
            spec: {nodeName: n1, hostNetwork: true, containers: [{name: c}]}
            status: {phase: Running, podIP: 10.0.0.5, hostIP: 10.0.0.5, conditions: [{type: Ready, status: "True"}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: exporter-b, namespace: mon}
            spec: {nodeName: n1, hostNetwork: true, containers: [{name: c}]}
            status: {phase: Running, podIP: 10.0.0.5, hostIP: 10.0.0.5, conditions: [{type: Ready, status: "True"}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: exporter, namespace: mon}
            spec: {clusterIP: 10.96.5.5, ports: [{name: m, port: 9100}]}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: exporter-x, namespace: mon, labels: {kubernetes.io/service-name: exporter}}
            addressType: IPv4
            ports: [{name: m, port: 9100, protocol: TCP}]
            endpoints:
            - {addresses: [10.0.0.5], nodeName: n1, targetRef: {kind: Pod, name: exporter-b, namespace: mon}}
            """);
        var d = CliTests.Run("cluster", "--cluster", dump);
        Assert.True(d.ExitCode == 0, d.ToString());
        Assert.Contains(d.Stdout.Split('\n'), l => l.StartsWith("mon", StringComparison.Ordinal) && l.Contains("10.0.0.5:9100") && l.TrimEnd().EndsWith("exporter-b", StringComparison.Ordinal));
    }

    [Fact]
    public void A_pod_that_gets_no_address_is_pending_and_not_ready()
    {
        using var dir = new ManifestDirectory();
        string path = dir.Write("c.yaml", """
            apiVersion: v1
            kind: Node
            metadata: {name: lonely}
            status: {addresses: [{type: InternalIP, address: 192.168.9.9}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec: {containers: [{name: c}]}
            """);
        var r = CliTests.Run("cluster", "--cluster", path);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"\ndefault\s+p\s+0/1\s+Pending\s+<none>\s+lonely", r.Stdout);
    }

    [Fact]
    public void Trace_runs_on_the_node_where_the_source_pod_lives()
    {
        // The pod on node-2 connects to its Service: node-2's data plane sees the packet (the hairpin case is below).
        string pod = CliJson("cluster", "--cluster", Web, "--json")["pods"]!.AsArray().Select(p => p!).Single(p => (string)p["node"]! == "node-2")["name"]!.ToString();
        JsonNode t = CliJson("trace", "--cluster", Web, "--src", $"default/{pod}", "--dst", "web:80", "--json", "--seed", "7");
        Assert.Equal($"node-2 (where pod default/{pod} runs)", (string)t["node"]!);
        // An explicit --node wins, and then no node line is printed.
        JsonNode pinned = CliJson("trace", "--cluster", Web, "--node", "node-1", "--src", $"default/{pod}", "--dst", "web:80", "--json");
        Assert.Null(pinned["node"]);
        // A node's own address: that node.
        JsonNode fromNode = CliJson("trace", "--cluster", Web, "--src", "192.168.0.4", "--dst", "web:80", "--json");
        Assert.Equal("node-3 (192.168.0.4 is this node's address)", (string)fromNode["node"]!);
    }

    [Fact]
    public void A_hairpin_is_masqueraded_to_the_address_of_the_source_pod_s_node()
    {
        // One pod pinned to node-2, alone behind its Service: its connection to the Service comes back to itself, so
        // kube-proxy masquerades it — MASQUERADE takes the address of the interface it leaves by, node-2's bridge, the
        // gateway of node-2's pod CIDR (node-1's 10.244.1.1 would be the wrong node).
        using var dir = new ManifestDirectory();
        string path = dir.Write("h.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: solo, labels: {app: solo}}
            spec: {nodeName: node-2, containers: [{name: c, ports: [{containerPort: 8080}]}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: solo}
            spec: {selector: {app: solo}, ports: [{port: 80, targetPort: 8080}]}
            """);
        JsonNode t = CliJson("trace", "--cluster", path, "--src", "default/solo", "--dst", "solo:80", "--json");
        Assert.Equal("node-2 (where pod default/solo runs)", (string)t["node"]!);
        Assert.Equal("10.244.2.2:8080", (string)t["backend"]!);
        Assert.True((bool)t["masquerade"]!);
        Assert.StartsWith("10.244.2.1:", (string)t["out"]!["src"]!);
    }

    [Fact]
    public void Trace_takes_the_pipeline_options_replay_takes()
    {
        // --host-ports: the node serves 8080 itself, so a SYN to its address there goes to the host stack (not reset).
        JsonNode reset = CliJson("trace", "--cluster", Web, "--src", "203.0.113.2", "--dst", "192.168.0.2:8080", "--json");
        Assert.Equal("reject", (string)reset["verdict"]!);
        JsonNode served = CliJson("trace", "--cluster", Web, "--src", "203.0.113.2", "--dst", "192.168.0.2:8080", "--host-ports", "8080/tcp", "--json");
        Assert.Equal("pass", (string)served["verdict"]!);
        // --snat-port-range: the masquerade source port comes from the range given.
        JsonNode snat = CliJson("trace", "--cluster", Web, "--src", "203.0.113.2:40001", "--dst", "192.168.0.2:30080", "--snat-port-range", "50000-50009", "--json");
        int port = int.Parse(((string)snat["out"]!["src"]!).Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(port, 50000, 50009);
    }

    [Fact]
    public void A_node_port_miss_names_the_node_ports_in_force_and_a_health_check_port_is_called_so()
    {
        using var dir = new ManifestDirectory();
        // A NodePort service that writes no nodePort: the allocator gives it 30000, and the miss names it.
        string allocated = dir.Write("np.yaml", File.ReadAllText(Web).Replace("nodePort: 30080", ""));
        JsonNode miss = CliJson("trace", "--cluster", allocated, "--src", "203.0.113.2", "--dst", "192.168.0.2:30081", "--json");
        Assert.Contains("(NodePorts: default/web 30000/TCP)", (string)miss["why"]!);

        string lb = dir.Write("lb.yaml", File.ReadAllText(Web).Replace("type: NodePort", "type: LoadBalancer\n  externalTrafficPolicy: Local\n  healthCheckNodePort: 32000"));
        JsonNode hc = CliJson("trace", "--cluster", lb, "--src", "203.0.113.2", "--dst", "192.168.0.2:32000", "--json");
        Assert.StartsWith("192.168.0.2:32000/TCP is default/web's healthCheckNodePort", (string)hc["why"]!);
        Assert.DoesNotContain("ClusterIP", (string)hc["why"]!);
    }

    [Fact]
    public void Env_prints_the_kubernetes_service_and_what_each_pod_sees()
    {
        var all = CliTests.Run("env", "--cluster", Web);
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.StartsWith("KUBERNETES_PORT=tcp://10.96.0.1:443\n", all.Stdout.Split('\n').Order(StringComparer.Ordinal).Where(l => l.Length > 0).Select(l => l + "\n").First());
        Assert.Contains("KUBERNETES_SERVICE_HOST=10.96.0.1\n", all.Stdout);
        Assert.Contains("WEB_SERVICE_HOST=10.96.0.2\n", all.Stdout);

        using var dir = new ManifestDirectory();
        // The pod is applied first, the Service after it: the pod's environment has only the kubernetes service.
        string pod = dir.Write("1-pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: early, labels: {app: web}}\nspec: {containers: [{name: c}]}\n");
        string svc = dir.Write("2-svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: late}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n");
        string later = dir.Write("3-pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: later}\nspec: {containers: [{name: c}]}\n---\n" +
            "apiVersion: v1\nkind: Pod\nmetadata: {name: nolinks}\nspec: {enableServiceLinks: false, containers: [{name: c}]}\n");
        var early = CliTests.Run("env", "--cluster", pod, "--cluster", svc, "--cluster", later, "--from", "default/early");
        Assert.True(early.ExitCode == 0, early.ToString());
        Assert.Contains("KUBERNETES_SERVICE_HOST=", early.Stdout);
        Assert.DoesNotContain("LATE_", early.Stdout);
        var late = CliTests.Run("env", "--cluster", pod, "--cluster", svc, "--cluster", later, "--from", "default/later");
        Assert.Contains("LATE_SERVICE_HOST=", late.Stdout);
        var noLinks = CliTests.Run("env", "--cluster", pod, "--cluster", svc, "--cluster", later, "--from", "default/nolinks");
        Assert.Contains("KUBERNETES_SERVICE_HOST=", noLinks.Stdout);
        Assert.DoesNotContain("LATE_", noLinks.Stdout);
    }

    [Fact]
    public void A_pod_object_named_like_a_generated_pod_sets_its_readiness()
    {
        string name = CliJson("cluster", "--cluster", Web, "--json")["pods"]!.AsArray().Select(p => p!).Single(p => (string)p["node"]! == "node-2")["name"]!.ToString();
        using var dir = new ManifestDirectory();
        string status = dir.Write("status.yaml", $"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nstatus:\n  conditions: [{{type: Ready, status: \"False\"}}]\n");
        JsonNode c = CliJson("cluster", "--cluster", Web, "--cluster", status, "--json");
        JsonNode[] pods = [.. c["pods"]!.AsArray().Select(p => p!)];
        Assert.Equal(3, pods.Length); // the status is that pod's, not a fourth pod
        Assert.False((bool)pods.Single(p => (string)p["name"]! == name)["ready"]!);
        Assert.Equal(2, pods.Count(p => (bool)p["ready"]!));
        JsonNode t = CliJson("trace", "--cluster", Web, "--cluster", status, "--node", "node-1", "--src", "10.244.1.2", "--dst", "web:80", "--json");
        Assert.Equal(["10.244.1.2:80", "10.244.3.2:80"], t["candidates"]!.AsArray().Select(x => (string)x!));
    }

    static JsonNode CliJson(params string[] args)
    {
        var r = CliTests.Run(args);
        Assert.True(r.ExitCode == 0, r.ToString());
        return JsonNode.Parse(r.Stdout)!;
    }
}
