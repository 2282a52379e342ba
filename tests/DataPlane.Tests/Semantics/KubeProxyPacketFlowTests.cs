using static DataPlane.Tests.Semantics.PacketFlowWorld;

namespace DataPlane.Tests.Semantics;

/// <summary>
/// kube-proxy's own packet-flow tables, row by row, in the mode each comes from: the <c>runPacketFlowTests</c> calls of
/// kubernetes pkg/proxy/iptables/proxier_test.go (IPT) and pkg/proxy/nftables/proxier_test.go (NFT), IPv4 forms only.
/// Each world is the upstream test's services and EndpointSlices written as YAML (an endpoint without nodeName is
/// remote, as in the fake proxier); expected outputs are copied from the upstream tables, not computed.
/// <para>Mirrored here: IPT TestTracePacket (on the services of TestOverallIPTablesRules, run in both modes: the NFT
/// overall world is the same), IPT/NFT TestNoEndpointsReject, IPT/NFT TestClusterIPGeneral, IPT/NFT TestLoadBalancer,
/// IPT/NFT TestNodePorts (IPv4 subcases), IPT TestHealthCheckNodePort, IPT/NFT TestExternalTrafficPolicyLocal,
/// IPT/NFT TestExternalTrafficPolicyCluster, IPT/NFT TestInternalTrafficPolicy and IPT/NFT
/// TestTerminatingEndpointsTrafficPolicy{Local,Cluster} (every case with its "endpoints deleted" follow-up), IPT/NFT
/// TestInternalExternalMasquerade (base, no LocalTrafficDetector, masqueradeAll, both: the flows and overrides as the NFT
/// file writes them, run in both modes; the IPT table was not compared line by line).</para>
/// <para>IPT/NFT TestLoadBalancerIngressRouteTypeProxy asserts whether a rule for the ingress IP exists; it is mirrored in
/// flow form (its enabled-gate cases: the gate is GA). Deliberately not mirrored: the IPv6 subcases (DataPlane is IPv4 only), TestNodePorts'
/// KUBE-FIREWALL rule-dump check and TestDropInvalidRule (rule text, not flows; conntrack INVALID handling has its own
/// tests), TestOverall*Rules (rule dumps).</para>
/// <para>The SCTP rows of TestClusterIPGeneral run like the others.</para>
/// </summary>
public class KubeProxyPacketFlowTests
{
    const string Pod = "10.0.0.2";

    /// <summary>The services of TestOverallIPTablesRules / TestOverallNFTablesRules, which IPT TestTracePacket traces.</summary>
    const string OverallWorld = """
        apiVersion: v1
        kind: Service
        metadata: {name: svc1, namespace: ns1}
        spec: {clusterIP: 172.30.0.41, ports: [{name: p80, port: 80, protocol: TCP}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: svc2, namespace: ns2}
        spec:
          type: LoadBalancer
          externalTrafficPolicy: Local
          clusterIP: 172.30.0.42
          ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3001}]
          externalIPs: [192.168.99.22]
          healthCheckNodePort: 30000
        status: {loadBalancer: {ingress: [{ip: 1.2.3.4}]}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: svc3, namespace: ns3}
        spec: {type: NodePort, clusterIP: 172.30.0.43, ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3003}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: svc4, namespace: ns4}
        spec: {type: NodePort, clusterIP: 172.30.0.44, externalIPs: [192.168.99.33], ports: [{name: p80, port: 80, protocol: TCP, targetPort: 80}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: svc5, namespace: ns5}
        spec:
          type: LoadBalancer
          externalTrafficPolicy: Cluster
          clusterIP: 172.30.0.45
          ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3002}]
          # upstream also sets healthCheckNodePort 30000 here, which the API server rejects with eTP Cluster and
          # kube-proxy ignores (TestBuildServiceMapAddRemove); left out so the manifest is one a cluster accepts
          loadBalancerSourceRanges: [" 203.0.113.0/25"]
          sessionAffinity: ClientIP
          sessionAffinityConfig: {clientIP: {timeoutSeconds: 10800}}
        status: {loadBalancer: {ingress: [{ip: 5.6.7.8}]}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: svc6, namespace: ns6}
        spec: {type: ClusterIP, clusterIP: 172.30.0.46, ports: [{name: p80, port: 80, protocol: TCP, targetPort: 80}]}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: svc1-1, namespace: ns1, labels: {kubernetes.io/service-name: svc1}}
        addressType: IPv4
        endpoints: [{addresses: [10.180.0.1]}]
        ports: [{name: p80, port: 80, protocol: TCP}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: svc2-1, namespace: ns2, labels: {kubernetes.io/service-name: svc2}}
        addressType: IPv4
        endpoints: [{addresses: [10.180.0.2]}]
        ports: [{name: p80, port: 80, protocol: TCP}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: svc3-1, namespace: ns3, labels: {kubernetes.io/service-name: svc3}}
        addressType: IPv4
        endpoints: [{addresses: [10.180.0.3], nodeName: node-1}]
        ports: [{name: p80, port: 80, protocol: TCP}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: svc4-1, namespace: ns4, labels: {kubernetes.io/service-name: svc4}}
        addressType: IPv4
        endpoints: [{addresses: [10.180.0.4]}, {addresses: [10.180.0.5], nodeName: node-1}]
        ports: [{name: p80, port: 80, protocol: TCP}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: svc5-1, namespace: ns5, labels: {kubernetes.io/service-name: svc5}}
        addressType: IPv4
        endpoints: [{addresses: [10.180.0.3], nodeName: node-1}]
        ports: [{name: p80, port: 80, protocol: TCP}]
        """;

    const string NoEndpointsWorld = """
        apiVersion: v1
        kind: Service
        metadata: {name: svc1, namespace: ns1}
        spec:
          type: LoadBalancer
          clusterIP: 172.30.0.41
          externalIPs: [192.168.99.11]
          ports: [{name: p80, protocol: TCP, port: 80, nodePort: 3001}]
        status: {loadBalancer: {ingress: [{ip: 1.2.3.4}]}}
        """;

