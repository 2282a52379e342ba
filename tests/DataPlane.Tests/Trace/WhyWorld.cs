using DataPlane.IO.Trace;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Explain;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Trace;

/// <summary>
/// The troubleshooting checklist as a cluster: each Service below is broken the way a tutorial's reader breaks one.
/// Two nodes (node-1 192.168.0.2 with pods 10.0.1.0/24, node-2 192.168.0.3 with 10.0.2.0/24), kube-proxy iptables
/// mode, cluster CIDR 10.0.0.0/8, service CIDR 10.96.0.0/12 (the default); traced as node-1.
/// <list type="bullet">
/// <item>default/web 10.96.0.10:80 → 8080, NodePort 30080, externalTrafficPolicy Local; its slice has 2 ready endpoints on node-2 and 1 not-ready on node-1.</item>
/// <item>default/lonely 10.96.0.20:80, selector app=lonely; the pod is labelled app=lonley.</item>
/// <item>default/manual 10.96.0.30:80, no selector; the only slice names service 'manul' and the Endpoints object is called manual-eps.</item>
/// <item>default/nginx, headless over app=web; default/ext, ExternalName example.com.</item>
/// </list>
/// </summary>
public sealed class WhyWorld : IDisposable
{
    public const string Yaml = """
        apiVersion: v1
        kind: Node
        metadata: {name: node-1}
        spec: {podCIDR: 10.0.1.0/24}
        status: {addresses: [{type: InternalIP, address: 192.168.0.2}]}
        ---
        apiVersion: v1
        kind: Node
        metadata: {name: node-2}
        spec: {podCIDR: 10.0.2.0/24}
        status: {addresses: [{type: InternalIP, address: 192.168.0.3}]}
        ---
        apiVersion: kubeproxy.config.k8s.io/v1alpha1
        kind: KubeProxyConfiguration
        clusterCIDR: 10.0.0.0/8
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: default}
        spec:
          type: NodePort
          clusterIP: 10.96.0.10
          externalTrafficPolicy: Local
          selector: {app: web}
          ports: [{port: 80, targetPort: 8080, nodePort: 30080}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: web-abc, namespace: default, labels: {kubernetes.io/service-name: web}}
        addressType: IPv4
        ports: [{port: 8080, protocol: TCP}]
        endpoints:
        - {addresses: [10.0.2.1], nodeName: node-2, conditions: {ready: true}}
        - {addresses: [10.0.2.2], nodeName: node-2, conditions: {ready: true}}
        - {addresses: [10.0.1.3], nodeName: node-1, conditions: {ready: false}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: lonely, namespace: default}
        spec:
          clusterIP: 10.96.0.20
          selector: {app: lonely}
          ports: [{port: 80, targetPort: 8080}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: lonley-1, namespace: default, labels: {app: lonley}}
        spec: {nodeName: node-1, containers: [{name: c, image: x, ports: [{containerPort: 8080}]}]}
        status: {phase: Running, podIP: 10.0.1.9, conditions: [{type: Ready, status: "True"}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web-0, namespace: default, labels: {app: web}}
        spec: {nodeName: node-2, containers: [{name: c, image: x, ports: [{containerPort: 8080}]}]}
        status: {phase: Running, podIP: 10.0.2.1, conditions: [{type: Ready, status: "True"}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: manual, namespace: default}
        spec:
          clusterIP: 10.96.0.30
          ports: [{port: 80}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: manual-xyz, namespace: default, labels: {kubernetes.io/service-name: manul}}
        addressType: IPv4
        ports: [{port: 80, protocol: TCP}]
        endpoints:
        - {addresses: [10.0.1.50]}
        ---
        apiVersion: v1
        kind: Endpoints
        metadata: {name: manual-eps, namespace: default}
        subsets: [{addresses: [{ip: 11.11.11.11}], ports: [{port: 80}]}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: nginx, namespace: default}
        spec:
          clusterIP: None
          selector: {app: web}
          ports: [{port: 80, targetPort: 8080}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: ext, namespace: default}
        spec: {type: ExternalName, externalName: example.com}

        """;

    readonly TempDir _dir = new("why");

    public WhyWorld(string yaml = Yaml)
    {
        File.WriteAllText(_dir.File("w.yaml"), yaml);
        Manifests = ManifestLoader.Load(_dir.Path);
        Maps = ClusterCompiler.Compile(Manifests, "node-1");
        Explainer = new Explainer(Manifests, "node-1", Maps);
    }

    public string Path0 => _dir.Path;
    public ClusterManifests Manifests { get; }
    public MapSet Maps { get; }
    public Explainer Explainer { get; }

    public const string PodClient = "10.0.1.5", External = "203.0.113.2";

    /// <summary>One first packet through a traced pipeline: its stage log, verdict and explanation.</summary>
    public (StageRecord[] Log, Verdict Verdict, string Why) Trace(string proto, string src, string dst, ushort dport)
    {
        var p = new PacketPipeline(new MapSetHolder(Maps), new PipelineOptions { Seed = 1, CtCapacity = 16 }) { Log = new StageLog() };
        return Run(p, proto, src, 40000, dst, dport);
    }

    public (StageRecord[] Log, Verdict Verdict, string Why) Run(PacketPipeline p, string proto, string src, ushort sport, string dst, ushort dport, byte tcpFlags = L4.TcpSyn)
    {
        byte[] frame = new byte[128], reply = new byte[1024];
        uint s = Ip4.Parse(src), d = Ip4.Parse(dst);
        int len = proto == "icmp" ? EchoRequest.Write(frame, s, d)
            : FrameBuilder.Write(frame, proto == "udp" ? IpProto.Udp : IpProto.Tcp, s, sport, d, dport, tcpFlags);
        Verdict v = p.Process(frame.AsSpan(0, len), 1_000_000_000, reply, out PacketResult _);
        StageRecord[] log = p.Log!.Records.ToArray();
        return (log, v, Explainer.Why(log));
    }

    public void Dispose() => _dir.Dispose();
}
