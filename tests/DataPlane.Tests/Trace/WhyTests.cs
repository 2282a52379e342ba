using DataPlane.Pipeline;

namespace DataPlane.Tests.Trace;

/// <summary>
/// The explanation for each item of the seeds' troubleshooting checklists that a packet can show: no usable backend
/// (traffic policy, readiness), the wrong port, a selector that matches no pod, a selectorless service whose slice or
/// Endpoints object is misnamed, ping to a ClusterIP, headless and ExternalName names, and addresses that are no
/// Service at all.
/// </summary>
public class WhyTests : IClassFixture<WhyWorldFixture>
{
    readonly WhyWorld _w;

    public WhyTests(WhyWorldFixture f) => _w = f.World;

    [Fact]
    public void No_usable_backend_walks_service_slices_conditions_nodes_and_policy()
    {
        var (_, v, why) = _w.Trace("tcp", WhyWorld.External, "192.168.0.2", 30080);
        Assert.Equal(Verdict.Drop, v);
        Assert.Equal("192.168.0.2:30080/TCP is default/web's NodePort (port 80/TCP → targetPort 8080, nodePort 30080); " +
            "default/web: 3 endpoints, 2 on node-2 (externalTrafficPolicy Local: not usable here), 1 not ready → no backend → drop", why);
    }

    [Fact]
    public void The_cluster_ip_of_the_same_service_uses_the_cluster_policy_and_forwards()
    {
        var (_, v, why) = _w.Trace("tcp", WhyWorld.PodClient, "10.96.0.10", 80);
        Assert.Equal(Verdict.Forward, v);
        Assert.StartsWith("10.96.0.10:80/TCP is default/web's ClusterIP (port 80/TCP → targetPort 8080, nodePort 30080) → 2 usable endpoint(s) → backend 10.0.2.", why);
        Assert.EndsWith(":8080, client address kept → forward", why);
    }

    [Fact]
    public void A_service_address_on_the_wrong_port_names_the_ports_it_has()
    {
        var (_, v, why) = _w.Trace("tcp", WhyWorld.PodClient, "10.96.0.10", 8080);
        Assert.Equal(Verdict.Pass, v);
        Assert.StartsWith("10.96.0.10 is default/web's ClusterIP, but 8080/TCP is not one of its ports (80/TCP → targetPort 8080, nodePort 30080); " +
            "no kube-proxy rule matches it (iptables mode)", why);
        // The right port, the wrong protocol.
        Assert.StartsWith("10.96.0.10 is default/web's ClusterIP, but 80/UDP is not one of its ports", _w.Trace("udp", WhyWorld.PodClient, "10.96.0.10", 80).Why);
    }

    [Fact]
    public void A_selector_that_matches_no_pod_says_what_the_pods_are_labelled()
    {
        var (_, v, why) = _w.Trace("tcp", WhyWorld.PodClient, "10.96.0.20", 80);
        Assert.Equal(Verdict.Reject, v);
        Assert.Contains("default/lonely: 0 endpoints, because its selector app=lonely matches no pod in namespace default (pods there have app=lonley, app=web)", why);
        Assert.EndsWith("→ no backend → reject (ICMP port unreachable, as kube-proxy answers a service with no endpoints)", why);
    }

    [Fact]
    public void A_selectorless_service_names_the_orphan_slice_and_the_misnamed_endpoints()
    {
        var (_, v, why) = _w.Trace("tcp", WhyWorld.PodClient, "10.96.0.30", 80);
        Assert.Equal(Verdict.Reject, v);
        Assert.Contains("default/manual: 0 endpoints, because it has no selector, so its endpoints must be written by hand: an EndpointSlice labelled " +
            "kubernetes.io/service-name=manual or an Endpoints object named manual in default, and there is none " +
            "(Endpoints default/manual-eps exist, but an Endpoints object must have the Service's name)", why);
        Assert.Contains("; EndpointSlice default/manual-xyz names service 'manul', which does not exist (an orphan kube-proxy ignores)", why);
    }

    [Fact]
    public void An_address_in_an_orphan_slice_is_explained_as_such()
    {
        var (_, v, why) = _w.Trace("tcp", WhyWorld.PodClient, "10.0.1.50", 80);
        Assert.Equal(Verdict.Pass, v);
        Assert.StartsWith("10.0.1.50 is an endpoint in EndpointSlice default/manual-xyz, an orphan: its kubernetes.io/service-name 'manul' names no Service in default, so kube-proxy ignores it", why);
    }

