using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Explain;
using DataPlane.Maps;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Text;

/// <summary>
/// A small cluster whose listings can be written out by hand: node-1 (192.168.0.2, pods 10.244.1.0/24) and node-2,
/// iptables mode, cluster CIDR 10.244.0.0/16; compiled as node-1.
/// <list type="bullet">
/// <item>default/web: NodePort, 10.96.0.10:80 (port http) → 8080, nodePort 30080; one ready pod, web-1 10.244.1.2 on node-1.</item>
/// <item>default/empty: ClusterIP 10.96.0.30:80, a selector no pod matches.</item>
/// <item>default/sticky: ClusterIP 10.96.0.70:53/UDP → 5353, sessionAffinity ClientIP 30 s, over the same pod.</item>
/// </list>
/// </summary>
public sealed class TextWorld
{
    public const string Yaml = TestManifests.TwoNodesIptables + """
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: default}
        spec:
          type: NodePort
          clusterIP: 10.96.0.10
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web-1, namespace: default, labels: {app: web}}
        spec: {nodeName: node-1, containers: [{name: c, image: x}]}
        status: {phase: Running, podIP: 10.244.1.2, conditions: [{type: Ready, status: "True"}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: empty, namespace: default}
        spec:
          clusterIP: 10.96.0.30
          selector: {app: nothing}
          ports: [{port: 80}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: sticky, namespace: default}
        spec:
          clusterIP: 10.96.0.70
          selector: {app: web}
          sessionAffinity: ClientIP
          sessionAffinityConfig: {clientIP: {timeoutSeconds: 30}}
          ports: [{port: 53, targetPort: 5353, protocol: UDP}]

        """;

    public TextWorld()
    {
        using (var scratch = new TempDir("text"))
        {
            File.WriteAllText(scratch.File("w.yaml"), Yaml);
            Manifests = ManifestLoader.Load(scratch.Path);
        }
        Cluster = DataPlane.Kubernetes.Resolved.ResolvedCluster.Resolve(Manifests);
        Maps = ClusterCompiler.Compile(Cluster, "node-1", Topology);
        Explainer = new Explainer(Cluster, "node-1", Maps);
    }

    public ClusterManifests Manifests { get; }
    public DataPlane.Kubernetes.Resolved.ResolvedCluster Cluster { get; }
    public TopologyReport Topology { get; } = new();
    public MapSet Maps { get; }
    public Explainer Explainer { get; }
}
