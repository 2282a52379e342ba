using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Packets;

namespace DataPlane.Tests.Kubernetes;

/// <summary>
/// The API server's side of service addresses: validation of written cluster IPs and node ports (every error names
/// file, object and field) and deterministic allocation of the missing ones.
/// </summary>
public class AllocatorTests
{
    static uint IP(string text) => Ip4.TryParse(text, out uint ip) ? ip : throw new ArgumentException(text);

    static (ClusterManifests M, string File) Load(string yaml)
    {
        using var dir = new ManifestDirectory();
        string file = dir.Write("services.yaml", yaml);
        return (ManifestLoader.Load(dir.Root), file);
    }

    static string Svc(string name, string spec, string ns = "default") => $$"""
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: {{name}}, namespace: {{ns}}}
        spec: {{spec}}

        """;

    static ManifestException Fails(string yaml, int min = 30000, int max = 32767)
    {
        var (m, file) = Load(yaml);
        var e = Assert.Throws<ManifestException>(() => new Allocator(m, min, max));
        Assert.Equal(file, e.FilePath);
        Assert.StartsWith($"{file}: {e.ObjectRef}: {e.FieldPath}: ", e.Message);
        return e;
    }

    // ---- validation

    [Fact]
    public void Duplicate_clusterIP_names_both_services()
    {
        var e = Fails(Svc("a", "{clusterIP: 10.96.0.10, ports: [{port: 80}]}") + Svc("b", "{clusterIP: 10.96.0.10, ports: [{port: 80}]}", ns: "other"));
        Assert.Equal("Service other/b", e.ObjectRef);
        Assert.Equal("spec.clusterIP", e.FieldPath);
        Assert.StartsWith("10.96.0.10 is already allocated to Service default/a (", e.Problem);
        Assert.Contains("services.yaml", e.Problem);
    }

    [Theory]
    [InlineData("172.30.0.1")]
    [InlineData("10.96.0.0")]     // the network address of 10.96.0.0/12
    [InlineData("10.111.255.255")] // its broadcast address
    public void ClusterIP_outside_the_service_CIDRs_is_taken_as_given(string ip)
    {
        // A dump's cluster IPs come from its own API server's range (k3s, GKE...): taken as already validated.
        var (m, _) = Load(Svc("web", $"{{clusterIP: {ip}, ports: [{{port: 80}}]}}"));
        Assert.Equal(IP(ip), new Allocator(m).ClusterIp(m.Services[0]));
    }

    [Fact]
    public void A_ServiceCIDR_makes_its_range_valid()
    {
        var (m, _) = Load("""
            apiVersion: networking.k8s.io/v1
            kind: ServiceCIDR
            metadata: {name: main}
            spec: {cidrs: [172.30.0.0/16]}

            """ + Svc("web", "{clusterIP: 172.30.0.41, ports: [{port: 80}]}"));
        Assert.Equal(IP("172.30.0.41"), new Allocator(m).ClusterIp(m.Services[0]));

        // Missing cluster IPs come from the ServiceCIDR; a written one outside it is still taken as given.
        (m, _) = Load("""
            apiVersion: networking.k8s.io/v1
            kind: ServiceCIDR
            metadata: {name: main}
            spec: {cidrs: [172.30.0.0/16]}

            """ + Svc("web", "{clusterIP: 10.96.0.10, ports: [{port: 80}]}") + Svc("api", "{ports: [{port: 80}]}"));
        var a = new Allocator(m);
        Assert.Equal(IP("10.96.0.10"), a.ClusterIp(m.Services[0]));
        Assert.Equal(IP("172.30.0.2"), a.ClusterIp(m.Services[1])); // .1 is default/kubernetes's
    }

    [Theory]
    [InlineData(29999)]
    [InlineData(32768)]
    public void NodePort_outside_the_range_is_taken_as_given(int port)
    {
        // The cluster the manifests come from may run another --service-node-port-range.
        var (m, _) = Load(Svc("web", $"{{type: NodePort, ports: [{{name: a, port: 80}}, {{name: b, port: 81, nodePort: {port}}}]}}"));
        var a = new Allocator(m);
        Assert.Equal(port, a.NodePortOrNull(m.Services[0], 1));
        Assert.Equal(30000, a.NodePortOrNull(m.Services[0], 0));
    }

