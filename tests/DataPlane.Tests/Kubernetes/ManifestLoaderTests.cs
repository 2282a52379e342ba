using DataPlane.Kubernetes.Manifests;
using DataPlane.Packets;

namespace DataPlane.Tests.Kubernetes;

/// <summary>Valid manifests of every supported kind load into the right model.</summary>
public class ManifestLoaderTests
{
    private static ClusterManifests LoadText(string yaml, string fileName = "cluster.yaml")
    {
        using var dir = new ManifestDirectory();
        return ManifestLoader.Load(dir.Write(fileName, yaml));
    }

    private static uint IP(string text) => Ip4.TryParse(text, out var ip) ? ip : throw new ArgumentException(text);

    [Fact]
    public void Service_with_every_field()
    {
        var m = LoadText("""
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              namespace: shop
            spec:
              type: LoadBalancer
              clusterIP: 172.30.0.41
              clusterIPs: [172.30.0.41, "fd00::41"]
              selector: {app: web, tier: front}
              ports:
              - name: http
                port: 80
                targetPort: 8080
                nodePort: 30080
              - name: dns
                port: 53
                protocol: UDP
                targetPort: dns-udp
              externalIPs: [192.168.99.11, "2001:db8::1"]
              loadBalancerSourceRanges: [" 203.0.113.000/025", "2001:db8::/64"]
              externalTrafficPolicy: Local
              internalTrafficPolicy: Local
              healthCheckNodePort: 30000
              sessionAffinity: ClientIP
              sessionAffinityConfig: {clientIP: {timeoutSeconds: 300}}
              publishNotReadyAddresses: true
              allocateLoadBalancerNodePorts: false
            status:
              loadBalancer:
                ingress:
                - ip: 1.2.3.4
                - ip: 5.6.7.8
                  ipMode: Proxy
                - hostname: lb.example.com
                - ip: "2001:db8::5"
            """);

        var svc = Assert.Single(m.Services);
        Assert.Equal("web", svc.Name);
        Assert.Equal("shop", svc.Namespace);
        Assert.Equal("shop/web", svc.Key);
        Assert.Equal(ServiceType.LoadBalancer, svc.Type);
        Assert.Equal(ClusterIPMode.Assigned, svc.ClusterIPMode);
        Assert.Equal(IP("172.30.0.41"), svc.ClusterIP);
        Assert.Equal([IP("172.30.0.41")], svc.ClusterIPs);
        Assert.Equal(new Dictionary<string, string> { ["app"] = "web", ["tier"] = "front" }, svc.Selector);
        Assert.Equal(2, svc.Ports.Count);
        Assert.Equal(new ServicePort { Name = "http", Port = 80, Protocol = PortProtocol.TCP, TargetPort = new(8080, null), NodePort = 30080 }, svc.Ports[0]);
        Assert.Equal(new ServicePort { Name = "dns", Port = 53, Protocol = PortProtocol.UDP, TargetPort = new(0, "dns-udp") }, svc.Ports[1]);
        Assert.True(svc.Ports[1].TargetPort.IsNamed);
        Assert.Equal([IP("192.168.99.11")], svc.ExternalIPs);
        Assert.Equal([new Cidr4(IP("203.0.113.0"), 25)], svc.LoadBalancerSourceRanges);
        Assert.Equal(TrafficPolicy.Local, svc.ExternalTrafficPolicy);
        Assert.Equal(TrafficPolicy.Local, svc.InternalTrafficPolicy);
        Assert.Equal(30000, svc.HealthCheckNodePort);
        Assert.Equal(SessionAffinity.ClientIP, svc.SessionAffinity);
        Assert.Equal(300, svc.SessionAffinityTimeoutSeconds);
        Assert.True(svc.PublishNotReadyAddresses);
        Assert.False(svc.AllocateLoadBalancerNodePorts);
        Assert.Equal([new LoadBalancerIngress(IP("1.2.3.4"), LoadBalancerIPMode.VIP), new LoadBalancerIngress(IP("5.6.7.8"), LoadBalancerIPMode.Proxy)],
            svc.LoadBalancerIngress);
        Assert.Null(svc.ExternalName);
        Assert.EndsWith("cluster.yaml", svc.SourceFile);
        Assert.Equal(1, svc.Document);
    }

