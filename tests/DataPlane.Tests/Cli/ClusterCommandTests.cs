using System.Text.Json;
using DataPlane.IO.Text;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Inventory;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Tests.Infrastructure;
using DataPlane.Tests.Kubernetes;

namespace DataPlane.Tests.Cli;

/// <summary>
/// <c>dataplane cluster</c>: what the cluster holds after expansion, as JSON (checked field by field) and as tables; and
/// the README's first example, a Deployment and a Service with no Node, traced without <c>--node</c>.
/// </summary>
public class ClusterCommandTests
{
    /// <summary>Every kind of service, a Deployment, a StatefulSet, a bare pod pinned to node-2 and marked not ready; default topology.</summary>
    const string World = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec: {type: NodePort, clusterIP: 10.96.0.20, selector: {app: web}, ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]}
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db, namespace: data}
        spec:
          serviceName: db
          replicas: 1
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec: {containers: [{name: c}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: db, namespace: data}
        spec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432, protocol: TCP}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: ext}
        spec: {type: ExternalName, externalName: db.example.com}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: lb}
        spec: {type: LoadBalancer, clusterIP: 10.96.0.30, selector: {app: web}, ports: [{port: 443, targetPort: 8443, protocol: TCP, nodePort: 31443}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: sleepy, labels: {app: web}, annotations: {dataplane.k8s.io/ready: "false"}}
        spec: {nodeName: node-2, containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
        """;

    static string WriteWorld(ManifestDirectory dir) => dir.Write("world.yaml", World);

    [Fact]
    public void Json_holds_nodes_pods_services_endpoints_and_cidrs_field_by_field()
    {
        using var dir = new ManifestDirectory();
        var r = CliTests.Run("cluster", "--cluster", WriteWorld(dir), "--json", "--lb-pool", "198.51.100.8/30");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Single(r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)); // exactly one object, one line
        using var doc = JsonDocument.Parse(r.Stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal(["nodes", "pods", "unlistedPendingPods", "services", "serviceCIDRs", "clusterCIDR"], root.EnumerateObject().Select(p => p.Name));

        JsonElement[] nodes = [.. root.GetProperty("nodes").EnumerateArray()];
        Assert.Equal(3, nodes.Length);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal($"node-{i + 1}", nodes[i].GetProperty("name").GetString());
            Assert.Equal([$"192.168.0.{i + 2}"], nodes[i].GetProperty("addresses").EnumerateArray().Select(a => a.GetString()));
            Assert.Equal($"10.244.{i + 1}.0/24", nodes[i].GetProperty("podCIDR").GetString());
            Assert.Equal([$"10.244.{i + 1}.0/24"], nodes[i].GetProperty("podCIDRs").EnumerateArray().Select(a => a.GetString())); // single-stack: no IPv6 range
        }

        JsonElement[] pods = [.. root.GetProperty("pods").EnumerateArray()];
        Assert.Equal(4, pods.Length);
        // The bare pod first (manifest pods keep their order), then the Deployment's, then the StatefulSet's.
        // node-2 already holds sleepy, so the scheduler puts web's two replicas on node-1 and node-3, then db-0 on node-1.
        AssertPod(pods[0], "default", "sleepy", "10.244.2.2", "node-2", false, null, null, null);
        string rs = pods[1].GetProperty("owner").GetString()!["ReplicaSet/".Length..];
        Assert.StartsWith("web-", rs);
        Assert.StartsWith(rs + "-", pods[1].GetProperty("name").GetString());
        AssertPod(pods[1], "default", pods[1].GetProperty("name").GetString()!, "10.244.1.2", "node-1", true, $"ReplicaSet/{rs}", null, null);
        AssertPod(pods[2], "default", pods[2].GetProperty("name").GetString()!, "10.244.3.2", "node-3", true, $"ReplicaSet/{rs}", null, null);
        AssertPod(pods[3], "data", "db-0", "10.244.1.3", "node-1", true, "StatefulSet/db", "db-0", "db");

        JsonElement[] all = [.. root.GetProperty("services").EnumerateArray()];
        // The cluster's own services come first, emulated: the manifests bring neither.
        Assert.Equal(["kubernetes", "kube-dns", "web", "db", "ext", "lb"], all.Select(s => s.GetProperty("name").GetString()));
        Assert.Equal([true, true, false, false, false, false], all.Select(s => s.GetProperty("emulated").GetBoolean()));
        AssertService(all[0], "default", "ClusterIP", "10.96.0.1", null, []);
        AssertPort(Assert.Single(all[0].GetProperty("ports").EnumerateArray()), "https", 443, "TCP", 6443, null);
        AssertEndpoint(Assert.Single(all[0].GetProperty("endpoints").EnumerateArray()), "192.168.0.2", 6443, "https", true, true, false, null, null);
        AssertService(all[1], "kube-system", "ClusterIP", "10.96.0.10", null, []);
        Assert.Equal(["dns 53/UDP", "dns-tcp 53/TCP", "metrics 9153/TCP"],
            all[1].GetProperty("ports").EnumerateArray().Select(p => $"{p.GetProperty("name").GetString()} {p.GetProperty("port").GetInt32()}/{p.GetProperty("protocol").GetString()}"));
        Assert.Empty(all[1].GetProperty("endpoints").EnumerateArray());
        JsonElement[] svcs = all[2..];

        JsonElement web = svcs[0];
        AssertService(web, "default", "NodePort", "10.96.0.20", null, []);
        AssertPort(Assert.Single(web.GetProperty("ports").EnumerateArray()), "http", 80, "TCP", "http", 30080);
        JsonElement[] webEps = [.. web.GetProperty("endpoints").EnumerateArray()];
        Assert.Equal(3, webEps.Length);
        AssertEndpoint(webEps[0], "10.244.2.2", 8080, "http", false, false, false, "node-2", "sleepy");
        AssertEndpoint(webEps[1], "10.244.1.2", 8080, "http", true, true, false, "node-1", pods[1].GetProperty("name").GetString());
        AssertEndpoint(webEps[2], "10.244.3.2", 8080, "http", true, true, false, "node-3", pods[2].GetProperty("name").GetString());

        JsonElement db = svcs[1];
        AssertService(db, "data", "ClusterIP", "None", null, []);
        AssertPort(Assert.Single(db.GetProperty("ports").EnumerateArray()), "", 5432, "TCP", 5432, null);
        AssertEndpoint(Assert.Single(db.GetProperty("endpoints").EnumerateArray()), "10.244.1.3", 5432, "", true, true, false, "node-1", "db-0");

        JsonElement ext = svcs[2];
        AssertService(ext, "default", "ExternalName", null, "db.example.com", []);
        Assert.Empty(ext.GetProperty("ports").EnumerateArray());
        Assert.Empty(ext.GetProperty("endpoints").EnumerateArray());

        JsonElement lb = svcs[3];
        AssertService(lb, "default", "LoadBalancer", "10.96.0.30", null, ["198.51.100.8"]);
        AssertPort(Assert.Single(lb.GetProperty("ports").EnumerateArray()), "", 443, "TCP", 8443, 31443);
        Assert.Equal(3, lb.GetProperty("endpoints").GetArrayLength());

        Assert.Equal(["10.96.0.0/12"], root.GetProperty("serviceCIDRs").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("10.244.0.0/16", root.GetProperty("clusterCIDR").GetString());
    }

    static void AssertPod(JsonElement p, string ns, string name, string ip, string node, bool ready, string? owner, string? hostname, string? subdomain)
    {
        Assert.Equal(["namespace", "name", "ip", "ips", "node", "ready", "owner", "hostname", "subdomain"], p.EnumerateObject().Select(x => x.Name));
        Assert.Equal([ip], p.GetProperty("ips").EnumerateArray().Select(a => a.GetString())); // status.podIPs: IPv4 only here
        Assert.Equal(ns, p.GetProperty("namespace").GetString());
        Assert.Equal(name, p.GetProperty("name").GetString());
        Assert.Equal(ip, p.GetProperty("ip").GetString());
        Assert.Equal(node, p.GetProperty("node").GetString());
        Assert.Equal(ready, p.GetProperty("ready").GetBoolean());
        Assert.Equal(owner, p.GetProperty("owner").GetString());
        Assert.Equal(hostname, p.GetProperty("hostname").GetString());
        Assert.Equal(subdomain, p.GetProperty("subdomain").GetString());
    }

    static void AssertService(JsonElement s, string ns, string type, string? clusterIp, string? externalName, string[] externalIps)
    {
        Assert.Equal(["namespace", "name", "type", "clusterIP", "externalName", "externalIPs", "ports", "endpoints", "emulated", "clusterIPs", "ipFamilies", "ipFamilyPolicy"],
            s.EnumerateObject().Select(x => x.Name));
        // kubectl get svc -o yaml's family fields: clusterIPs[0] is clusterIP; ExternalName has none of them.
        Assert.Equal(clusterIp is null ? [] : [clusterIp], s.GetProperty("clusterIPs").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(type == "ExternalName" ? null : "SingleStack", s.GetProperty("ipFamilyPolicy").GetString());
        Assert.Equal(ns, s.GetProperty("namespace").GetString());
        Assert.Equal(type, s.GetProperty("type").GetString());
        Assert.Equal(clusterIp, s.GetProperty("clusterIP").GetString());
        Assert.Equal(externalName, s.GetProperty("externalName").GetString());
        Assert.Equal(externalIps, s.GetProperty("externalIPs").EnumerateArray().Select(e => e.GetString()));
    }

    static void AssertPort(JsonElement p, string name, int port, string protocol, object targetPort, int? nodePort)
    {
        Assert.Equal(["name", "port", "protocol", "targetPort", "nodePort"], p.EnumerateObject().Select(x => x.Name));
        Assert.Equal(name, p.GetProperty("name").GetString());
        Assert.Equal(port, p.GetProperty("port").GetInt32());
        Assert.Equal(protocol, p.GetProperty("protocol").GetString());
        JsonElement t = p.GetProperty("targetPort");
        if (targetPort is int n) Assert.Equal(n, t.GetInt32()); else Assert.Equal((string)targetPort, t.GetString());
        JsonElement np = p.GetProperty("nodePort");
        if (nodePort is int v) Assert.Equal(v, np.GetInt32()); else Assert.Equal(JsonValueKind.Null, np.ValueKind);
    }

    static void AssertEndpoint(JsonElement e, string ip, int port, string portName, bool ready, bool serving, bool terminating, string? node, string? pod)
    {
        Assert.Equal(["ip", "port", "portName", "ready", "serving", "terminating", "node", "pod"], e.EnumerateObject().Select(x => x.Name));
        Assert.Equal(ip, e.GetProperty("ip").GetString());
        Assert.Equal(port, e.GetProperty("port").GetInt32());
        Assert.Equal(portName, e.GetProperty("portName").GetString());
        Assert.Equal(ready, e.GetProperty("ready").GetBoolean());
        Assert.Equal(serving, e.GetProperty("serving").GetBoolean());
        Assert.Equal(terminating, e.GetProperty("terminating").GetBoolean());
        Assert.Equal(node, e.GetProperty("node").GetString());
        Assert.Equal(pod, e.GetProperty("pod").GetString());
    }

    [Fact]
    public void Text_view_has_kubectl_columns_and_every_service_type()
    {
        using var dir = new ManifestDirectory();
        ClusterInventory inv = ClusterInventory.Build(ManifestLoader.Load(WriteWorld(dir)));
        var w = new StringWriter();
        ClusterListing.WriteText(w, inv);
        string[] lines = w.ToString().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal("service CIDRs: 10.96.0.0/12   cluster CIDR: 10.244.0.0/16", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("NODE ") && l.Contains("INTERNAL-IP") && l.Contains("POD-CIDR"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^node-2\s+192\.168\.0\.3\s+<none>\s+10\.244\.2\.0/24\s+Ready \(emulated\)$"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^data\s+db-0\s+1/1\s+Running\s+10\.244\.1\.3\s+node-1\s+StatefulSet/db\s+db-0\s+db$"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^default\s+sleepy\s+0/1\s+Running\s+10\.244\.2\.2\s+node-2\s+<none>$"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^default\s+ext\s+ExternalName\s+<none>\s+db\.example\.com\s+<none>$"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^data\s+db\s+ClusterIP\s+None\s+<none>\s+5432/TCP$"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^default\s+lb\s+LoadBalancer\s+10\.96\.0\.30\s+192\.168\.0\.240\s+443:31443/TCP$"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^default\s+web\s+10\.244\.2\.2:8080\s+http\s+false\s+false\s+false\s+node-2\s+sleepy$"));
    }

    [Fact]
    public void Readme_first_example_traces_a_deployment_without_nodes_or_node_option()
    {
        string example = Repo.Path_("pcaps", "examples", "web.yaml");
        var r = CliTests.Run("trace", "--cluster", example, "--src", "203.0.113.2:40001", "--dst", "192.168.0.2:30080", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("forward", doc.RootElement.GetProperty("verdict").GetString());
        Assert.Equal(["10.244.1.2:80", "10.244.2.2:80", "10.244.3.2:80"], doc.RootElement.GetProperty("candidates").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("192.168.0.2:40001", doc.RootElement.GetProperty("out").GetProperty("src").GetString()); // node-1 masquerades
    }

    [Theory]
    // The seeds' examples as a reader would type them. The ReplicationController's `replica: 3` is a typo the API
    // server drops (unknown field), so it runs one pod, as on a real cluster.
    [InlineData("rc", "10.244.1.5", "10.96.0.2:80", "10.244.1.2:8080")]
    [InlineData("deployments", "10.244.1.5", "10.96.0.3:17", "10.244.3.2:7777,10.244.1.3:7777")]
    [InlineData("multi-port", "203.0.113.9", "10.96.0.2:4321", "10.244.1.2:4321,10.244.2.2:4321")]
    public void Seed_examples_load_and_forward(string seed, string src, string dst, string candidates)
    {
        string yaml = seed switch
        {
            "rc" => """
                apiVersion: v1
                kind: ReplicationController
                metadata:
                  name: migo-rc
                spec:
                  replica: 3
                  selector:
                    app: migo-pod
                  template:
                    metadata:
                      labels:
                        app: migo-pod
                    spec:
                      containers:
                        - name: migo-con
                          image: saka1023/k8s
                          ports:
                            - containerPort: 8080
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: migo-svc
                spec:
                  ports:
                    - port: 80          #The port this service will be available on
                      targetPort: 8080  #The container port the service will forward to
                  selector:
                    app: migo-pod       #All pods with the app=migo-pod label will be part of this service
                """,
            "deployments" => """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  labels:
                    app: ms-bye-dep
                  name: ms-bye-dep
                spec:
                  replicas: 2
                  selector:
                    matchLabels:
                      app: ms-bye-pods
                  template:
                    metadata:
                      labels:
                        app: ms-bye-pods
                    spec:
                      containers:
                      - image: pgolard/ms-bye:v4
                        name: ms-bye
                        ports:
                        - containerPort: 9999
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  labels:
                    app: ms-hello-dep
                  name: ms-hello-dep
                spec:
                  replicas: 2
                  selector:
                    matchLabels:
                      app: ms-hello-pods
                  template:
                    metadata:
                      labels:
                        app: ms-hello-pods
                    spec:
                      containers:
                      - image: pgolard/ms-hello:v4
                        name: ms-hello
                        ports:
                        - containerPort: 7777
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  labels:
                    app: ms-bye-dep
                  name: ms-bye-svc
                spec:
                  ports:
                  - port: 19
                    protocol: TCP
                    targetPort: 9999
                  selector:
                    app: ms-bye-pods
                  type: ClusterIP
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  labels:
                    app: ms-hello-dep
                  name: ms-hello-svc
                spec:
                  ports:
                  - port: 17
                    protocol: TCP
                    targetPort: 7777
                  selector:
                    app: ms-hello-pods
                  type: ClusterIP
                """,
            "multi-port" => """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  labels:
                    app: mc-mornaft-dep
                  name: mc-mornaft-dep
                spec:
                  replicas: 2
                  selector:
                    matchLabels:
                      app: mc-mornaft-pods
                  template:
                    metadata:
                      labels:
                        app: mc-mornaft-pods
                    spec:
                      containers:
                      - image: pgolard/multcont-morning:v3
                        name: multcont-morning
                        ports:
                        - containerPort: 1234
                      - image: pgolard/multcont-afternoon:v3
                        name: multcont-afternoon
                        ports:
                        - containerPort: 4321
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  labels:
                    app: mc-mornaft-dep
                  name: mc-mornaft-svc
                spec:
                  ports:
                  - name: morning
                    port: 1234
                    protocol: TCP
                    targetPort: 1234
                  - name: afternoon
                    port: 4321
                    protocol: TCP
                    targetPort: 4321
                  selector:
                    app: mc-mornaft-pods
                  type: ClusterIP
                """,
            _ => throw new ArgumentException(seed),
        };
        using var dir = new ManifestDirectory();
        var r = CliTests.Run("trace", "--cluster", dir.Write("seed.yaml", yaml), "--src", src, "--dst", dst, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("forward", doc.RootElement.GetProperty("verdict").GetString());
        Assert.Equal(candidates.Split(',').Order(StringComparer.Ordinal),
            doc.RootElement.GetProperty("candidates").EnumerateArray().Select(c => c.GetString()!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Node_defaults_to_the_first_node_of_the_manifests()
    {
        var without = CliTests.Run("maps", "--cluster", Repo.Cluster);
        var with = CliTests.Run("maps", "--cluster", Repo.Cluster, "--node", "node-1");
        Assert.True(without.ExitCode == 0, without.ToString());
        Assert.Equal(with.Stdout, without.Stdout);
        Assert.NotEqual(with.Stdout, CliTests.Run("maps", "--cluster", Repo.Cluster, "--node", "node-2").Stdout);
    }

    [Fact]
    public void A_bad_lb_pool_is_one_usage_line()
    {
        var r = CliTests.Run("cluster", "--cluster", Repo.Cluster, "--lb-pool", "10.0.0.0/33");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(["dataplane: error: --lb-pool: '10.0.0.0/33' is not an IPv4 CIDR like 192.168.0.240/28"], r.StderrLines);
    }
}
