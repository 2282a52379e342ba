using System.Text.RegularExpressions;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Tests.Kubernetes;

/// <summary>
/// Workloads become pods as the controllers, the scheduler and host-local IPAM would make them: names, nodes, IPs,
/// readiness, determinism; existing pods are not duplicated; nodes from the default topology or from a dump's pods.
/// Expected addresses are written out by hand from the documented rules (nodes node-1..3 = 10.244.1-3.0/24, first
/// address .2, least-loaded node first, ties in node order).
/// </summary>
public class WorkloadExpansionTests
{
    const string Suffix = "[bcdfghjklmnpqrstvwxz2456789]";

    internal static ClusterManifests Load(string yaml)
    {
        using var dir = new ManifestDirectory();
        dir.Write("cluster.yaml", yaml);
        return ManifestLoader.Load(dir.Root);
    }

    static (ClusterManifests M, List<string> Warnings) Expand(string yaml, Cidr4? pool = null)
    {
        var warnings = new List<string>();
        return (WorkloadExpander.Expand(Load(yaml), pool, warnings.Add), warnings);
    }

    static string Deployment(string name, int? replicas = 3, string labels = "{app: web}", string podSpec = "containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]",
        string annotations = "{}", string extraMeta = "") => $$"""
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: {{name}}{{extraMeta}}}
        spec:
          {{(replicas is int r ? $"replicas: {r}" : "")}}
          selector: {matchLabels: {{labels}}}
          template:
            metadata: {labels: {{labels}}, annotations: {{annotations}}}
            spec: {{{podSpec}}}

        """;

    static string Node(string name, string ip, string cidr, string extraSpec = "", string labels = "{}") => $$"""
        ---
        apiVersion: v1
        kind: Node
        metadata: {name: {{name}}, labels: {{labels}}}
        spec: {podCIDR: {{cidr}}{{extraSpec}}}
        status: {addresses: [{type: InternalIP, address: {{ip}}}]}

        """;

    static string ThreeNodes(string n1Spec = "", string n2Labels = "{}", string n3Spec = "") =>
        Node("n1", "10.0.0.1", "10.1.1.0/24", n1Spec) + Node("n2", "10.0.0.2", "10.1.2.0/24", labels: n2Labels) + Node("n3", "10.0.0.3", "10.1.3.0/24", n3Spec);

    static string[] Placement(ClusterManifests m) => [.. m.Pods.Select(p => $"{p.Name} {p.NodeName} {(p.PodIP is uint ip ? Ip4.Format(ip) : "-")}")];

    [Fact]
    public void Deployment_pods_are_named_after_their_replicaset_and_spread_over_the_default_nodes()
    {
        var (m, warnings) = Expand(Deployment("web"));
        Assert.Empty(warnings);
        Assert.Equal(["node-1", "node-2", "node-3"], m.Nodes.Select(n => n.Name));
        Assert.Equal(["10.244.1.0/24", "10.244.2.0/24", "10.244.3.0/24"], m.Nodes.Select(n => n.PodCIDR.ToString()));
        Assert.Equal(["192.168.0.2", "192.168.0.3", "192.168.0.4"], m.Nodes.Select(n => Ip4.Format(n.InternalIPs[0])));
        Assert.Equal(3, m.Pods.Count);
        string rs = WorkloadExpander.ReplicaSetName(m.Workloads[0]);
        Assert.Matches($"^web-{Suffix}{{1,10}}$", rs);
        foreach (Pod p in m.Pods)
        {
            Assert.Matches($"^{Regex.Escape(rs)}-{Suffix}{{5}}$", p.Name);
            Assert.Equal($"ReplicaSet/{rs}", p.Owner);
            Assert.Equal(rs[4..], p.Labels[WorkloadExpander.PodTemplateHashLabel]);
            Assert.Equal("web", p.Labels["app"]);
            Assert.True(p.Ready);
            Assert.Equal(PodPhase.Running, p.Phase);
            Assert.Equal([new ContainerPort("http", 8080, PortProtocol.TCP)], p.ContainerPorts);
        }
        Assert.Equal(3, m.Pods.Select(p => p.Name).Distinct().Count());
        Assert.Equal(["node-1 10.244.1.2", "node-2 10.244.2.2", "node-3 10.244.3.2"], m.Pods.Select(p => $"{p.NodeName} {Ip4.Format(p.PodIP!.Value)}"));
        Assert.Equal([DefaultTopology.ClusterCidr], m.ProxyConfig.ClusterCIDRs);
    }