    [Fact]
    public void The_node_port_range_is_configurable()
    {
        var (m, _) = Load(Svc("web", "{type: NodePort, ports: [{name: a, port: 80, nodePort: 20000}, {name: b, port: 81}]}"));
        var a = new Allocator(m, 20000, 20100);
        Assert.Equal(20000, a.NodePortOrNull(m.Services[0], 0));
        Assert.Equal(20001, a.NodePortOrNull(m.Services[0], 1));

        (m, _) = Load(Svc("web", "{type: NodePort, ports: [{port: 80, nodePort: 30000}]}"));
        Assert.Equal(30000, new Allocator(m, 20000, 20100).NodePortOrNull(m.Services[0], 0));
    }

    [Theory]
    [InlineData("TCP")]
    [InlineData("UDP")] // one allocator for every protocol: a UDP node port still collides with a TCP one
    public void The_same_nodePort_on_two_services_is_rejected(string protocol)
    {
        var e = Fails(Svc("a", "{type: NodePort, ports: [{port: 80, nodePort: 30080}]}")
            + Svc("b", $"{{type: LoadBalancer, ports: [{{port: 80, nodePort: 30080, protocol: {protocol}}}]}}"));
        Assert.Equal("Service default/b", e.ObjectRef);
        Assert.Equal("spec.ports[0].nodePort", e.FieldPath);
        Assert.StartsWith("node port 30080 is already allocated to Service default/a (", e.Problem);
        Assert.EndsWith("spec.ports[0].nodePort (node ports are unique across services and protocols)", e.Problem);
    }

    [Fact]
    public void The_same_port_number_on_two_protocols_shares_one_node_port()
    {
        // DNS style: 53/TCP and 53/UDP may name the same node port (initNodePorts keys by port number) ...
        var (m, _) = Load(Svc("dns", "{type: NodePort, ports: [{name: tcp, port: 53, nodePort: 30053}, {name: udp, port: 53, protocol: UDP, nodePort: 30053}]}"));
        var a = new Allocator(m);
        Assert.Equal(30053, a.NodePortOrNull(m.Services[0], 1));

        // ... but two different port numbers may not.
        var e = Fails(Svc("dns", "{type: NodePort, ports: [{name: tcp, port: 53, nodePort: 30053}, {name: udp, port: 54, protocol: UDP, nodePort: 30053}]}"));
        Assert.Equal("spec.ports[1].nodePort", e.FieldPath);
        Assert.StartsWith("node port 30053 is already allocated to this service's spec.ports[0].nodePort", e.Problem);
    }

    [Fact]
    public void HealthCheckNodePort_colliding_with_a_nodePort_is_rejected()
    {
        var same = Fails(Svc("lb", "{type: LoadBalancer, externalTrafficPolicy: Local, healthCheckNodePort: 30080, ports: [{port: 80, nodePort: 30080}]}"));
        Assert.Equal("Service default/lb", same.ObjectRef);
        Assert.Equal("spec.healthCheckNodePort", same.FieldPath);
        Assert.StartsWith("node port 30080 is already allocated to this service's spec.ports[0].nodePort", same.Problem);

        var other = Fails(Svc("np", "{type: NodePort, ports: [{port: 80, nodePort: 30080}]}")
            + Svc("lb", "{type: LoadBalancer, externalTrafficPolicy: Local, healthCheckNodePort: 30080, ports: [{port: 80}]}"));
        Assert.Equal("Service default/lb", other.ObjectRef);
        Assert.Equal("spec.healthCheckNodePort", other.FieldPath);
        Assert.StartsWith("node port 30080 is already allocated to Service default/np (", other.Problem);

        // The nodePort coming second is the one reported.
        var later = Fails(Svc("lb", "{type: LoadBalancer, externalTrafficPolicy: Local, healthCheckNodePort: 30080, ports: [{port: 80}]}")
            + Svc("np", "{type: NodePort, ports: [{port: 80, nodePort: 30080}]}"));
        Assert.Equal("Service default/np", later.ObjectRef);
        Assert.EndsWith("spec.healthCheckNodePort (node ports are unique across services and protocols)", later.Problem);
    }

    [Fact]
    public void HealthCheckNodePort_on_the_wrong_service_is_rejected_but_its_range_is_not_checked()
    {
        var (m, _) = Load(Svc("lb", "{type: LoadBalancer, externalTrafficPolicy: Local, healthCheckNodePort: 10256, ports: [{port: 80}]}"));
        Assert.Equal(10256, new Allocator(m).HealthCheckNodePort(m.Services[0]));

        var cluster = Fails(Svc("lb", "{type: LoadBalancer, healthCheckNodePort: 30100, ports: [{port: 80}]}"));
        Assert.Equal("spec.healthCheckNodePort", cluster.FieldPath);
        Assert.Equal("may only be set when spec.type is LoadBalancer and spec.externalTrafficPolicy is Local", cluster.Problem);
    }