    const string ClusterIPGeneralWorld = """
        apiVersion: v1
        kind: Service
        metadata: {name: svc1, namespace: ns1}
        spec: {clusterIP: 172.30.0.41, ports: [{name: http, port: 80, protocol: TCP}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: svc2, namespace: ns2}
        spec:
          clusterIP: 172.30.0.42
          ports:
          - {name: http, port: 80, protocol: TCP}
          - {name: https, port: 443, protocol: TCP, targetPort: 8443}
          - {name: dns-udp, port: 53, protocol: UDP}
          - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 5353}
          - {name: dns-sctp, port: 53, protocol: SCTP}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: svc1-1, namespace: ns1, labels: {kubernetes.io/service-name: svc1}}
        addressType: IPv4
        endpoints: [{addresses: [10.180.0.1], nodeName: node-1}]
        ports: [{name: http, port: 80, protocol: TCP}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: svc2-1, namespace: ns2, labels: {kubernetes.io/service-name: svc2}}
        addressType: IPv4
        endpoints: [{addresses: [10.180.0.1], nodeName: node-1}, {addresses: [10.180.2.1], nodeName: node2}]
        ports:
        - {name: http, port: 80, protocol: TCP}
        - {name: https, port: 8443, protocol: TCP}
        - {name: dns-udp, port: 53, protocol: UDP}
        - {name: dns-tcp, port: 5353, protocol: TCP}
        - {name: dns-sctp, port: 53, protocol: SCTP}
        """;

    const string LoadBalancerWorld = """
        apiVersion: v1
        kind: Service
        metadata: {name: svc1, namespace: ns1}
        spec:
          type: LoadBalancer
          clusterIP: 172.30.0.41
          ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3001}]
          loadBalancerSourceRanges: [192.168.0.0/24, " 203.0.113.0/25"]
        status: {loadBalancer: {ingress: [{ip: 1.2.3.4}, {ip: 5.6.7.8}]}}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: svc1-1, namespace: ns1, labels: {kubernetes.io/service-name: svc1}}
        addressType: IPv4
        endpoints: [{addresses: [10.180.0.1]}]
        ports: [{name: p80, port: 80, protocol: TCP}]
        """;

    /// <summary>
    /// TestLoadBalancerIngressRouteTypeProxy's three enabled-gate cases (LoadBalancerIPMode is GA, so the gate-disabled
    /// cases are gone upstream), one service each: upstream asserts whether a KUBE-SERVICES rule for the ingress IP
    /// exists; in flow terms, an external client's packet to that IP is DNATed (rule) or left to the host ("").
    /// </summary>
    const string IngressIPModeWorld = """
        apiVersion: v1
        kind: Service
        metadata: {name: proxy, namespace: ns1}
        spec: {type: LoadBalancer, clusterIP: 10.20.30.41, ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3001}]}
        status: {loadBalancer: {ingress: [{ip: 1.2.3.4, ipMode: Proxy}]}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: vip, namespace: ns1}
        spec: {type: LoadBalancer, clusterIP: 10.20.30.42, ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3002}]}
        status: {loadBalancer: {ingress: [{ip: 1.2.3.5, ipMode: VIP}]}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: unset, namespace: ns1}
        spec: {type: LoadBalancer, clusterIP: 10.20.30.43, ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3003}]}
        status: {loadBalancer: {ingress: [{ip: 1.2.3.6}]}}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: proxy-1, namespace: ns1, labels: {kubernetes.io/service-name: proxy}}
        addressType: IPv4
        endpoints: [{addresses: [10.180.0.1]}]
        ports: [{name: p80, port: 80, protocol: TCP}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: vip-1, namespace: ns1, labels: {kubernetes.io/service-name: vip}}
        addressType: IPv4
        endpoints: [{addresses: [10.180.0.1]}]
        ports: [{name: p80, port: 80, protocol: TCP}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: unset-1, namespace: ns1, labels: {kubernetes.io/service-name: unset}}
        addressType: IPv4
        endpoints: [{addresses: [10.180.0.1]}]
        ports: [{name: p80, port: 80, protocol: TCP}]
        """;

    const string NodePortsWorld = """
        apiVersion: v1
        kind: Service
        metadata: {name: svc1, namespace: ns1}
        spec: {type: NodePort, clusterIP: 172.30.0.41, ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3001}]}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: svc1-1, namespace: ns1, labels: {kubernetes.io/service-name: svc1}}
        addressType: IPv4
        endpoints: [{addresses: [10.180.0.1]}, {addresses: [10.180.2.1], nodeName: node-1}]
        ports: [{name: p80, port: 80, protocol: TCP}]
        """;

    const string HealthCheckWorld = """
        apiVersion: v1
        kind: Service
        metadata: {name: svc1, namespace: ns1}
        spec:
          type: LoadBalancer
          clusterIP: 172.30.0.42
          ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3001}]
          healthCheckNodePort: 30000
          externalTrafficPolicy: Local
        """;


    static string EtpWorld(string policy) => $$$"""
        apiVersion: v1
        kind: Service
        metadata: {name: svc1, namespace: ns1}
        spec:
          type: LoadBalancer
          externalTrafficPolicy: {{{policy}}}
          clusterIP: 172.30.0.41
          externalIPs: [192.168.99.11]
          ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3001, targetPort: 80}]
        {{{(policy == "Local" ? "  healthCheckNodePort: 30000" : "")}}}
        status: {loadBalancer: {ingress: [{ip: 1.2.3.4}]}}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: svc1-1, namespace: ns1, labels: {kubernetes.io/service-name: svc1}}
        addressType: IPv4
        endpoints: [{addresses: [10.180.0.1]}, {addresses: [10.180.2.1], nodeName: node-1}]
        ports: [{name: p80, port: 80, protocol: TCP}]
        """;