    [Fact]
    public void Same_manifests_give_the_same_pods_and_the_hash_follows_the_template_but_not_the_ready_annotation()
    {
        string yaml = Deployment("web") + Deployment("api", 2, "{app: api}");
        Assert.Equal(Placement(Expand(yaml).M), Placement(Expand(yaml).M));

        string rs = WorkloadExpander.ReplicaSetName(Load(Deployment("web")).Workloads[0]);
        Assert.NotEqual(rs, WorkloadExpander.ReplicaSetName(Load(Deployment("web", podSpec: "containers: [{name: c, image: nginx:2}]")).Workloads[0]));
        Assert.Equal(rs, WorkloadExpander.ReplicaSetName(Load(Deployment("web", 5)).Workloads[0])); // replicas are not in the template
        Assert.Equal(rs, WorkloadExpander.ReplicaSetName(Load(Deployment("web", annotations: "{dataplane.k8s.io/ready: \"false\"}")).Workloads[0]));
    }

    [Fact]
    public void Fnv_and_safe_encoding_match_their_definitions()
    {
        Assert.Equal(0xe40c292cu, PodNames.Fnv1a("a"));           // FNV-1a 32 test vector
        Assert.Equal(0x811c9dc5u, PodNames.Fnv1a(""));            // the offset basis
        Assert.Equal("567", PodNames.SafeEncode("123"));          // '1' = 49, 49 mod 27 = 22 → '5'
    }