    [Fact]
    public void Exhausted_ranges_name_the_service_and_field()
    {
        var ip = Fails("""
            apiVersion: networking.k8s.io/v1
            kind: ServiceCIDR
            metadata: {name: tiny}
            spec: {cidrs: [10.0.0.0/30]}

            """ + Svc("a", "{ports: [{port: 80}]}") + Svc("b", "{ports: [{port: 80}]}") + Svc("c", "{ports: [{port: 80}]}"));
        Assert.Equal("Service default/b", ip.ObjectRef); // a /30 has two usable addresses and the first is default/kubernetes's
        Assert.Equal("spec.clusterIP", ip.FieldPath);
        Assert.Equal("no free address left in the service CIDRs (10.0.0.0/30)", ip.Problem);

        var port = Fails(Svc("a", "{type: NodePort, ports: [{name: a, port: 80}, {name: b, port: 81}, {name: c, port: 82}]}", ns: "x"), 30000, 30001);
        Assert.Equal("Service x/a", port.ObjectRef);
        Assert.Equal("spec.ports[2].nodePort", port.FieldPath);
        Assert.Equal("no free node port left in 30000-30001", port.Problem);
    }

    // ---- allocation

    [Fact]
    public void Allocation_takes_the_lowest_free_values_in_manifest_order_after_written_ones()
    {
        var (m, _) = Load(
            Svc("a", "{type: NodePort, ports: [{name: x, port: 80}, {name: z, port: 81, nodePort: 30001}]}")
            + Svc("b", "{clusterIP: 10.96.0.1, type: LoadBalancer, externalTrafficPolicy: Local, ports: [{port: 80}]}")
            + Svc("c", "{type: NodePort, ports: [{port: 80, nodePort: 30000}]}")
            + Svc("d", "{type: NodePort, ports: [{port: 80}]}")
            + Svc("headless", "{clusterIP: None, ports: [{port: 80}]}")
            + Svc("ext", "{type: ExternalName, externalName: example.com}"));
        var al = new Allocator(m);
        Service S(string n) => m.Services.Single(s => s.Name == n);

        Assert.Equal(IP("10.96.0.2"), al.ClusterIp(S("a"))); // .0 is the network address, .1 is written by b
        Assert.Equal(IP("10.96.0.1"), al.ClusterIp(S("b")));
        Assert.Equal(IP("10.96.0.3"), al.ClusterIp(S("c")));
        Assert.Equal(IP("10.96.0.4"), al.ClusterIp(S("d")));
        Assert.Throws<InvalidOperationException>(() => al.ClusterIp(S("headless")));
        Assert.Throws<InvalidOperationException>(() => al.ClusterIp(S("ext")));

        Assert.Equal(30002, al.NodePortOrNull(S("a"), 0)); // 30000 and 30001 are written
        Assert.Equal(30001, al.NodePortOrNull(S("a"), 1));
        Assert.Equal(30003, al.NodePortOrNull(S("b"), 0));
        Assert.Equal(30004, al.HealthCheckNodePort(S("b"))); // after the service's node ports
        Assert.Equal(30000, al.NodePortOrNull(S("c"), 0));
        Assert.Equal(30005, al.NodePortOrNull(S("d"), 0));
        Assert.Null(al.HealthCheckNodePort(S("a")));
        Assert.Null(al.NodePortOrNull(S("headless"), 0));

        // Asking again, or in another order, changes nothing.
        var again = new Allocator(m);
        Assert.Equal(30005, again.NodePortOrNull(S("d"), 0));
        Assert.Equal(IP("10.96.0.4"), again.ClusterIp(S("d")));
        Assert.Equal(30002, again.NodePort(S("a"), 0));
    }

    [Fact]
    public void Ports_with_the_same_number_get_the_same_allocated_node_port()
    {
        var (m, _) = Load(Svc("dns", "{type: NodePort, ports: [{name: dns-tcp, port: 53}, {name: dns, port: 53, protocol: UDP}, {name: metrics, port: 9153}]}"));
        var al = new Allocator(m);
        Assert.Equal([30000, 30000, 30001], Enumerable.Range(0, 3).Select(i => al.NodePortOrNull(m.Services[0], i)));
    }

