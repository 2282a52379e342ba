using DataPlane.FixtureBuilder;
using DataPlane.Kubernetes;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Semantics;

/// <summary>
/// kube-proxy's unit-test world (kube-proxy-rules.md): node 192.168.0.2 ("node-1"), pods 10.0.0.0/8, cluster IPs
/// 172.30.0.0/16, external client 203.0.113.2, LB IPs 1.2.3.4 / 5.6.7.8. Written as the YAML kubectl takes and compiled
/// by the real control plane, so these tests cover manifests → maps → pipeline.
/// </summary>
public sealed class PolicyWorld
{
    public const string Node = "192.168.0.2", Pod = "10.0.0.5", External = "203.0.113.2";

    public static string Manifests(string mode = "iptables", string extra = "") => $$$"""
        apiVersion: v1
        kind: Node
        metadata: {name: node-1}
        spec: {podCIDR: 10.0.1.0/24}
        status:
          addresses: [{type: InternalIP, address: 192.168.0.2}]
        ---
        apiVersion: kubeproxy.config.k8s.io/v1alpha1
        kind: KubeProxyConfiguration
        mode: {{{mode}}}
        clusterCIDR: 10.0.0.0/8
        {{{extra}}}
        ---
        apiVersion: networking.k8s.io/v1
        kind: ServiceCIDR
        metadata: {name: main}
        spec: {cidrs: [172.30.0.0/16]}
        ---
        # eTP Local with one local and one remote endpoint.
        apiVersion: v1
        kind: Service
        metadata: {name: local, namespace: ns}
        spec:
          type: LoadBalancer
          clusterIP: 172.30.0.41
          externalTrafficPolicy: Local
          healthCheckNodePort: 30100
          externalIPs: [192.168.99.11]
          ports: [{name: p80, port: 80, targetPort: 80, nodePort: 30001}]
        status: {loadBalancer: {ingress: [{ip: 1.2.3.4}]}}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: local-1, namespace: ns, labels: {kubernetes.io/service-name: local}}
        addressType: IPv4
        ports: [{name: p80, port: 80}]
        endpoints:
        - {addresses: [10.0.1.1], nodeName: node-1}
        - {addresses: [10.0.2.1], nodeName: node-2}
        ---
        # eTP Local, endpoints only on another node: external traffic is dropped, pods still reach it.
        apiVersion: v1
        kind: Service
        metadata: {name: remote, namespace: ns}
        spec:
          type: NodePort
          clusterIP: 172.30.0.42
          externalTrafficPolicy: Local
          ports: [{name: p80, port: 80, nodePort: 30002}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: remote-1, namespace: ns, labels: {kubernetes.io/service-name: remote}}
        addressType: IPv4
        ports: [{name: p80, port: 80}]
        endpoints: [{addresses: [10.0.2.2], nodeName: node-2}]
        ---
        # iTP Local: one service with a local endpoint, one without.
        apiVersion: v1
        kind: Service
        metadata: {name: itp, namespace: ns}
        spec:
          clusterIP: 172.30.0.43
          internalTrafficPolicy: Local
          ports: [{name: p80, port: 80}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: itp-1, namespace: ns, labels: {kubernetes.io/service-name: itp}}
        addressType: IPv4
        ports: [{name: p80, port: 80}]
        endpoints:
        - {addresses: [10.0.1.3], nodeName: node-1}
        - {addresses: [10.0.2.3], nodeName: node-2}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: itp-remote, namespace: ns}
        spec:
          clusterIP: 172.30.0.44
          internalTrafficPolicy: Local
          ports: [{name: p80, port: 80}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: itp-remote-1, namespace: ns, labels: {kubernetes.io/service-name: itp-remote}}
        addressType: IPv4
        ports: [{name: p80, port: 80}]
        endpoints: [{addresses: [10.0.2.4], nodeName: node-2}]
        ---
        # Terminating: the local endpoint is serving+terminating, a remote one is ready.
        apiVersion: v1
        kind: Service
        metadata: {name: term, namespace: ns}
        spec:
          type: LoadBalancer
          clusterIP: 172.30.0.45
          externalTrafficPolicy: Local
          ports: [{name: p80, port: 80, nodePort: 30005}]
        status: {loadBalancer: {ingress: [{ip: 5.6.7.8}]}}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: term-1, namespace: ns, labels: {kubernetes.io/service-name: term}}
        addressType: IPv4
        ports: [{name: p80, port: 80}]
        endpoints:
        - {addresses: [10.0.1.5], nodeName: node-1, conditions: {ready: false, serving: true, terminating: true}}
        - {addresses: [10.0.2.5], nodeName: node-2}
        - {addresses: [10.0.2.6], nodeName: node-2, conditions: {ready: false, serving: false, terminating: true}}
        ---
        # No usable endpoint at all.
        apiVersion: v1
        kind: Service
        metadata: {name: none, namespace: ns}
        spec:
          type: LoadBalancer
          clusterIP: 172.30.0.46
          externalTrafficPolicy: Local
          externalIPs: [192.168.99.33]
          ports: [{name: p80, port: 80, nodePort: 30006}]
        status: {loadBalancer: {ingress: [{ip: 9.10.11.12}]}}
        ---
        # loadBalancerSourceRanges, eTP Cluster, session affinity.
        apiVersion: v1
        kind: Service
        metadata: {name: fw, namespace: ns}
        spec:
          type: LoadBalancer
          clusterIP: 172.30.0.47
          loadBalancerSourceRanges: [" 203.0.113.0/25", 192.168.0.0/24]
          sessionAffinity: ClientIP
          sessionAffinityConfig: {clientIP: {timeoutSeconds: 100}}
          ports: [{name: p80, port: 80, nodePort: 30007}]
        status: {loadBalancer: {ingress: [{ip: 1.2.3.7}]}}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: fw-1, namespace: ns, labels: {kubernetes.io/service-name: fw}}
        addressType: IPv4
        ports: [{name: p80, port: 80}]
        endpoints:
        - {addresses: [10.0.2.71], nodeName: node-2}
        - {addresses: [10.0.2.72], nodeName: node-2}
        - {addresses: [10.0.2.73], nodeName: node-2}
        - {addresses: [10.0.2.74], nodeName: node-2}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: headless, namespace: ns}
        spec: {clusterIP: None, ports: [{port: 80}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: ext, namespace: ns}
        spec: {type: ExternalName, externalName: example.com}
        """;