    [Theory]
    // name, manifests, expected "pod node ip" lines (pod names with generated suffixes are matched by prefix)
    [InlineData("two deployments continue the round-robin, least loaded first", "two",
        "web- n1 10.1.1.2|web- n2 10.1.2.2|web- n3 10.1.3.2|api- n1 10.1.1.3|api- n2 10.1.2.3")]
    [InlineData("nodeSelector keeps every replica on the matching node", "selector",
        "web- n2 10.1.2.2|web- n2 10.1.2.3|web- n2 10.1.2.4")]
    [InlineData("an unschedulable node gets no new pod", "cordon",
        "web- n2 10.1.2.2|web- n3 10.1.3.2|web- n2 10.1.2.3")]
    [InlineData("a NoSchedule taint keeps pods away unless tolerated", "taint",
        "web- n1 10.1.1.2|web- n2 10.1.2.2|web- n1 10.1.1.3|ok- n3 10.1.3.2|ok- n2 10.1.2.3|ok- n3 10.1.3.3")]
    [InlineData("nodeName binds directly; IPAM skips the addresses dumped pods hold", "nodename",
        "dumped n1 10.1.1.2|dumped2 n1 10.1.1.3|web- n1 10.1.1.4|web- n1 10.1.1.5")]
    [InlineData("replicas defaults to 1, 0 makes none", "replicas", "one- n1 10.1.1.2")]
    [InlineData("a bare pod without status is scheduled like the others", "bare", "lonely n1 10.1.1.2|web- n2 10.1.2.2")]
    [InlineData("hostNetwork pods take the node's address", "hostnet", "web- n1 10.0.0.1|web- n2 10.0.0.2")]
    public void Placement_and_addresses(string why, string world, string expected)
    {
        string yaml = world switch
        {
            "two" => ThreeNodes() + Deployment("web") + Deployment("api", 2, "{app: api}"),
            "selector" => ThreeNodes(n2Labels: "{disk: ssd}") + Deployment("web", podSpec: "nodeSelector: {disk: ssd}, containers: [{name: c}]"),
            "cordon" => ThreeNodes(n1Spec: ", unschedulable: true") + Deployment("web"),
            "taint" => ThreeNodes(n3Spec: ", taints: [{key: dedicated, value: db, effect: NoSchedule}]") + Deployment("web")
                + Deployment("ok", podSpec: "tolerations: [{key: dedicated, operator: Equal, value: db, effect: NoSchedule}], containers: [{name: c}]", labels: "{app: ok}"),
            "nodename" => ThreeNodes() + """
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: dumped}
                spec: {nodeName: n1, containers: [{name: c}]}
                status: {podIP: 10.1.1.2}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: dumped2}
                spec: {nodeName: n1, containers: [{name: c}]}
                status: {podIP: 10.1.1.3}
                """ + "\n" + Deployment("web", 2, podSpec: "nodeName: n1, containers: [{name: c}]"),
            "replicas" => ThreeNodes() + Deployment("one", null, "{app: one}") + Deployment("none", 0, "{app: none}"),
            "bare" => ThreeNodes() + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: lonely}\nspec: {containers: [{name: c}]}\n" + Deployment("web", 1),
            "hostnet" => ThreeNodes() + Deployment("web", 2, podSpec: "hostNetwork: true, containers: [{name: c}]"),
            _ => throw new ArgumentException(world),
        };
        var (m, _) = Expand(yaml);
        string[] want = expected.Split('|');
        string[] got = Placement(m);
        Assert.True(want.Length == got.Length, $"{why}: {string.Join(" | ", got)}");
        for (int i = 0; i < want.Length; i++)
        {
            string[] w = want[i].Split(' '), g = got[i].Split(' ');
            Assert.True(w[0].EndsWith('-') ? g[0].StartsWith(w[0], StringComparison.Ordinal) : g[0] == w[0], $"{why}: pod {i}: {got[i]}");
            Assert.True(w[1] == g[1] && w[2] == g[2], $"{why}: pod {i}: expected {want[i]}, got {got[i]}");
        }
    }

    [Fact]
    public void No_eligible_node_leaves_the_pod_pending_without_an_address()
    {
        var (m, warnings) = Expand(ThreeNodes() + Deployment("web", 1, podSpec: "nodeSelector: {disk: nvme}, containers: [{name: c}]"));
        Pod p = Assert.Single(m.Pods);
        Assert.Null(p.NodeName);
        Assert.Null(p.PodIP);
        Assert.Equal(PodPhase.Pending, p.Phase);
        Assert.Contains(warnings, w => w.Contains("0/3 nodes are available"));
    }

    [Fact]
    public void StatefulSet_pods_have_ordinals_hostnames_and_the_service_as_subdomain()
    {
        var (m, _) = Expand("""
            apiVersion: apps/v1
            kind: StatefulSet
            metadata: {name: db}
            spec:
              serviceName: db
              replicas: 3
              selector: {matchLabels: {app: db}}
              template:
                metadata: {labels: {app: db}}
                spec: {containers: [{name: c, ports: [{containerPort: 5432}]}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: db}
            spec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}
            """);
        Assert.Equal(["db-0 node-1 10.244.1.2", "db-1 node-2 10.244.2.2", "db-2 node-3 10.244.3.2"], Placement(m));
        Assert.Equal(["db-0", "db-1", "db-2"], m.Pods.Select(p => p.Hostname));
        Assert.All(m.Pods, p => Assert.Equal("db", p.Subdomain));
        Assert.Equal(["db-0", "db-1", "db-2"], m.Pods.Select(p => p.Labels[WorkloadExpander.StatefulSetPodNameLabel]));
        Assert.All(m.Pods, p => Assert.Equal("StatefulSet/db", p.Owner));
        // The endpoints controller publishes the hostnames (DNS's db-0.db.default.svc records).
        EndpointSlice slice = Assert.Single(EndpointsController.Build(m), s => s.ServiceName == "db");
        Assert.Equal(["db-0", "db-1", "db-2"], slice.Endpoints.Select(e => e.Hostname));
    }

    [Fact]
    public void DaemonSet_runs_one_pod_per_node_it_may_run_on()
    {
        string ds = """
            ---
            apiVersion: apps/v1
            kind: DaemonSet
            metadata: {name: agent}
            spec:
              selector: {matchLabels: {app: agent}}
              template:
                metadata: {labels: {app: agent}}
                spec: {containers: [{name: c}]}

            """;
        // n1 cordoned: a DaemonSet still runs there; n3 tainted: not without a toleration.
        var (m, _) = Expand(ThreeNodes(n1Spec: ", unschedulable: true", n3Spec: ", taints: [{key: gpu, effect: NoSchedule}]") + ds);
        Assert.Equal(["n1 10.1.1.2", "n2 10.1.2.2"], m.Pods.Select(p => $"{p.NodeName} {Ip4.Format(p.PodIP!.Value)}"));
        Assert.All(m.Pods, p => Assert.Matches($"^agent-{Suffix}{{5}}$", p.Name));
        // Default topology: one per node.
        Assert.Equal(["node-1", "node-2", "node-3"], Expand(ds).M.Pods.Select(p => p.NodeName));
    }

    [Fact]
    public void Existing_pods_are_used_as_they_are_and_never_duplicated_by_their_owner()
    {
        string dump = ThreeNodes() + Deployment("web", 3, extraMeta: ", uid: d1") + """
            ---
            apiVersion: apps/v1
            kind: ReplicaSet
            metadata:
              name: web-5d8f7c9b6
              ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d1, controller: true}]
            spec:
              replicas: 3
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec: {containers: [{name: c}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: web-5d8f7c9b6-abcde
              labels: {app: web}
              ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d8f7c9b6, uid: r1, controller: true}]
            spec: {nodeName: n2, containers: [{name: c}]}
            status: {phase: Running, podIP: 10.1.2.9, conditions: [{type: Ready, status: "True"}]}
            ---
            apiVersion: v1
            kind: ReplicationController
            metadata: {name: rc}
            spec:
              replicas: 2
              template:
                metadata: {labels: {app: rc}}
                spec: {containers: [{name: c}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: rc-xyz12
              labels: {app: rc}
              ownerReferences: [{apiVersion: v1, kind: ReplicationController, name: rc, uid: r2, controller: true}]
            spec: {nodeName: n3, containers: [{name: c}]}
            status: {phase: Running, podIP: 10.1.3.9, conditions: [{type: Ready, status: "False"}]}
            """;
        var (m, _) = Expand(dump);
        Assert.Equal(["web-5d8f7c9b6-abcde n2 10.1.2.9", "rc-xyz12 n3 10.1.3.9"], Placement(m));
        Assert.Equal([true, false], m.Pods.Select(p => p.Ready));
        Assert.Equal("ReplicaSet/web-5d8f7c9b6", m.Pods[0].Owner);
        // Expanding what is already expanded changes nothing.
        Assert.Same(m, WorkloadExpander.Expand(m));
    }

    [Fact]
    public void The_ready_annotation_makes_a_pod_not_ready_on_a_template_or_a_dumped_pod()
    {
        var (m, _) = Expand(Deployment("web", 2, annotations: "{dataplane.k8s.io/ready: \"false\"}") + """
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: p, annotations: {dataplane.k8s.io/ready: "false"}}
            spec: {nodeName: node-1, containers: [{name: c}]}
            status: {podIP: 10.244.1.50, conditions: [{type: Ready, status: "True"}]}
            """);
        Assert.All(m.Pods, p => Assert.False(p.Ready));
    }

    [Fact]
    public void A_dump_without_nodes_gets_nodes_from_its_pods()
    {
        var (m, _) = Expand("""
            apiVersion: v1
            kind: Pod
            metadata: {name: a}
            spec: {nodeName: worker-b, containers: [{name: c}]}
            status: {podIP: 10.42.7.15, hostIP: 172.20.0.5}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: b}
            spec: {nodeName: worker-a, containers: [{name: c}]}
            status: {podIP: 10.42.3.4}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: c}
            spec: {nodeName: worker-c, containers: [{name: c}]}
            status: {phase: Pending, hostIP: 172.20.0.9}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: d}
            spec: {nodeName: worker-d, containers: [{name: c}]}
            """);
        // worker-d: only a pod without status names it, which proves nothing ran there; that pod stays unbound.
        Assert.Equal(["worker-b 172.20.0.5 10.42.7.0/24", "worker-a 192.168.0.2 10.42.3.0/24", "worker-c 172.20.0.9 10.244.1.0/24"],
            m.Nodes.Select(n => $"{n.Name} {Ip4.Format(n.InternalIPs[0])} {n.PodCIDR}"));
        Assert.Equal("10.244.1.2", Ip4.Format(m.Pods[2].PodIP!.Value)); // the pod without an address got one on its node
        Assert.Null(m.Pods[3].PodIP);
        Assert.Equal("10.0.0.0/8", m.ProxyConfig.ClusterCIDRs[0].ToString()); // smallest prefix holding 10.42.x and 10.244.x
    }

    [Fact]
    public void LoadBalancer_services_get_addresses_from_the_pool_in_manifest_order()
    {
        static string Lb(string name, string extra = "", string status = "") => $$"""
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: {{name}}}
            spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]{{extra}}}
            {{status}}

            """;
        string yaml = Lb("a") + Lb("b", ", loadBalancerIP: 203.0.113.7") + Lb("c", status: "status: {loadBalancer: {ingress: [{ip: 192.168.0.240}]}}") + Lb("d")
            + Lb("e", ", externalIPs: [192.168.0.242]") + Lb("f");
        var (m, _) = Expand(yaml);
        Assert.Equal(["a 192.168.0.241", "b 203.0.113.7", "c 192.168.0.240", "d 192.168.0.243", "e 192.168.0.244", "f 192.168.0.245"],
            m.Services.Where(s => !s.Emulated).Select(s => $"{s.Name} {Ip4.Format(Assert.Single(s.LoadBalancerIngress).IP)}"));

        Assert.True(Cidr4.TryParse("198.51.100.0/31", out Cidr4 tiny));
        var (small, warnings) = Expand(Lb("a") + Lb("b") + Lb("c"), tiny);
        Assert.Equal(["198.51.100.0", "198.51.100.1"], small.Services.Where(s => !s.Emulated).Take(2).Select(s => Ip4.Format(s.LoadBalancerIngress[0].IP)));
        Assert.Empty(small.Services.Where(s => !s.Emulated).ElementAt(2).LoadBalancerIngress);
        Assert.Contains(warnings, w => w.Contains("default/c") && w.Contains("<pending>"));
    }

    [Fact]
    public void Workload_validation_is_the_api_servers()
    {
        using var dir = new ManifestDirectory();
        dir.Write("d.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: other}}\n    spec: {containers: [{name: c}]}\n");
        var e = Assert.Throws<ManifestException>(() => ManifestLoader.Load(dir.Root));
        Assert.Contains("Deployment default/web", e.Message);
        Assert.Contains("`selector` does not match template `labels`", e.Message);

        dir.Write("d.yaml", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c}]}\n");
        e = Assert.Throws<ManifestException>(() => ManifestLoader.Load(dir.Root));
        Assert.Contains("spec.selector: required", e.Message);

        dir.Write("d.yaml", "apiVersion: v1\nkind: Deployment\nmetadata: {name: web}\n");
        e = Assert.Throws<ManifestException>(() => ManifestLoader.Load(dir.Root));
        Assert.Contains("no matches for kind \"Deployment\" in version \"v1\" (the API server serves it as apps/v1)", e.Message);
    }

    static string[] Backends(MapSet maps, string service)
    {
        var result = new List<string>();
        maps.ForEachFrontend((k, v) =>
        {
            if (maps.ServiceNames[v.RevNatIndex] != service || k.Scope != 0 || (v.Flags & ServiceFlags.ClusterIp) == 0) return;
            for (int i = 0; i < v.Count; i++)
            {
                Lb4Backend b = maps.Backend(maps.Slot(v.SlotOffset + (uint)i));
                result.Add(Ip4.Format(b.Address, b.Port));
            }
        });
        return [.. result.Order(StringComparer.Ordinal)];
    }

    [Fact]
    public void Applying_the_ready_annotation_takes_the_pods_out_of_service_and_keeps_their_names_and_addresses()
    {
        using var dir = new ManifestDirectory();
        string svc = "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{name: http, port: 80, targetPort: http}]}\n";
        string path = dir.Write("c/web.yaml", Deployment("web") + svc);
        var control = new ControlPlane(Path.GetDirectoryName(path)!, null);
        Assert.Equal("node-1", control.NodeName);
        Assert.Equal(["10.244.1.2:8080", "10.244.2.2:8080", "10.244.3.2:8080"], Backends(control.Holder.Current, "default/web:http"));

        MapSet after = control.Apply(dir.Write("after.yaml", Deployment("web", annotations: "{dataplane.k8s.io/ready: \"false\"}")));
        Assert.Empty(Backends(after, "default/web:http"));
        after = control.Apply(dir.Write("again.yaml", Deployment("web")));
        Assert.Equal(["10.244.1.2:8080", "10.244.2.2:8080", "10.244.3.2:8080"], Backends(after, "default/web:http"));
    }
}