    [Fact]
    public void Service_defaults()
    {
        var svc = Assert.Single(LoadText("""
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              ports: [{port: 80}]
            """).Services);

        Assert.Equal("default", svc.Namespace);
        Assert.Equal(ServiceType.ClusterIP, svc.Type);
        Assert.Equal(ClusterIPMode.Allocate, svc.ClusterIPMode);
        Assert.Null(svc.ClusterIP);
        Assert.Empty(svc.ClusterIPs);
        Assert.Null(svc.Selector);
        var port = Assert.Single(svc.Ports);
        Assert.Equal("", port.Name);
        Assert.Equal(PortProtocol.TCP, port.Protocol);
        Assert.Equal(new TargetPort(80, null), port.TargetPort);
        Assert.Null(port.NodePort);
        Assert.Equal(TrafficPolicy.Cluster, svc.ExternalTrafficPolicy);
        Assert.Equal(TrafficPolicy.Cluster, svc.InternalTrafficPolicy);
        Assert.Equal(SessionAffinity.None, svc.SessionAffinity);
        Assert.Equal(10800, svc.SessionAffinityTimeoutSeconds);
        Assert.Null(svc.HealthCheckNodePort);
        Assert.True(svc.AllocateLoadBalancerNodePorts);
        Assert.False(svc.PublishNotReadyAddresses);
        Assert.Empty(svc.ExternalIPs);
        Assert.Empty(svc.LoadBalancerIngress);
    }

    [Theory]
    // absent, "" and JSON null all mean "allocate one"
    [InlineData("", ClusterIPMode.Allocate, null)]
    [InlineData("clusterIP: \"\"", ClusterIPMode.Allocate, null)]
    [InlineData("clusterIP: null", ClusterIPMode.Allocate, null)]
    [InlineData("clusterIP: None", ClusterIPMode.Headless, null)]
    [InlineData("clusterIP: None\n  clusterIPs: [None]", ClusterIPMode.Headless, null)]
    // clusterIPs alone: its first entry is the primary (API server defaulting)
    [InlineData("clusterIPs: [10.96.0.10]", ClusterIPMode.Assigned, "10.96.0.10")]
    // IPv6-only: no IPv4 cluster IP, and none may be allocated
    [InlineData("clusterIP: fd00::10", ClusterIPMode.OtherFamily, null)]
    // dual-stack with an IPv6 primary still yields the IPv4 secondary
    [InlineData("clusterIPs: [\"fd00::10\", 10.96.0.10]", ClusterIPMode.Assigned, "10.96.0.10")]
    public void Service_cluster_ip_forms(string clusterIPLines, ClusterIPMode mode, string? ip)
    {
        var svc = Assert.Single(LoadText($"""
            apiVersion: v1
            kind: Service
            metadata: {"{"}name: db{"}"}
            spec:
              {clusterIPLines}
              ports: [{"{"}port: 5432{"}"}]
            """).Services);
        Assert.Equal(mode, svc.ClusterIPMode);
        Assert.Equal(ip is null ? null : IP(ip), svc.ClusterIP);
    }

    [Fact]
    public void Headless_and_external_name_services_need_no_ports()
    {
        var m = LoadText("""
            apiVersion: v1
            kind: Service
            metadata: {name: headless}
            spec: {clusterIP: None, selector: {app: db}}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: ext}
            spec: {type: ExternalName, externalName: db.example.com}
            """);
        Assert.Equal(ClusterIPMode.Headless, m.Services[0].ClusterIPMode);
        Assert.Empty(m.Services[0].Ports);
        Assert.Equal(ServiceType.ExternalName, m.Services[1].Type);
        Assert.Equal(ClusterIPMode.None, m.Services[1].ClusterIPMode);
        Assert.Equal("db.example.com", m.Services[1].ExternalName);
        Assert.Equal(2, m.Services[1].Document);
    }