    [Fact]
    public void Ping_to_a_cluster_ip_says_what_each_proxy_mode_does()
    {
        var (log, v, why) = _w.Trace("icmp", WhyWorld.PodClient, "10.96.0.10", 0);
        Assert.Equal(Verdict.Pass, v);
        Assert.Equal([PipelineStage.Parse, PipelineStage.Icmp, PipelineStage.Verdict], log.Select(r => r.Stage));
        Assert.StartsWith("an ICMP echo (ping) to 10.96.0.10, default/web's ClusterIP: a cluster IP is virtual, only its ports (80/TCP → targetPort 8080, nodePort 30080) are translated", why);
        Assert.Contains("nothing answers a ping in iptables mode", why);
        Assert.Contains("nftables mode rejects it", why);
        Assert.Contains("only ipvs mode, which binds cluster IPs to kube-ipvs0, makes the node itself answer", why);
        Assert.Contains("This cluster runs kube-proxy iptables mode", why);
    }

    [Fact]
    public void Ping_to_a_pod_is_not_a_service_matter()
    {
        var (_, v, why) = _w.Trace("icmp", WhyWorld.PodClient, "10.0.1.9", 0);
        Assert.Equal(Verdict.Pass, v);
        Assert.Equal("an ICMP echo (ping): ICMP is not load-balanced; 10.0.1.9 is pod default/lonley-1's IP (on node-1): pod traffic goes to the pod directly, " +
            "no Service translation → pass (left to the host stack untranslated)", why);
    }

    [Fact]
    public void Headless_names_go_to_a_ready_endpoint_and_external_names_have_no_address_to_trace()
    {
        // A headless name is what cluster DNS answers: the ready endpoints, one of which the client connects to.
        Assert.Equal(0x0A000201u, _w.Explainer.Resolve("nginx", out string headless));
        Assert.Equal("default/nginx is headless (clusterIP: None): no virtual IP and no proxy rule; its DNS name returns the ready endpoints' addresses " +
            "(10.0.2.1), and a client connects to one directly: 10.0.2.1", headless);
        Assert.Null(_w.Explainer.Resolve("ext.default.svc.cluster.local", out string ext));
        Assert.Equal("default/ext is an ExternalName service: cluster DNS answers its name with a CNAME to example.com; it has no cluster IP and no proxy rule, " +
            "so there is no address to trace (trace example.com's own address instead)", ext);
        Assert.Equal(0x0A60000Au, _w.Explainer.Resolve("default/web", out string web));
        Assert.Equal("default/web is default/web, ClusterIP 10.96.0.10", web);
        Assert.Null(_w.Explainer.Resolve("wbe", out string missing));
        Assert.Equal("no Service default/wbe in the manifests", missing);
    }

    [Fact]
    public void A_headless_service_s_pod_address_is_reached_directly()
    {
        var (_, v, why) = _w.Trace("tcp", WhyWorld.PodClient, "10.0.2.1", 8080);
        Assert.Equal(Verdict.Pass, v);
        Assert.StartsWith("10.0.2.1 is pod default/web-0's IP (on node-2): pod traffic goes to the pod directly, no Service translation; it is an endpoint of " +
            "default/web (reach it through 10.96.0.10), headless service default/nginx (no cluster IP: clients reach its pods by their addresses, which DNS returns)", why);
    }

    [Theory]
    [InlineData("192.168.0.3", 31000, "192.168.0.3 is node node-2's address and no Service has nodePort 31000/TCP (NodePorts: default/web 30080/TCP): the packet is for the node itself, not a Service → pass")]
    [InlineData("192.168.0.2", 22, "192.168.0.2 is node node-1's address and no Service has a NodePort 22/TCP: the packet is for the node itself, not a Service → pass (left to the host stack untranslated); 22/TCP is served on the node (--host-ports)")]
    [InlineData("10.96.5.5", 80, "10.96.5.5 is inside the service CIDR 10.96.0.0/12 but no Service has it as its ClusterIP; not a Service packet → pass")]
    [InlineData("10.0.2.77", 80, "10.0.2.77 is inside node node-2's pod CIDR 10.0.2.0/24 but no pod in the manifests has it; not a Service packet → pass")]
    [InlineData("8.8.8.8", 53, "8.8.8.8 is not an address the cluster knows (no Service, Pod, endpoint or Node has it); not a Service packet → pass")]
    public void A_packet_to_no_service_names_the_nearest_thing(string dst, ushort port, string expected)
    {
        var (_, v, why) = _w.Trace("tcp", WhyWorld.PodClient, dst, port);
        Assert.Equal(Verdict.Pass, v);
        Assert.StartsWith(expected, why);
    }