    [Fact]
    public void LoadBalancer_without_node_port_allocation_gets_only_written_node_ports()
    {
        var (m, _) = Load(Svc("lb", """
            {type: LoadBalancer, allocateLoadBalancerNodePorts: false, externalTrafficPolicy: Local,
             ports: [{name: a, port: 80}, {name: b, port: 81, nodePort: 30081}]}
            """) + Svc("np", "{type: NodePort, ports: [{port: 80}]}"));
        var al = new Allocator(m);
        Assert.Null(al.NodePortOrNull(m.Services[0], 0));
        Assert.Equal(0, al.NodePort(m.Services[0], 0));
        Assert.Equal(30081, al.NodePortOrNull(m.Services[0], 1));
        Assert.Equal(30000, al.HealthCheckNodePort(m.Services[0])); // the health check port is still allocated
        Assert.Equal(30001, al.NodePortOrNull(m.Services[1], 0));
    }

    [Fact]
    public void Written_healthCheckNodePort_is_kept()
    {
        var (m, _) = Load(Svc("lb", "{type: LoadBalancer, externalTrafficPolicy: Local, healthCheckNodePort: 32000, ports: [{port: 80}]}"));
        var al = new Allocator(m);
        Assert.Equal(32000, al.HealthCheckNodePort(m.Services[0]));
        Assert.Equal(30000, al.NodePortOrNull(m.Services[0], 0));
    }

    // ---- --service-node-port-range

    [Theory]
    [InlineData("30000-32767", 30000, 32767)]
    [InlineData(" 20000-20100 ", 20000, 20100)]
    [InlineData("1-65535", 1, 65535)]
    [InlineData("30000", 30000, 30000)]
    [InlineData("30000+100", 30000, 30100)]
    public void Range_flag_parses(string text, int min, int max)
    {
        Assert.True(Allocator.TryParseRange(text, out int a, out int b));
        Assert.Equal((min, max), (a, b));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("30000-")]
    [InlineData("-30000")]
    [InlineData("32767-30000")]
    [InlineData("0-100")]
    [InlineData("30000-70000")]
    [InlineData("30000-31000-32000")]
    [InlineData("30000+40000")]
    [InlineData("30000+-1")]
    [InlineData("+30000-1")]
    public void Range_flag_rejects(string? text)
    {
        Assert.False(Allocator.TryParseRange(text, out _, out _));
    }

    [Fact]
    public void The_first_service_address_is_kept_for_default_kubernetes()
    {
        // kube-apiserver gives default/kubernetes the range's first address; no other service is ever given it, and
        // default/kubernetes gets it even when it comes later in the manifests.
        var (m, _) = Load(Svc("web", "{ports: [{port: 80}]}") + Svc("kubernetes", "{ports: [{port: 443}]}"));
        var al = new Allocator(m);
        Assert.Equal(IP("10.96.0.2"), al.ClusterIp(m.Services.Single(s => s.Name == "web")));
        Assert.Equal(IP("10.96.0.1"), al.ClusterIp(m.Services.Single(s => s.Name == "kubernetes")));

        var (alone, _) = Load(Svc("web", "{ports: [{port: 80}]}"));
        Assert.Equal(IP("10.96.0.2"), new Allocator(alone).ClusterIp(alone.Services[0]));
    }

    [Fact]
    public void The_cluster_s_own_addresses_are_never_handed_to_another_service()
    {
        // Online Boutique's eleven services, none with a clusterIP: the tenth allocation must skip 10.96.0.10, which every
        // pod's resolv.conf names (kube-dns, kubeadm's GetDNSIP), and .1 (default/kubernetes).
        string yaml = string.Concat(Enumerable.Range(1, 11).Select(i => Svc($"svc{i}", "{selector: {app: a}, ports: [{port: 80}]}")));
        var (m, _) = Load(yaml);
        var c = DataPlane.Kubernetes.Resolved.ResolvedCluster.Resolve(m);
        Assert.Equal(IP("10.96.0.1"), c.ClusterIp(c.Service("default/kubernetes")!));
        Assert.Equal(IP("10.96.0.10"), c.ClusterIp(c.Service("kube-system/kube-dns")!));
        uint[] user = [.. m.Services.Select(s => c.ClusterIp(c.Service(s.Key)!)!.Value)];
        Assert.Equal(11, user.Distinct().Count());
        Assert.DoesNotContain(IP("10.96.0.10"), user);
        Assert.DoesNotContain(IP("10.96.0.1"), user);
        Assert.Equal(IP("10.96.0.13"), user[^1]); // .2-.9, then .11, .12, .13
    }
}