    [Theory]
    [InlineData("targetPort: 0", 80, null)]          // 0 and "" default to port (SetDefaults_Service)
    [InlineData("targetPort: \"\"", 80, null)]
    [InlineData("targetPort: 9376", 9376, null)]
    [InlineData("targetPort: http-alt", 0, "http-alt")]
    public void Service_target_port(string line, int number, string? name)
    {
        var svc = Assert.Single(LoadText($"""
            apiVersion: v1
            kind: Service
            metadata: {"{"}name: web{"}"}
            spec:
              ports:
              - port: 80
                {line}
            """).Services);
        Assert.Equal(new TargetPort(number, name), svc.Ports[0].TargetPort);
    }

    [Fact]
    public void Empty_selector_means_no_selector()
    {
        var svc = Assert.Single(LoadText("""
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec: {selector: {}, ports: [{port: 80}]}
            """).Services);
        Assert.Null(svc.Selector);
    }

    [Fact]
    public void EndpointSlice_conditions_ports_and_address_types()
    {
        var m = LoadText("""
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: web-abc
              namespace: shop
              labels: {kubernetes.io/service-name: web}
            addressType: IPv4
            endpoints:
            - addresses: [10.0.1.1]
              nodeName: node-a
              hostname: web-0
              zone: z1
            - addresses: [10.0.1.2, 10.0.1.3]
              conditions: {ready: false, serving: true, terminating: true}
            - addresses: [10.0.1.4]
              conditions: {ready: false}
            ports:
            - {name: http, port: 8080}
            - {port: 53, protocol: UDP}
            - {name: all}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-v6, namespace: shop, labels: {kubernetes.io/service-name: web}}
            addressType: IPv6
            endpoints:
            - addresses: ["fd00::1"]
            ports: [{name: http, port: 8080}]
            """);

        Assert.Equal(2, m.EndpointSlices.Count);
        var slice = m.EndpointSlices[0];
        Assert.Equal("web", slice.ServiceName);
        Assert.True(slice.IsIPv4);
        Assert.Equal(3, slice.Endpoints.Count);

        var first = slice.Endpoints[0];
        Assert.Equal([IP("10.0.1.1")], first.Addresses);
        Assert.Equal("node-a", first.NodeName);
        Assert.Equal("web-0", first.Hostname);
        Assert.Equal("z1", first.Zone);
        // Unset conditions: ready and serving true, terminating false (discovery/v1 EndpointConditions doc).
        Assert.Null(first.Ready);
        Assert.True(first.IsReady);
        Assert.True(first.IsServing);
        Assert.False(first.IsTerminating);

        var terminating = slice.Endpoints[1];
        Assert.Equal([IP("10.0.1.2"), IP("10.0.1.3")], terminating.Addresses);
        Assert.False(terminating.IsReady);
        Assert.True(terminating.IsServing);
        Assert.True(terminating.IsTerminating);
        Assert.Null(terminating.NodeName);

        Assert.False(slice.Endpoints[2].IsReady);
        Assert.True(slice.Endpoints[2].IsServing);
        Assert.False(slice.Endpoints[2].IsTerminating);

        Assert.Equal(
            [
                new EndpointSlicePort { Name = "http", Port = 8080, Protocol = PortProtocol.TCP },
                new EndpointSlicePort { Name = "", Port = 53, Protocol = PortProtocol.UDP },
                new EndpointSlicePort { Name = "all", Port = null, Protocol = PortProtocol.TCP },
            ],
            slice.Ports);

        var v6 = m.EndpointSlices[1];
        Assert.Equal(EndpointAddressType.IPv6, v6.AddressType);
        Assert.False(v6.IsIPv4);
        Assert.Empty(v6.Endpoints);
        Assert.Single(v6.Ports);
    }