    [Fact]
    public void An_existing_connection_is_explained_by_its_conntrack_entry()
    {
        var p = new PacketPipeline(new DataPlane.Maps.MapSetHolder(_w.Maps), new PipelineOptions { Seed = 1, CtCapacity = 16 }) { Log = new StageLog() };
        var first = _w.Run(p, "tcp", WhyWorld.PodClient, 40000, "10.96.0.10", 80);
        var be = first.Log.Single(r => r.Stage == PipelineStage.BackendSelect).Backend;
        string backend = DataPlane.Packets.Ip4.Format(be.Address, be.Port);
        // The backend's SYN-ACK: a reply-direction hit.
        var (log, v, why) = _w.Run(p, "tcp", DataPlane.Packets.Ip4.Format(be.Address), be.Port, WhyWorld.PodClient, 40000,
            DataPlane.Packets.L4.TcpSyn | DataPlane.Packets.L4.TcpAck);
        Assert.Equal(Verdict.Forward, v);
        Assert.Equal($"packet of an existing connection (conntrack hit, flow {log[1].FlowId}, reply direction): translated as its first packet was " +
            $"(10.0.1.5:40000 -> 10.96.0.10:80 ⇄ {backend} -> 10.0.1.5:40000); the Service and its endpoints are not consulted again", why);
        Assert.Equal([PipelineStage.Parse, PipelineStage.Conntrack, PipelineStage.Ttl, PipelineStage.Nat, PipelineStage.Verdict], log.Select(r => r.Stage));
    }

    [Fact]
    public void Nftables_mode_rejects_a_wrong_port_and_drops_an_unallocated_service_address()
    {
        using var w = new WhyWorld(WhyWorld.Yaml.Replace("clusterCIDR: 10.0.0.0/8", "clusterCIDR: 10.0.0.0/8\nmode: nftables"));
        var (log, v, why) = w.Trace("tcp", WhyWorld.PodClient, "10.96.0.10", 8080);
        Assert.Equal(Verdict.Reject, v);
        Assert.Equal("10.96.0.10 is default/web's ClusterIP, but 8080/TCP is not one of its ports (80/TCP → targetPort 8080, nodePort 30080); " +
            "kube-proxy (nftables) rejects traffic to a cluster IP's other ports → reject (ICMP port unreachable)", why);
        Assert.Equal(("service", "no frontend for 10.96.0.10:8080/tcp: the catch-all of cluster IP 10.96.0.10 (nftables), for ports it does not serve"),
            DataPlane.IO.Text.TraceText.Lines(log, w.Maps)[2]);
        var (_, dv, dwhy) = w.Trace("tcp", WhyWorld.PodClient, "10.96.5.5", 80);
        Assert.Equal(Verdict.Drop, dv);
        Assert.Equal("10.96.5.5 is inside the service CIDR 10.96.0.0/12 but no Service has it as its ClusterIP; kube-proxy (nftables) drops traffic to service addresses no Service has → drop (service-ip-unallocated)", dwhy);
    }

    [Fact]
    public void Internal_traffic_policy_local_names_the_internal_policy()
    {
        using var w = new WhyWorld(WhyWorld.Yaml.Replace("externalTrafficPolicy: Local", "internalTrafficPolicy: Local"));
        var (_, v, why) = w.Trace("tcp", WhyWorld.PodClient, "10.96.0.10", 80);
        Assert.Equal(Verdict.Drop, v);
        Assert.EndsWith("default/web: 3 endpoints, 2 on node-2 (internalTrafficPolicy Local: not usable here), 1 not ready → no backend → drop", why);
    }
}

public sealed class WhyWorldFixture : IDisposable
{
    public WhyWorld World { get; } = new();

    public void Dispose() => World.Dispose();
}