    // TestInternalTrafficPolicy / TestTerminatingEndpointsTrafficPolicyLocal: upstream names this node testNodeName
    // and uses "node-1" for a remote node; here the emulated node is node-1, so that remote node is node-9.
    static string ItpWorld(string policy, params (string Ip, string Node)[] eps) =>
        "apiVersion: v1\nkind: Service\nmetadata: {name: svc1, namespace: ns1}\n" +
        $"spec: {{clusterIP: 172.30.1.1, selector: {{foo: bar}}, internalTrafficPolicy: {policy}, ports: [{{port: 80, protocol: TCP}}]}}\n" +
        (eps.Length == 0 ? "" : "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n" +
            "metadata: {name: svc1-1, namespace: ns1, labels: {kubernetes.io/service-name: svc1}}\naddressType: IPv4\n" +
            "ports: [{name: \"\", port: 80, protocol: TCP}]\nendpoints:\n" +
            string.Concat(eps.Select(e => $"- {{addresses: [{e.Ip}], conditions: {{ready: true}}, nodeName: {e.Node}}}\n")));

    static string TerminatingLocalWorld(params (string Ip, bool Ready, bool Serving, bool Terminating, string Node)[] eps) =>
        TerminatingWorld("externalTrafficPolicy: Local, healthCheckNodePort: 30000", eps);

    // TestTerminatingEndpointsTrafficPolicyCluster also sets healthCheckNodePort 30000, which the API server rejects
    // with eTP Cluster and kube-proxy ignores: left out.
    static string TerminatingClusterWorld(params (string Ip, bool Ready, bool Serving, bool Terminating, string Node)[] eps) =>
        TerminatingWorld("externalTrafficPolicy: Cluster", eps);

    static string TerminatingWorld(string policy, (string Ip, bool Ready, bool Serving, bool Terminating, string Node)[] eps) =>
        "apiVersion: v1\nkind: Service\nmetadata: {name: svc1, namespace: ns1}\n" +
        $"spec: {{clusterIP: 172.30.1.1, type: LoadBalancer, {policy}, " +
        "ports: [{port: 80, targetPort: 80, protocol: TCP, nodePort: 30001}]}\n" +
        "status: {loadBalancer: {ingress: [{ip: 1.2.3.4}]}}\n" +
        (eps.Length == 0 ? "" : "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n" +
            "metadata: {name: svc1-1, namespace: ns1, labels: {kubernetes.io/service-name: svc1}}\naddressType: IPv4\n" +
            "ports: [{name: \"\", port: 80, protocol: TCP}]\nendpoints:\n" +
            string.Concat(eps.Select(e =>
                $"- {{addresses: [{e.Ip}], conditions: {{ready: {B(e.Ready)}, serving: {B(e.Serving)}, terminating: {B(e.Terminating)}}}, nodeName: {e.Node}}}\n")));

    static string B(bool b) => b ? "true" : "false";

    /// <summary>TestInternalExternalMasquerade's services (healthCheckNodePort on the eTP Cluster ones left out, as above).</summary>
    const string MasqueradeWorld = """
        apiVersion: v1
        kind: Service
        metadata: {name: svc1, namespace: ns1}
        spec: {type: LoadBalancer, clusterIP: 172.30.0.41, ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3001}]}
        status: {loadBalancer: {ingress: [{ip: 1.2.3.4}]}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: svc2, namespace: ns2}
        spec: {type: LoadBalancer, clusterIP: 172.30.0.42, externalTrafficPolicy: Local, healthCheckNodePort: 30002, ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3002}]}
        status: {loadBalancer: {ingress: [{ip: 5.6.7.8}]}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: svc3, namespace: ns3}
        spec: {type: LoadBalancer, clusterIP: 172.30.0.43, internalTrafficPolicy: Local, ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3003}]}
        status: {loadBalancer: {ingress: [{ip: 9.10.11.12}]}}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: svc1-1, namespace: ns1, labels: {kubernetes.io/service-name: svc1}}
        addressType: IPv4
        endpoints: [{addresses: [10.180.0.1], nodeName: node-1}, {addresses: [10.180.1.1], nodeName: remote}]
        ports: [{name: p80, port: 80, protocol: TCP}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: svc2-1, namespace: ns2, labels: {kubernetes.io/service-name: svc2}}
        addressType: IPv4
        endpoints: [{addresses: [10.180.0.2], nodeName: node-1}, {addresses: [10.180.1.2], nodeName: remote}]
        ports: [{name: p80, port: 80, protocol: TCP}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: svc3-1, namespace: ns3, labels: {kubernetes.io/service-name: svc3}}
        addressType: IPv4
        endpoints: [{addresses: [10.180.0.3], nodeName: node-1}, {addresses: [10.180.1.3], nodeName: remote}]
        ports: [{name: p80, port: 80, protocol: TCP}]
        """;