    [Fact]
    public void Legacy_endpoints()
    {
        var ep = Assert.Single(LoadText("""
            apiVersion: v1
            kind: Endpoints
            metadata: {name: web}
            subsets:
            - addresses:
              - {ip: 10.0.1.1, nodeName: node-a, hostname: web-0}
              - {ip: "fd00::1"}
              notReadyAddresses:
              - {ip: 10.0.1.2}
              ports:
              - {name: http, port: 8080}
              - {name: dns, port: 53, protocol: UDP}
            """).Endpoints);
        Assert.Equal("default/web", ep.Key);
        var subset = Assert.Single(ep.Subsets);
        Assert.Equal([new EndpointAddress(IP("10.0.1.1"), "node-a", "web-0")], subset.Addresses);
        Assert.Equal([new EndpointAddress(IP("10.0.1.2"), null, null)], subset.NotReadyAddresses);
        Assert.Equal([new EndpointPort("http", 8080, PortProtocol.TCP), new EndpointPort("dns", 53, PortProtocol.UDP)], subset.Ports);
    }

    [Fact]
    public void Pod()
    {
        var pod = Assert.Single(LoadText("""
            apiVersion: v1
            kind: Pod
            metadata:
              name: web-0
              namespace: shop
              labels: {app: web}
              deletionTimestamp: "2026-01-01T00:00:00Z"
            spec:
              nodeName: node-a
              hostname: web-0
              subdomain: web
              containers:
              - name: app
                ports:
                - {name: http, containerPort: 8080}
                - {containerPort: 53, protocol: UDP}
              - name: sidecar
                ports: [{name: metrics, containerPort: 9090}]
            status:
              phase: Running
              podIP: 10.0.1.1
              podIPs: [{ip: 10.0.1.1}, {ip: "fd00::1"}]
              conditions:
              - {type: PodScheduled, status: "True"}
              - {type: Ready, status: "True"}
            """).Pods);
        Assert.Equal("shop/web-0", pod.Key);
        Assert.Equal(new Dictionary<string, string> { ["app"] = "web" }, pod.Labels);
        Assert.Equal("node-a", pod.NodeName);
        Assert.Equal("web-0", pod.Hostname);
        Assert.Equal("web", pod.Subdomain);
        Assert.False(pod.HostNetwork);
        Assert.Equal(IP("10.0.1.1"), pod.PodIP);
        Assert.Equal([IP("10.0.1.1")], pod.PodIPs);
        Assert.Equal(PodPhase.Running, pod.Phase);
        Assert.True(pod.Ready);
        Assert.True(pod.Terminating);
        Assert.Equal(
            [new ContainerPort("http", 8080, PortProtocol.TCP), new ContainerPort(null, 53, PortProtocol.UDP), new ContainerPort("metrics", 9090, PortProtocol.TCP)],
            pod.ContainerPorts);
    }

    [Fact]
    public void Pod_without_status_is_pending_and_not_ready()
    {
        var pod = Assert.Single(LoadText("""
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec: {containers: [{name: c}]}
            """).Pods);
        Assert.Equal(PodPhase.Pending, pod.Phase);
        Assert.False(pod.Ready);
        Assert.Null(pod.PodIP);
        Assert.False(pod.Terminating);
    }