    public PolicyWorld(string mode = "iptables", string extra = "")
    {
        using var scratch = new TempDir("world");
        string dir = scratch.Path;
        File.WriteAllText(Path.Combine(dir, "world.yaml"), Manifests(mode, extra));
        Maps = ControlPlane.LoadAndCompile(dir, "node-1");
        Pipeline = new PacketPipeline(new MapSetHolder(Maps), new PipelineOptions { CtCapacity = 1 << 12 });
    }

    public MapSet Maps { get; }
    public PacketPipeline Pipeline { get; }

    /// <summary>The first packet of a new connection (like `dataplane trace`), from a fresh source port each time.</summary>
    public Outcome Syn(string src, string dst, ushort dport, long nowNs = 1_000_000_000)
    {
        byte[] f = Frames.TcpFrame(src, _port++, dst, dport, Frames.Tcp.Syn, 1, 0);
        var (v, r, o) = TestWorld.Run(Pipeline, f, nowNs);
        string[] candidates = r.HasFrontend
            ? Maps.BackendSlots.AsSpan((int)r.SlotOffset, r.SlotCount).ToArray().Select(id => Ip4.Format(Maps.Backends[id].Address)).OrderBy(x => x).ToArray()
            : [];
        return new Outcome(v, r.Reason, candidates, r.Verdict == Verdict.Forward ? Ip4.Format(r.Backend.Address) : null,
            r.Masqueraded, r.HasOut ? Ip4.Format(r.OutSrcIp) : null);
    }

    ushort _port = 40000;

    public sealed record Outcome(Verdict Verdict, DropReason Reason, string[] Candidates, string? Backend, bool Masqueraded, string? OutSrc);
}
