using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Semantics;

/// <summary>Services whose endpoints come from Pods (the endpoints controller) all the way to forwarded packets.</summary>
public class PodEndpointsTests
{
    const string Yaml = TestManifests.TwoNodes + "---\n" + """
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: default}
        spec:
          type: NodePort
          clusterIP: 10.96.0.10
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: http}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web-a, namespace: default, labels: {app: web}}
        spec:
          nodeName: node-1
          containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]
        status: {podIP: 10.244.1.7, conditions: [{type: Ready, status: "True"}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web-b, namespace: default, labels: {app: web}}
        spec:
          nodeName: node-2
          containers: [{name: c, ports: [{name: http, containerPort: 9090}]}]
        status: {podIP: 10.244.2.7, conditions: [{type: Ready, status: "True"}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web-not-ready, namespace: default, labels: {app: web}}
        spec:
          nodeName: node-2
          containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]
        status: {podIP: 10.244.2.8, conditions: [{type: Ready, status: "False"}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web-no-port, namespace: default, labels: {app: web}}
        spec:
          nodeName: node-2
          containers: [{name: c, ports: [{name: metrics, containerPort: 9100}]}]
        status: {podIP: 10.244.2.9, conditions: [{type: Ready, status: "True"}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: other, namespace: default, labels: {app: other}}
        spec:
          nodeName: node-1
          containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]
        status: {podIP: 10.244.1.99, conditions: [{type: Ready, status: "True"}]}
        """;

    static MapSet Compile(CompileOptions? o = null)
    {
        using var scratch = new TempDir("pods");
        string dir = scratch.Path;
        File.WriteAllText(Path.Combine(dir, "w.yaml"), Yaml);
        return ControlPlane.LoadAndCompile(dir, "node-1", o);
    }

    [Fact]
    public void Ready_selected_pods_with_the_named_port_are_the_backends_each_with_its_own_port()
    {
        MapSet maps = Compile();
        var p = new PacketPipeline(new MapSetHolder(maps), new PipelineOptions { CtCapacity = 64 });
        var seen = new HashSet<string>();
        for (ushort port = 40000; port < 40040; port++)
        {
            var (v, r, _) = TestWorld.Run(p, TestWorld.Syn("10.244.1.5", port, "10.96.0.10", 80));
            Assert.Equal(Verdict.Forward, v);
            seen.Add(Ip4.Format(r.Backend.Address, r.Backend.Port));
        }
        // web-a maps "http" to 8080 and web-b to 9090; not-ready, portless and unselected pods are not endpoints.
        Assert.Equal(["10.244.1.7:8080", "10.244.2.7:9090"], seen.Order());
    }

    [Fact]
    public void Allocated_node_port_follows_the_range_flag()
    {
        MapSet maps = Compile(new CompileOptions { NodePortMin = 31000, NodePortMax = 31010 });
        var p = new PacketPipeline(new MapSetHolder(maps), new PipelineOptions { CtCapacity = 64 });
        Assert.Equal(Verdict.Forward, TestWorld.Run(p, TestWorld.Syn("203.0.113.2", 40000, "192.168.0.2", 31000)).V);
        // 30000 is no service's node port: the node's own stack answers (nothing listens there: a TCP reset).
        Assert.Equal(Verdict.Reject, TestWorld.Run(p, TestWorld.Syn("203.0.113.2", 40001, "192.168.0.2", 30000)).V);
    }
}