    [Fact]
    public void Node()
    {
        var node = Assert.Single(LoadText("""
            apiVersion: v1
            kind: Node
            metadata: {name: node-a}
            spec:
              podCIDR: 10.0.1.0/24
              podCIDRs: [10.0.1.0/24, "fd00:1::/64"]
            status:
              addresses:
              - {type: InternalIP, address: 192.168.0.2}
              - {type: InternalIP, address: "2001:db8::1"}
              - {type: ExternalIP, address: 203.0.113.7}
              - {type: Hostname, address: node-a}
            """).Nodes);
        Assert.Equal("node-a", node.Name);
        Assert.Null(node.Namespace);
        Assert.Equal(
            [
                new NodeAddress(NodeAddressType.InternalIP, "192.168.0.2", IP("192.168.0.2")),
                new NodeAddress(NodeAddressType.ExternalIP, "203.0.113.7", IP("203.0.113.7")),
                new NodeAddress(NodeAddressType.Hostname, "node-a", null),
            ],
            node.Addresses);
        Assert.Equal([IP("192.168.0.2")], node.InternalIPs);
        Assert.Equal([IP("203.0.113.7")], node.ExternalIPs);
        Assert.Equal(new Cidr4(IP("10.0.1.0"), 24), node.PodCIDR);
        Assert.Equal([new Cidr4(IP("10.0.1.0"), 24)], node.PodCIDRs);
    }

    [Fact]
    public void KubeProxyConfiguration()
    {
        var m = LoadText("""
            apiVersion: kubeproxy.config.k8s.io/v1alpha1
            kind: KubeProxyConfiguration
            mode: nftables
            clusterCIDR: "10.0.0.0/8, fd00::/48,10.200.0.0/16"
            detectLocalMode: NodeCIDR
            hostnameOverride: node-a
            nftables: {masqueradeAll: true}
            iptables: {localhostNodePorts: false}
            nodePortAddresses: [192.168.0.0/24, "2001:db8::/64"]
            """);
        var kp = m.ProxyConfig;
        Assert.Equal(ProxyMode.NFTables, kp.Mode);
        Assert.Equal([new Cidr4(IP("10.0.0.0"), 8), new Cidr4(IP("10.200.0.0"), 16)], kp.ClusterCIDRs);
        Assert.Equal(LocalDetectMode.NodeCIDR, kp.DetectLocalMode);
        Assert.True(kp.MasqueradeAll);
        Assert.False(kp.LocalhostNodePorts);
        Assert.Equal([new Cidr4(IP("192.168.0.0"), 24)], kp.NodePortAddresses);
        Assert.False(kp.NodePortAddressesPrimary);
        Assert.Equal("node-a", kp.HostnameOverride);
        Assert.EndsWith("cluster.yaml", kp.SourceFile);
    }

    [Fact]
    public void KubeProxyConfiguration_primary_node_port_addresses_and_iptables_masquerade_all()
    {
        var kp = LoadText("""
            apiVersion: kubeproxy.config.k8s.io/v1alpha1
            kind: KubeProxyConfiguration
            iptables: {masqueradeAll: true}
            nodePortAddresses: [primary]
            """).ProxyConfig;
        Assert.Equal(ProxyMode.IPTables, kp.Mode);
        Assert.True(kp.MasqueradeAll);
        Assert.True(kp.NodePortAddressesPrimary);
        Assert.Empty(kp.NodePortAddresses);
        Assert.True(kp.LocalhostNodePorts);
    }

    [Fact]
    public void Absent_KubeProxyConfiguration_and_ServiceCIDR_give_defaults()
    {
        var m = LoadText("""
            apiVersion: v1
            kind: Node
            metadata: {name: n1}
            """);
        Assert.Same(KubeProxyConfig.Default, m.ProxyConfig);
        Assert.Equal(ProxyMode.IPTables, m.ProxyConfig.Mode);
        Assert.Empty(m.ProxyConfig.ClusterCIDRs);
        Assert.Equal(LocalDetectMode.ClusterCIDR, m.ProxyConfig.DetectLocalMode);
        Assert.False(m.ProxyConfig.MasqueradeAll);
        Assert.True(m.ProxyConfig.LocalhostNodePorts);
        Assert.Empty(m.ServiceCidrs);
        Assert.Equal([new Cidr4(IP("10.96.0.0"), 12)], m.ServiceClusterIPRanges);
    }

