using DataPlane.FixtureBuilder;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;
using DataPlane.Tests.Kubernetes;

namespace DataPlane.Tests.Topology;

/// <summary>
/// Three nodes in two zones, written as kubectl YAML and compiled by the real control plane for node-1:
/// node-1 192.168.0.2 (zone-a, 4 CPU, pods 10.0.1.0/24), node-2 192.168.0.3 (zone-a, 4 CPU), node-3 192.168.0.4
/// (zone-b, 8 CPU). Pods 10.0.0.0/8, cluster IPs 172.30.0.0/16, external client 203.0.113.2.
/// </summary>
public sealed class TopologyWorld
{
    public const string NodeIp = "192.168.0.2", Pod = "10.0.0.5", External = "203.0.113.2";

    public static string Nodes(string node1Labels = "{topology.kubernetes.io/zone: zone-a}", string node1Cpu = "\"4\"",
        string node3Labels = "{topology.kubernetes.io/zone: zone-b}") => $$$"""
        apiVersion: v1
        kind: Node
        metadata: {name: node-1, labels: {{{node1Labels}}}}
        spec: {podCIDR: 10.0.1.0/24}
        status:
          addresses: [{type: InternalIP, address: 192.168.0.2}]
          allocatable: {cpu: {{{node1Cpu}}}}
        ---
        apiVersion: v1
        kind: Node
        metadata: {name: node-2, labels: {topology.kubernetes.io/zone: zone-a}}
        status:
          addresses: [{type: InternalIP, address: 192.168.0.3}]
          allocatable: {cpu: 4000m}
        ---
        apiVersion: v1
        kind: Node
        metadata: {name: node-3, labels: {{{node3Labels}}}}
        status:
          addresses: [{type: InternalIP, address: 192.168.0.4}]
          allocatable: {cpu: 8}
        ---
        apiVersion: kubeproxy.config.k8s.io/v1alpha1
        kind: KubeProxyConfiguration
        clusterCIDR: 10.0.0.0/8
        ---
        apiVersion: networking.k8s.io/v1
        kind: ServiceCIDR
        metadata: {name: main}
        spec: {cidrs: [172.30.0.0/16]}
        ---

        """;

    /// <summary>A NodePort service "svc" (cluster IP 172.30.0.10:80, node port 30010) with the given spec extras.</summary>
    public static string Service(string spec = "", string annotations = "{}", string selector = "") => $$"""
        apiVersion: v1
        kind: Service
        metadata: {name: svc, namespace: ns, annotations: {{annotations}}}
        spec:
          type: NodePort
          clusterIP: 172.30.0.10
          ports: [{name: p80, port: 80, targetPort: 80, nodePort: 30010}]
        {{(spec.Length > 0 ? "  " + spec : "")}}
        {{(selector.Length > 0 ? "  selector: " + selector : "")}}
        ---

        """;

    /// <summary>An endpoint line: address, node, zone, hints (null: no hints field), conditions.</summary>
    public static string Ep(string ip, string node, string? zone = null, string? forZones = null, string? forNodes = null, string conditions = "")
    {
        var hints = new List<string>();
        if (forZones is not null) hints.Add($"forZones: [{string.Join(", ", forZones.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(z => $"{{name: {z}}}"))}]");
        if (forNodes is not null) hints.Add($"forNodes: [{string.Join(", ", forNodes.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(n => $"{{name: {n}}}"))}]");
        string h = hints.Count > 0 ? $", hints: {{{string.Join(", ", hints)}}}" : "";
        string z = zone is null ? "" : $", zone: {zone}";
        string c = conditions.Length > 0 ? $", conditions: {{{conditions}}}" : "";
        return $"- {{addresses: [{ip}], nodeName: {node}{z}{h}{c}}}\n";
    }

    public static string Slice(params string[] endpoints) => """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: svc-1, namespace: ns, labels: {kubernetes.io/service-name: svc}}
        addressType: IPv4
        ports: [{name: p80, port: 80}]
        endpoints:

        """ + string.Concat(endpoints);

    /// <summary>A ready pod "app: web" on <paramref name="node"/>.</summary>
    public static string PodOn(string name, string ip, string node, bool ready = true) => $$$"""
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: {{{name}}}, namespace: ns, labels: {app: web}}
        spec: {nodeName: {{{node}}}, containers: [{name: c, ports: [{containerPort: 80}]}]}
        status: {phase: Running, podIP: {{{ip}}}, conditions: [{type: Ready, status: "{{{(ready ? "True" : "False")}}}"}]}

        """;

    public TopologyWorld(string yaml)
    {
        using var dir = new ManifestDirectory();
        string file = dir.Write("world.yaml", yaml);
        Manifests = ManifestLoader.Load(file);
        Maps = ClusterCompiler.Compile(Manifests, "node-1", new CompileOptions { Topology = Report, Warn = Warnings.Add });
        Pipeline = new PacketPipeline(new MapSetHolder(Maps), new PipelineOptions { CtCapacity = 1 << 10 });
    }

    public ClusterManifests Manifests { get; }
    public MapSet Maps { get; }
    public PacketPipeline Pipeline { get; }
    public TopologyReport Report { get; } = new();
    public List<string> Warnings { get; } = [];

    public TopologyDecision? Decision => Report.For("ns/svc:p80");

    /// <summary>The candidate endpoints (sorted addresses) of a new TCP connection, or the verdict when not forwarded.</summary>
    public string Candidates(string src, string dst, ushort port)
    {
        byte[] f = Frames.TcpFrame(src, _port++, dst, port, Frames.Tcp.Syn, 1, 0);
        var (v, r, _) = TestWorld.Run(Pipeline, f, 1_000_000_000);
        if (v != Verdict.Forward) return $"{v.Name()}:{r.Reason.Name()}";
        return string.Join(",", Maps.BackendSlots.AsSpan((int)r.SlotOffset, r.SlotCount).ToArray()
            .Select(id => Ip4.Format(Maps.Backends[id].Address)).OrderBy(x => x, StringComparer.Ordinal));
    }

    ushort _port = 40000;

    /// <summary>The controller-made slices' endpoints of ns/svc, "ip zones=a|b nodes=n" each, in order.</summary>
    public string[] ControllerHints() => [.. EndpointsController.Build(Manifests).Where(s => s.ServiceName == "svc").SelectMany(s => s.Endpoints)
        .Select(e => $"{Ip4.Format(e.Addresses[0])} zones={string.Join("|", e.ForZones)} nodes={string.Join("|", e.ForNodes)}")];
}