    static readonly Dictionary<string, string> Worlds = new()
    {
        ["TestInternalExternalMasquerade"] = MasqueradeWorld,
        ["TestInternalTrafficPolicy/internalTrafficPolicy is cluster"] =
            ItpWorld("Cluster", ("10.0.1.1", "node-1"), ("10.0.1.2", "node1"), ("10.0.1.3", "node2")),
        ["TestInternalTrafficPolicy/internalTrafficPolicy is local and there is one local endpoint"] =
            ItpWorld("Local", ("10.0.1.1", "node-1"), ("10.0.1.2", "node1"), ("10.0.1.3", "node2")),
        ["TestInternalTrafficPolicy/internalTrafficPolicy is local and there are multiple local endpoints"] =
            ItpWorld("Local", ("10.0.1.1", "node-1"), ("10.0.1.2", "node-1"), ("10.0.1.3", "node2")),
        ["TestInternalTrafficPolicy/internalTrafficPolicy is local and there are no local endpoints"] =
            ItpWorld("Local", ("10.0.1.1", "node0"), ("10.0.1.2", "node1"), ("10.0.1.3", "node2")),
        ["TestInternalTrafficPolicy/endpoints deleted (Cluster)"] = ItpWorld("Cluster"),
        ["TestInternalTrafficPolicy/endpoints deleted (Local)"] = ItpWorld("Local"),
        ["TestTerminatingEndpointsTrafficPolicyLocal/ready endpoints exist"] = TerminatingLocalWorld(
            ("10.0.1.1", true, true, false, "node-1"), ("10.0.1.2", true, true, false, "node-1"), ("10.0.1.3", false, true, true, "node-1"),
            ("10.0.1.4", false, false, true, "node-1"), ("10.0.1.5", true, true, false, "node-9")),
        ["TestTerminatingEndpointsTrafficPolicyLocal/only terminating endpoints exist"] = TerminatingLocalWorld(
            ("10.0.1.2", false, true, true, "node-1"), ("10.0.1.3", false, true, true, "node-1"), ("10.0.1.4", false, false, true, "node-1"),
            ("10.0.1.5", true, true, false, "node-9")),
        ["TestTerminatingEndpointsTrafficPolicyLocal/terminating endpoints on remote node"] = TerminatingLocalWorld(
            ("10.0.1.5", false, true, true, "node-9")),
        ["TestTerminatingEndpointsTrafficPolicyLocal/no usable endpoints on any node"] = TerminatingLocalWorld(
            ("10.0.1.5", false, false, true, "node-1"), ("10.0.1.5", false, false, true, "node-9")),
        ["TestTerminatingEndpointsTrafficPolicyLocal/after endpoints deleted"] = TerminatingLocalWorld(),
        ["TestTerminatingEndpointsTrafficPolicyCluster/ready endpoints exist"] = TerminatingClusterWorld(
            ("10.0.1.1", true, true, false, "node-1"), ("10.0.1.2", true, true, false, "node-1"), ("10.0.1.3", false, true, true, "another-node"),
            ("10.0.1.4", false, false, true, "another-node"), ("10.0.1.5", true, true, false, "another-node")),
        ["TestTerminatingEndpointsTrafficPolicyCluster/only terminating endpoints exist"] = TerminatingClusterWorld(
            ("10.0.1.2", false, true, true, "node-1"), ("10.0.1.3", false, true, true, "node-1"), ("10.0.1.4", false, false, true, "another-node"),
            ("10.0.1.5", false, true, true, "another-node")),
        ["TestTerminatingEndpointsTrafficPolicyCluster/terminating endpoints on remote node"] = TerminatingClusterWorld(
            ("10.0.1.5", false, true, true, "node-9")),
        ["TestTerminatingEndpointsTrafficPolicyCluster/no usable endpoints on any node"] = TerminatingClusterWorld(
            ("10.0.1.5", false, false, true, "node-1"), ("10.0.1.5", false, false, true, "node-9")),
        ["TestTerminatingEndpointsTrafficPolicyCluster/after endpoints deleted"] = TerminatingClusterWorld(),
        ["TestExternalTrafficPolicyLocal"] = EtpWorld("Local"),
        ["TestExternalTrafficPolicyCluster"] = EtpWorld("Cluster"),
        ["TestTracePacket"] = OverallWorld,
        ["TestNoEndpointsReject"] = NoEndpointsWorld,
        ["TestClusterIPGeneral"] = ClusterIPGeneralWorld,
        ["TestLoadBalancer"] = LoadBalancerWorld,
        ["TestLoadBalancerIngressRouteTypeProxy"] = IngressIPModeWorld,
        ["TestNodePorts"] = NodePortsWorld,
        ["TestHealthCheckNodePort"] = HealthCheckWorld,
        ["TestHealthCheckNodePort/deleted"] = "",
    };

    /// <summary>kube-proxy configuration extras per upstream (sub)test.</summary>
    static readonly Dictionary<string, string> ProxyConfigs = new()
    {
        ["TestHealthCheckNodePort"] = "nodePortAddresses: [127.0.0.0/8]",
        ["TestHealthCheckNodePort/deleted"] = "nodePortAddresses: [127.0.0.0/8]",
        // IPT TestNodePorts subcases.
        ["ipv4, localhost-nodeports enabled"] = "iptables: {localhostNodePorts: true}",
        ["ipv4, localhost-nodeports disabled"] = "iptables: {localhostNodePorts: false}",
        ["ipv4, localhost-nodeports disabled, localhost in nodeport-addresses"] = "iptables: {localhostNodePorts: false}\nnodePortAddresses: [192.168.0.0/24, 127.0.0.1/32]",
        ["ipv4, localhost-nodeports enabled, multiple nodeport-addresses"] = "iptables: {localhostNodePorts: false}\nnodePortAddresses: [192.168.0.0/24, 192.168.1.0/24, \"2001:db8::/64\"]",
        // NFT TestNodePorts subcases.
        ["ipv4"] = "",
        // TestInternalExternalMasquerade subcases.
        ["masqueradeAll"] = "masqueradeAll: true",
        ["masqueradeAll, no LocalTrafficDetector"] = "masqueradeAll: true",
        ["ipv4, multiple nodeport-addresses"] = "nodePortAddresses: [192.168.0.0/24, 192.168.1.0/24, \"2001:db8::/64\"]",
    };

    static readonly Dictionary<string, PacketFlowWorld> s_cache = [];

    static PacketFlowWorld World(string mode, string test, string subtest)
    {
        string key = $"{mode}|{test}|{subtest}";
        lock (s_cache)
        {
            if (!s_cache.TryGetValue(key, out var w))
                s_cache[key] = w = new PacketFlowWorld(mode, Worlds.GetValueOrDefault($"{test}/{subtest}") ?? Worlds[test],
                    ProxyConfigs.GetValueOrDefault(subtest.Length > 0 ? subtest : test, ""), detectLocal: !subtest.Contains("no LocalTrafficDetector"));
            return w;
        }
    }

    /// <summary>(mode, upstream test, subtest, flow name, source, protocol, destination, port, output, masq).</summary>
    public sealed record Row(string Mode, string Test, string Subtest, string Name, string Src, string Proto, string Dst, int Port, string Output, bool Masq)
    {
        public override string ToString() => $"{Mode} {Test}{(Subtest.Length > 0 ? "/" + Subtest : "")}: {Name}";
    }

    static IEnumerable<Row> Both(string test, string name, string src, string proto, string dst, int port, string output, bool masq = false)
    {
        yield return new Row("iptables", test, "", name, src, proto, dst, port, output, masq);
        yield return new Row("nftables", test, "", name, src, proto, dst, port, output, masq);
    }