    [Fact]
    public void ServiceCIDRs()
    {
        var m = LoadText("""
            apiVersion: networking.k8s.io/v1
            kind: ServiceCIDR
            metadata: {name: kubernetes}
            spec: {cidrs: [172.30.0.0/16, "fd00:30::/112"]}
            ---
            apiVersion: networking.k8s.io/v1
            kind: ServiceCIDR
            metadata: {name: extra}
            spec: {cidrs: [172.31.0.0/24]}
            """);
        Assert.Equal(["kubernetes", "extra"], m.ServiceCidrs.Select(s => s.Name));
        Assert.Equal([new Cidr4(IP("172.30.0.0"), 16), new Cidr4(IP("172.31.0.0"), 24)], m.ServiceClusterIPRanges);
    }

    [Fact]
    public void List_kind_and_empty_documents()
    {
        var m = LoadText("""
            # leading comment-only document
            ---
            apiVersion: v1
            kind: List
            items:
            - apiVersion: v1
              kind: Service
              metadata: {name: a}
              spec: {ports: [{port: 80}]}
            - apiVersion: discovery.k8s.io/v1
              kind: EndpointSlice
              metadata: {name: a-1, labels: {kubernetes.io/service-name: a}}
              addressType: IPv4
              endpoints: [{addresses: [10.0.0.5]}]
            ---
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: b}
            spec: {ports: [{port: 81}]}
            """);
        Assert.Equal(["a", "b"], m.Services.Select(s => s.Name));
        // YAML counts documents, not separators: comments before the first "---" open no document,
        // while "---" directly followed by "---" is an (empty) document of its own.
        Assert.Equal(1, m.Services[0].Document);
        Assert.Equal(3, m.Services[1].Document);
        Assert.Equal("a", Assert.Single(m.EndpointSlices).ServiceName);
    }

    [Fact]
    public void Json_file()
    {
        var m = LoadText("""
            {
            	"apiVersion": "v1",
            	"kind": "Service",
            	"metadata": {"name": "web", "namespace": "shop"},
            	"spec": {
            		"clusterIP": "10.96.0.20",
            		"ports": [{"name": "http", "port": 80, "targetPort": "http"}, {"name": "https", "port": 443, "targetPort": 8443}],
            		"publishNotReadyAddresses": false,
            		"selector": null
            	}
            }
            """, "web.json");
        var svc = Assert.Single(m.Services);
        Assert.Equal("shop/web", svc.Key);
        Assert.Equal(IP("10.96.0.20"), svc.ClusterIP);
        Assert.Equal(new TargetPort(0, "http"), svc.Ports[0].TargetPort);
        Assert.Equal(new TargetPort(8443, null), svc.Ports[1].TargetPort);
        Assert.Null(svc.Selector);
    }

    [Fact]
    public void Folder_is_read_recursively_in_ordinal_path_order()
    {
        using var dir = new ManifestDirectory();
        dir.Write("b.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: from-b}\nspec: {ports: [{port: 80}]}\n");
        dir.Write("a/z.yml", "apiVersion: v1\nkind: Service\nmetadata: {name: from-a-z}\nspec: {ports: [{port: 80}]}\n");
        dir.Write("C.json", """{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "from-c"}, "spec": {"ports": [{"port": 80}]}}""");
        dir.Write("notes.txt", "not a manifest");
        dir.Write("a/README.md", "# not a manifest");

        var m = ManifestLoader.Load(dir.Root);

        // Ordinal: "C.json" < "a/z.yml" < "b.yaml" (uppercase sorts first).
        Assert.Equal(["from-c", "from-a-z", "from-b"], m.Services.Select(s => s.Name));
        Assert.Equal(3, m.Files.Count);
        Assert.Equal(Path.Combine(dir.Root, "a", "z.yml"), m.Services[1].SourceFile);
    }

    [Fact]
    public void Same_name_in_different_namespaces_or_kinds_is_not_a_duplicate()
    {
        var m = LoadText("""
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: a}
            spec: {ports: [{port: 80}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: b}
            spec: {ports: [{port: 80}]}
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: web, namespace: a}
            """);
        Assert.Equal(2, m.Services.Count);
        Assert.Single(m.Endpoints);
    }
}