    static IEnumerable<Row> AllRows()
    {
        // IPT TestTracePacket (same flows on the NFT overall world).
        const string T = "TestTracePacket";
        foreach (var r in Both(T, "no match", "10.0.0.2", "TCP", "10.0.0.3", 80, "")) yield return r;
        foreach (var r in Both(T, "single endpoint", "10.0.0.2", "TCP", "172.30.0.41", 80, "10.180.0.1:80")) yield return r;
        foreach (var r in Both(T, "multiple endpoints", "10.0.0.2", "TCP", "172.30.0.44", 80, "10.180.0.4:80, 10.180.0.5:80")) yield return r;
        foreach (var r in Both(T, "LOCAL, KUBE-MARK-MASQ", NodeIp, "TCP", "192.168.99.22", 80, "10.180.0.2:80", true)) yield return r;
        foreach (var r in Both(T, "DROP", ExternalClient, "TCP", "192.168.99.22", 80, "DROP")) yield return r;
        foreach (var r in Both(T, "ACCEPT (NodePortHealthCheck)", NodeIp, "TCP", NodeIp, 30000, "ACCEPT")) yield return r;
        foreach (var r in Both(T, "REJECT", "10.0.0.2", "TCP", "172.30.0.46", 80, "REJECT")) yield return r;

        // IPT/NFT TestNoEndpointsReject.
        const string N = "TestNoEndpointsReject";
        foreach (var r in Both(N, "pod to cluster IP with no endpoints", Pod, "TCP", "172.30.0.41", 80, "REJECT")) yield return r;
        foreach (var r in Both(N, "external to external IP with no endpoints", ExternalClient, "TCP", "192.168.99.11", 80, "REJECT")) yield return r;
        foreach (var r in Both(N, "pod to NodePort with no endpoints", Pod, "TCP", NodeIp, 3001, "REJECT")) yield return r;
        foreach (var r in Both(N, "external to NodePort with no endpoints", ExternalClient, "TCP", NodeIp, 3001, "REJECT")) yield return r;
        foreach (var r in Both(N, "pod to LoadBalancer IP with no endpoints", Pod, "TCP", "1.2.3.4", 80, "REJECT")) yield return r;
        foreach (var r in Both(N, "external to LoadBalancer IP with no endpoints", ExternalClient, "TCP", "1.2.3.4", 80, "REJECT")) yield return r;

        // IPT/NFT TestClusterIPGeneral (the SCTP row is in SctpRows).
        const string C = "TestClusterIPGeneral";
        foreach (var r in Both(C, "simple clusterIP", "10.180.0.2", "TCP", "172.30.0.41", 80, "10.180.0.1:80")) yield return r;
        foreach (var r in Both(C, "hairpin to cluster IP", "10.180.0.1", "TCP", "172.30.0.41", 80, "10.180.0.1:80", true)) yield return r;
        foreach (var r in Both(C, "clusterIP with multiple endpoints", "10.180.0.2", "TCP", "172.30.0.42", 80, "10.180.0.1:80, 10.180.2.1:80")) yield return r;
        foreach (var r in Both(C, "clusterIP with TargetPort", "10.180.0.2", "TCP", "172.30.0.42", 443, "10.180.0.1:8443, 10.180.2.1:8443")) yield return r;
        foreach (var r in Both(C, "clusterIP with TCP, UDP, and SCTP on same port (TCP)", "10.180.0.2", "TCP", "172.30.0.42", 53, "10.180.0.1:5353, 10.180.2.1:5353")) yield return r;
        foreach (var r in Both(C, "clusterIP with TCP, UDP, and SCTP on same port (UDP)", "10.180.0.2", "UDP", "172.30.0.42", 53, "10.180.0.1:53, 10.180.2.1:53")) yield return r;
        // iptables leaves an unserved port/protocol of a cluster IP alone; nftables rejects it.
        yield return new Row("iptables", C, "", "TCP-only port does not match UDP traffic", "10.180.0.2", "UDP", "172.30.0.42", 80, "", false);
        yield return new Row("nftables", C, "", "TCP-only port does not match UDP traffic", "10.180.0.2", "UDP", "172.30.0.42", 80, "REJECT", false);
        yield return new Row("iptables", C, "", "svc1 does not accept svc2's ports", "10.180.0.2", "TCP", "172.30.0.41", 443, "", false);
        yield return new Row("nftables", C, "", "svc1 does not accept svc2's ports", "10.180.0.2", "TCP", "172.30.0.41", 443, "REJECT", false);
        // NFT only: an unallocated address of the service CIDR is dropped (baseRules "cluster-ips-check").
        yield return new Row("nftables", C, "", "packet to unallocated cluster ip", "10.180.0.2", "TCP", "172.30.0.50", 80, "DROP", false);

        // IPT/NFT TestLoadBalancerIngressRouteTypeProxy (enabled-gate cases, in flow form: rule present = DNAT, absent = "").
        const string Ip = "TestLoadBalancerIngressRouteTypeProxy";
        foreach (var r in Both(Ip, "LoadBalancerIPMode enabled, ipMode Proxy", ExternalClient, "TCP", "1.2.3.4", 80, "")) yield return r;
        foreach (var r in Both(Ip, "LoadBalancerIPMode enabled, ipMode VIP", ExternalClient, "TCP", "1.2.3.5", 80, "10.180.0.1:80", true)) yield return r;
        foreach (var r in Both(Ip, "LoadBalancerIPMode enabled, ipMode nil", ExternalClient, "TCP", "1.2.3.6", 80, "10.180.0.1:80", true)) yield return r;

        // IPT/NFT TestLoadBalancer.
        const string L = "TestLoadBalancer", ep = "10.180.0.1:80";
        foreach (var r in Both(L, "pod to cluster IP", Pod, "TCP", "172.30.0.41", 80, ep)) yield return r;
        foreach (var r in Both(L, "external to nodePort", ExternalClient, "TCP", NodeIp, 3001, ep, true)) yield return r;
        foreach (var r in Both(L, "nodePort bypasses LoadBalancerSourceRanges", ExternalClientBlocked, "TCP", NodeIp, 3001, ep, true)) yield return r;
        foreach (var r in Both(L, "accepted external to LB1", ExternalClient, "TCP", "1.2.3.4", 80, ep, true)) yield return r;
        foreach (var r in Both(L, "accepted external to LB2", ExternalClient, "TCP", "5.6.7.8", 80, ep, true)) yield return r;
        foreach (var r in Both(L, "blocked external to LB1", ExternalClientBlocked, "TCP", "1.2.3.4", 80, "DROP")) yield return r;
        foreach (var r in Both(L, "blocked external to LB2", ExternalClientBlocked, "TCP", "5.6.7.8", 80, "DROP")) yield return r;
        foreach (var r in Both(L, "pod to LB1 (blocked by LoadBalancerSourceRanges)", Pod, "TCP", "1.2.3.4", 80, "DROP")) yield return r;
        foreach (var r in Both(L, "pod to LB2 (blocked by LoadBalancerSourceRanges)", Pod, "TCP", "5.6.7.8", 80, "DROP")) yield return r;
        foreach (var r in Both(L, "node to LB1 (allowed by LoadBalancerSourceRanges)", NodeIp, "TCP", "1.2.3.4", 80, ep, true)) yield return r;
        foreach (var r in Both(L, "node to LB2 (allowed by LoadBalancerSourceRanges)", NodeIp, "TCP", "5.6.7.8", 80, ep, true)) yield return r;
        foreach (var r in Both(L, "same node to LB1, SNATted to LB1 (implicitly allowed)", "1.2.3.4", "TCP", "1.2.3.4", 80, ep, true)) yield return r;
        foreach (var r in Both(L, "same node to LB2, SNATted to LB2 (implicitly allowed)", "5.6.7.8", "TCP", "5.6.7.8", 80, ep, true)) yield return r;

        // IPT TestNodePorts, IPv4 subcases: (subtest, localhost NodePort served, secondary node IP served).
        const string P = "TestNodePorts", both = "10.180.0.1:80, 10.180.2.1:80";
        (string Mode, string Sub, bool? Localhost, bool Alt)[] subs =
        [
            ("iptables", "ipv4, localhost-nodeports enabled", true, true),
            ("iptables", "ipv4, localhost-nodeports disabled", false, true),
            ("iptables", "ipv4, localhost-nodeports disabled, localhost in nodeport-addresses", false, false),
            ("iptables", "ipv4, localhost-nodeports enabled, multiple nodeport-addresses", false, true),
            // NFT TestNodePorts: primary IP only unless nodePortAddresses covers the other; no localhost NodePorts.
            ("nftables", "ipv4", null, false),
            ("nftables", "ipv4, multiple nodeport-addresses", null, true),
        ];
        foreach (var (mode, sub, localhost, alt) in subs)
        {
            yield return new Row(mode, P, sub, "pod to cluster IP", "10.0.0.2", "TCP", "172.30.0.41", 80, both, false);
            yield return new Row(mode, P, sub, "external to nodePort", ExternalClient, "TCP", NodeIp, 3001, both, true);
            yield return new Row(mode, P, sub, "node to nodePort", NodeIp, "TCP", NodeIp, 3001, both, true);
            if (localhost == true) yield return new Row(mode, P, sub, "localhost to nodePort gets masqueraded", "127.0.0.1", "TCP", "127.0.0.1", 3001, both, true);
            if (localhost == false) yield return new Row(mode, P, sub, "localhost to nodePort is ignored", "127.0.0.1", "TCP", "127.0.0.1", 3001, "", false);
            yield return alt
                ? new Row(mode, P, sub, "external to nodePort on secondary IP", ExternalClient, "TCP", NodeIpAlt, 3001, both, true)
                : new Row(mode, P, sub, "secondary nodeIP ignores NodePorts", ExternalClient, "TCP", NodeIpAlt, 3001, "", false);
        }

        // IPT/NFT TestExternalTrafficPolicyLocal and TestExternalTrafficPolicyCluster.
        const string EL = "TestExternalTrafficPolicyLocal", EC = "TestExternalTrafficPolicyCluster";
        const string two = "10.180.0.1:80, 10.180.2.1:80", local = "10.180.2.1:80";
        foreach (var r in Both(EL, "pod to cluster IP hits both endpoints, unmasqueraded", Pod, "TCP", "172.30.0.41", 80, two)) yield return r;
        foreach (var r in Both(EL, "pod to external IP hits both endpoints, unmasqueraded", Pod, "TCP", "192.168.99.11", 80, two)) yield return r;
        foreach (var r in Both(EL, "external to external IP hits only local endpoint, unmasqueraded", ExternalClient, "TCP", "192.168.99.11", 80, local)) yield return r;
        foreach (var r in Both(EL, "pod to LB IP hits only both endpoints, unmasqueraded", Pod, "TCP", "1.2.3.4", 80, two)) yield return r;
        foreach (var r in Both(EL, "external to LB IP hits only local endpoint, unmasqueraded", ExternalClient, "TCP", "1.2.3.4", 80, local)) yield return r;
        foreach (var r in Both(EL, "pod to NodePort hits both endpoints, unmasqueraded", Pod, "TCP", NodeIp, 3001, two)) yield return r;
        foreach (var r in Both(EL, "external to NodePort hits only local endpoint, unmasqueraded", ExternalClient, "TCP", NodeIp, 3001, local)) yield return r;
        foreach (var r in Both(EC, "pod to cluster IP hits both endpoints, unmasqueraded", Pod, "TCP", "172.30.0.41", 80, two)) yield return r;
        foreach (var r in Both(EC, "pod to external IP hits both endpoints, masqueraded", Pod, "TCP", "192.168.99.11", 80, two, true)) yield return r;
        foreach (var r in Both(EC, "external to external IP hits both endpoints, masqueraded", ExternalClient, "TCP", "192.168.99.11", 80, two, true)) yield return r;
        foreach (var r in Both(EC, "pod to LB IP hits both endpoints, masqueraded", Pod, "TCP", "1.2.3.4", 80, two, true)) yield return r;
        foreach (var r in Both(EC, "external to LB IP hits both endpoints, masqueraded", ExternalClient, "TCP", "1.2.3.4", 80, two, true)) yield return r;
        foreach (var r in Both(EC, "pod to NodePort hits both endpoints, masqueraded", Pod, "TCP", NodeIp, 3001, two, true)) yield return r;
        foreach (var r in Both(EC, "external to NodePort hits both endpoints, masqueraded", ExternalClient, "TCP", NodeIp, 3001, two, true)) yield return r;

        // IPT/NFT TestInternalTrafficPolicy: each case, then its EndpointSlice deleted.
        const string I = "TestInternalTrafficPolicy";
        foreach (var (sub, name, output) in new[]
        {
            ("internalTrafficPolicy is cluster", "pod to ClusterIP hits all endpoints", "10.0.1.1:80, 10.0.1.2:80, 10.0.1.3:80"),
            ("internalTrafficPolicy is local and there is one local endpoint", "pod to ClusterIP hits only local endpoint", "10.0.1.1:80"),
            ("internalTrafficPolicy is local and there are multiple local endpoints", "pod to ClusterIP hits all local endpoints", "10.0.1.1:80, 10.0.1.2:80"),
            ("internalTrafficPolicy is local and there are no local endpoints", "no endpoints", "DROP"),
            ("endpoints deleted (Cluster)", "endpoints deleted", "REJECT"),
            ("endpoints deleted (Local)", "endpoints deleted", "REJECT"),
        })
            foreach (string mode in new[] { "iptables", "nftables" })
                yield return new Row(mode, I, sub, name, Pod, "TCP", "172.30.1.1", 80, output, false);

        // IPT/NFT TestTerminatingEndpointsTrafficPolicyLocal: each case, then its EndpointSlice deleted.
        const string TL = "TestTerminatingEndpointsTrafficPolicyLocal";
        foreach (var (sub, name, src, dst, output) in new[]
        {
            ("ready endpoints exist", "pod to clusterIP", Pod, "172.30.1.1", "10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80"),
            ("ready endpoints exist", "external to LB", ExternalClient, "1.2.3.4", "10.0.1.1:80, 10.0.1.2:80"),
            ("only terminating endpoints exist", "pod to clusterIP", Pod, "172.30.1.1", "10.0.1.5:80"),
            ("only terminating endpoints exist", "external to LB", ExternalClient, "1.2.3.4", "10.0.1.2:80, 10.0.1.3:80"),
            ("terminating endpoints on remote node", "pod to clusterIP", Pod, "172.30.1.1", "10.0.1.5:80"),
            ("terminating endpoints on remote node", "external to LB, no locally-usable endpoints", ExternalClient, "1.2.3.4", "DROP"),
            ("no usable endpoints on any node", "pod to clusterIP, no usable endpoints", Pod, "172.30.1.1", "REJECT"),
            ("no usable endpoints on any node", "external to LB, no usable endpoints", ExternalClient, "1.2.3.4", "REJECT"),
            ("after endpoints deleted", "pod to clusterIP after endpoints deleted", Pod, "172.30.1.1", "REJECT"),
            ("after endpoints deleted", "external to LB after endpoints deleted", ExternalClient, "1.2.3.4", "REJECT"),
        })
            foreach (string mode in new[] { "iptables", "nftables" })
                yield return new Row(mode, TL, sub, name, src, "TCP", dst, 80, output, false);

        // IPT/NFT TestTerminatingEndpointsTrafficPolicyCluster: each case, then its EndpointSlice deleted.
        const string TC = "TestTerminatingEndpointsTrafficPolicyCluster";
        foreach (var (sub, name, src, dst, output, masq) in new[]
        {
            ("ready endpoints exist", "pod to clusterIP", Pod, "172.30.1.1", "10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80", false),
            ("ready endpoints exist", "external to LB", ExternalClient, "1.2.3.4", "10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80", true),
            ("only terminating endpoints exist", "pod to clusterIP", Pod, "172.30.1.1", "10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80", false),
            ("only terminating endpoints exist", "external to LB", ExternalClient, "1.2.3.4", "10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80", true),
            ("terminating endpoints on remote node", "pod to clusterIP", Pod, "172.30.1.1", "10.0.1.5:80", false),
            ("terminating endpoints on remote node", "external to LB", ExternalClient, "1.2.3.4", "10.0.1.5:80", true),
            ("no usable endpoints on any node", "pod to clusterIP", Pod, "172.30.1.1", "REJECT", false),
            ("no usable endpoints on any node", "external to LB", ExternalClient, "1.2.3.4", "REJECT", false),
            ("after endpoints deleted", "pod to clusterIP after endpoints deleted", Pod, "172.30.1.1", "REJECT", false),
            ("after endpoints deleted", "external to LB after endpoints deleted", ExternalClient, "1.2.3.4", "REJECT", false),
        })
            foreach (string mode in new[] { "iptables", "nftables" })
                yield return new Row(mode, TC, sub, name, src, "TCP", dst, 80, output, masq);

        // IPT/NFT TestInternalExternalMasquerade: the shared flows, then each variant's overrides.
        const string M = "TestInternalExternalMasquerade", s1 = "10.180.0.1:80, 10.180.1.1:80", s2 = "10.180.0.2:80, 10.180.1.2:80",
            s3 = "10.180.0.3:80, 10.180.1.3:80";
        (string Name, string Src, string Dst, int Port, string Output, bool Masq)[] flows =
        [
            ("pod to ClusterIP", Pod, "172.30.0.41", 80, s1, false),
            ("pod to NodePort", Pod, NodeIp, 3001, s1, true),
            ("pod to LB", Pod, "1.2.3.4", 80, s1, true),
            ("node to ClusterIP", NodeIp, "172.30.0.41", 80, s1, true),
            ("node to NodePort", NodeIp, NodeIp, 3001, s1, true),
            ("node to LB", NodeIp, "1.2.3.4", 80, s1, true),
            ("external to ClusterIP", ExternalClient, "172.30.0.41", 80, s1, true),
            ("external to NodePort", ExternalClient, NodeIp, 3001, s1, true),
            ("external to LB", ExternalClient, "1.2.3.4", 80, s1, true),
            ("pod to ClusterIP with eTP:Local", Pod, "172.30.0.42", 80, s2, false),
            ("pod to NodePort with eTP:Local", Pod, NodeIp, 3002, s2, false),
            ("pod to LB with eTP:Local", Pod, "5.6.7.8", 80, s2, false),
            ("node to ClusterIP with eTP:Local", NodeIp, "172.30.0.42", 80, s2, true),
            ("node to NodePort with eTP:Local", NodeIp, NodeIp, 3001, s1, true), // upstream sends this one to svc1's port
            ("node to LB with eTP:Local", NodeIp, "5.6.7.8", 80, s2, true),
            ("external to ClusterIP with eTP:Local", ExternalClient, "172.30.0.42", 80, s2, true),
            ("external to NodePort with eTP:Local", ExternalClient, NodeIp, 3002, "10.180.0.2:80", false),
            ("external to LB with eTP:Local", ExternalClient, "5.6.7.8", 80, "10.180.0.2:80", false),
            ("pod to ClusterIP with iTP:Local", Pod, "172.30.0.43", 80, "10.180.0.3:80", false),
            ("pod to NodePort with iTP:Local", Pod, NodeIp, 3003, s3, true),
            ("pod to LB with iTP:Local", Pod, "9.10.11.12", 80, s3, true),
            ("node to ClusterIP with iTP:Local", NodeIp, "172.30.0.43", 80, "10.180.0.3:80", true),
            ("node to NodePort with iTP:Local", NodeIp, NodeIp, 3003, s3, true),
            ("node to LB with iTP:Local", NodeIp, "9.10.11.12", 80, s3, true),
            ("external to ClusterIP with iTP:Local", ExternalClient, "172.30.0.43", 80, "10.180.0.3:80", true),
            ("external to NodePort with iTP:Local", ExternalClient, NodeIp, 3003, s3, true),
            ("external to LB with iTP:Local", ExternalClient, "9.10.11.12", 80, s3, true),
        ];
        var noDetector = new Dictionary<string, (string? Output, bool? Masq)>
        {
            // No detector: all ClusterIP traffic is taken for pod traffic (not masqueraded), and there is no eTP:Local
            // short-circuit for pods, which get only the local endpoints.
            ["node to ClusterIP"] = (null, false), ["node to ClusterIP with eTP:Local"] = (null, false),
            ["node to ClusterIP with iTP:Local"] = (null, false), ["external to ClusterIP"] = (null, false),
            ["external to ClusterIP with eTP:Local"] = (null, false), ["external to ClusterIP with iTP:Local"] = (null, false),
            ["pod to NodePort with eTP:Local"] = ("10.180.0.2:80", null), ["pod to LB with eTP:Local"] = ("10.180.0.2:80", null),
        };
        var masqAll = new Dictionary<string, (string? Output, bool? Masq)>
        {
            ["pod to ClusterIP"] = (null, true), ["pod to ClusterIP with eTP:Local"] = (null, true), ["pod to ClusterIP with iTP:Local"] = (null, true),
        };
        var both2 = new Dictionary<string, (string? Output, bool? Masq)>(masqAll)
        {
            ["pod to NodePort with eTP:Local"] = ("10.180.0.2:80", null), ["pod to LB with eTP:Local"] = ("10.180.0.2:80", null),
        };
        foreach (var (sub, overrides) in new (string, Dictionary<string, (string? Output, bool? Masq)>)[]
            { ("base", []), ("no LocalTrafficDetector", noDetector), ("masqueradeAll", masqAll), ("masqueradeAll, no LocalTrafficDetector", both2) })
            foreach (var f in flows)
                foreach (string mode in new[] { "iptables", "nftables" })
                {
                    var (o, m) = overrides.GetValueOrDefault(f.Name);
                    yield return new Row(mode, M, sub, f.Name, f.Src, "TCP", f.Dst, f.Port, o ?? f.Output, m ?? f.Masq);
                }

        // IPT TestHealthCheckNodePort: accepted on the node IP even with nodePortAddresses 127.0.0.0/8; gone with the service.
        yield return new Row("iptables", "TestHealthCheckNodePort", "", "firewall accepts HealthCheckNodePort", "1.2.3.4", "TCP", NodeIp, 30000, "ACCEPT", false);
        yield return new Row("iptables", "TestHealthCheckNodePort/deleted", "", "HealthCheckNodePort no longer has any rule", "1.2.3.4", "TCP", NodeIp, 30000, "", false);
    }

    public static TheoryData<Row> Rows() => [.. AllRows()];

    [Theory]
    [MemberData(nameof(Rows))]
    public void Upstream_flow(Row row)
    {
        var (output, masq) = World(row.Mode, row.Test, row.Subtest).Trace(row.Src, row.Proto, row.Dst, row.Port);
        Assert.Equal((row.Output, row.Masq), (output, masq));
    }

    /// <summary>The SCTP rows of the same tables: they need the SCTP data path (DNAT with the CRC32c rewritten).</summary>
    public static TheoryData<Row> SctpRows() =>
    [
        new Row("iptables", "TestClusterIPGeneral", "", "clusterIP with TCP, UDP, and SCTP on same port (SCTP)", "10.180.0.2", "SCTP", "172.30.0.42", 53, "10.180.0.1:53, 10.180.2.1:53", false),
        new Row("nftables", "TestClusterIPGeneral", "", "clusterIP with TCP, UDP, and SCTP on same port (SCTP)", "10.180.0.2", "SCTP", "172.30.0.42", 53, "10.180.0.1:53, 10.180.2.1:53", false),
    ];

    [Theory]
    [MemberData(nameof(SctpRows))]
    public void Upstream_sctp_flow(Row row) => Upstream_flow(row);
}
