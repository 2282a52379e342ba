using DataPlane.Kubernetes.Compiler;
using DataPlane.FixtureBuilder;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Kubernetes;

/// <summary>
/// Configuration changes under live traffic: stable ids across generations, kubectl-apply semantics, the last good
/// state kept on error, and kube-proxy's UDP conntrack cleanup (keep TCP, clear UDP to endpoints that stopped serving).
/// </summary>
public class ControlPlaneUpdateTests
{
    /// <summary>
    /// Cluster DNS proxied to CoreDNS (<c>--dns proxy</c>): with the emulated kube-dns answering (auto, no CoreDNS pods) every
    /// endpoint change would also change the DNS zone the data plane answers from, and take the full compile.
    /// </summary>
    static readonly CompileOptions ProxiedDns = new() { Dns = new DnsOptions { Mode = DataPlane.Dns.DnsMode.Proxy } };

    const string Base = TestManifests.Node1 + """
        apiVersion: v1
        kind: Service
        metadata: {name: m, namespace: default}
        spec:
          clusterIP: 10.96.0.120
          ports:
          - {name: u, port: 8125, protocol: UDP}
          - {name: t, port: 8126, protocol: TCP}
        """;

    static string Slice(params string[] addresses) =>
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n" +
        "metadata:\n  name: m-1\n  namespace: default\n  labels:\n    kubernetes.io/service-name: m\n" +
        "addressType: IPv4\nports:\n- {name: u, port: 8125, protocol: UDP}\n- {name: t, port: 8126, protocol: TCP}\n" +
        "endpoints:" + (addresses.Length == 0 ? " []\n" : "\n" + string.Concat(addresses.Select(a => $"- addresses: [\"{a}\"]\n  nodeName: node-2\n")));

    const string C = "10.244.1.5", Vip = "10.96.0.120", X = "10.244.2.31", Y = "10.244.2.32";

    static byte[] Udp(ushort port) => Frames.UdpFrame(C, port, Vip, 8125, [1, 2, 3]);
    static byte[] Tcp(ushort port, Frames.Tcp f) => Frames.TcpFrame(C, port, Vip, 8126, f, 1, 1);
    static string Dst(byte[] output) => Ip4.Format(new Ipv4Header(output.AsSpan(14)).Dst);

    [Fact]
    public void Service_and_backend_ids_survive_a_reload_that_adds_objects_before_them()
    {
        using var dir = new ManifestDirectory();
        dir.Write("base.yaml", Base + "\n---\n" + Slice(X));
        var cp = new ControlPlane(dir.Root, "node-1", ProxiedDns);
        MapSet g1 = cp.Holder.Current;
        ushort id = g1.Services.Lookup(new Lb4Key(Ip4.Parse(Vip), 8125, IpProto.Udp)).RevNatIndex;
        uint backend = g1.BackendSlots[g1.Services.Lookup(new Lb4Key(Ip4.Parse(Vip), 8125, IpProto.Udp)).SlotOffset];

        // A service whose name sorts first, with its own endpoint: a per-generation numbering would shift both ids.
        string early = dir.Write("early.yaml", """
            apiVersion: v1
            kind: Service
            metadata: {name: a, namespace: aaa}
            spec: {clusterIP: 10.96.0.5, ports: [{port: 53, protocol: UDP}]}
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: a, namespace: aaa}
            subsets: [{addresses: [{ip: 10.244.2.99}], ports: [{port: 53, protocol: UDP}]}]
            """);
        MapSet g2 = cp.Apply(early);
        Assert.Equal(2, g2.Generation);
        ref Lb4Service svc = ref g2.Frontend(new Lb4Key(Ip4.Parse(Vip), 8125, IpProto.Udp));
        Assert.Equal(id, svc.RevNatIndex);
        Assert.Equal(backend, g2.Slot(svc.SlotOffset));
        Assert.Equal("default/m:u", g2.ServiceName(id));
        Assert.NotEqual(id, g2.Services.Lookup(new Lb4Key(Ip4.Parse("10.96.0.5"), 53, IpProto.Udp)).RevNatIndex);
    }

    [Fact]
    public void A_failed_apply_keeps_the_last_good_state_and_the_next_apply_builds_on_it()
    {
        using var dir = new ManifestDirectory();
        dir.Write("base.yaml", Base + "\n---\n" + Slice(X));
        var cp = new ControlPlane(dir.Root, "node-1", ProxiedDns);
        string bad = dir.Write("../bad-" + Guid.NewGuid().ToString("N") + ".yaml", Slice(Y).Replace("addressType: IPv4", "addressType: 7"));
        Assert.Throws<ManifestException>(() => cp.Apply(bad));
        Assert.Equal(1, cp.Holder.Current.Generation);
        string good = dir.Write("../good-" + Guid.NewGuid().ToString("N") + ".yaml", Slice(Y));
        MapSet g = cp.Apply(good);
        Assert.Equal(2, g.Generation);
        Assert.NotNull(g.Delta); // an EndpointSlice change: published incrementally
        ref Lb4Service svc = ref g.Frontend(new Lb4Key(Ip4.Parse(Vip), 8126, IpProto.Tcp));
        Assert.Equal(1, svc.Count);
        Assert.Equal(Ip4.Parse(Y), g.Backend(g.Slot(svc.SlotOffset)).Address);
        File.Delete(bad);
        File.Delete(good);
    }

    [Fact]
    public void Replacing_an_endpoint_clears_udp_connections_to_it_and_keeps_tcp_ones()
    {
        using var dir = new ManifestDirectory();
        dir.Write("base.yaml", Base + "\n---\n" + Slice(X));
        var cp = new ControlPlane(dir.Root, "node-1", ProxiedDns);
        var p = new PacketPipeline(cp.Holder, new PipelineOptions { CtCapacity = 64 });
        Assert.Equal(X, Dst(TestWorld.Run(p, Udp(41000)).Out));
        Assert.Equal(X, Dst(TestWorld.Run(p, Tcp(41001, Frames.Tcp.Syn)).Out));
        // The backend answers, so the connection is established (an ACK in SYN_SENT would be INVALID).
        Assert.Equal(Verdict.Forward, TestWorld.Run(p, Frames.TcpFrame(X, 8126, C, 41001, Frames.Tcp.Syn | Frames.Tcp.Ack, 5, 2)).V);
        Assert.Equal(2, p.Conntrack.Count);

        string after = dir.Write("../after-" + Guid.NewGuid().ToString("N") + ".yaml", Slice(Y));
        cp.Apply(after);
        File.Delete(after);
        // No sweep has run yet: the UDP connection's next datagram is checked on lookup and balanced again.
        Assert.Equal(Y, Dst(TestWorld.Run(p, Udp(41000)).Out));
        Assert.Equal(X, Dst(TestWorld.Run(p, Tcp(41001, Frames.Tcp.Ack)).Out));
        Assert.Equal(Y, Dst(TestWorld.Run(p, Tcp(41002, Frames.Tcp.Syn)).Out));
        Assert.Equal(3, p.Conntrack.Count);
    }

    [Fact]
    public void The_incremental_sweep_removes_idle_udp_connections_to_a_removed_endpoint()
    {
        using var dir = new ManifestDirectory();
        dir.Write("base.yaml", Base + "\n---\n" + Slice(X));
        var cp = new ControlPlane(dir.Root, "node-1", ProxiedDns);
        var p = new PacketPipeline(cp.Holder, new PipelineOptions { CtCapacity = 64 });
        for (ushort port = 41000; port < 41010; port++) TestWorld.Run(p, Udp(port));
        TestWorld.Run(p, Tcp(42000, Frames.Tcp.Syn));
        Assert.Equal(11, p.Conntrack.Count);
        string after = dir.Write("../after-" + Guid.NewGuid().ToString("N") + ".yaml", Slice(Y));
        cp.Apply(after);
        File.Delete(after);
        // Unrelated traffic drives the sweep (16 slots every 16th packet): 64 slots are covered within 64 packets.
        byte[] other = Frames.UdpFrame("10.244.1.5", 1, "10.244.2.200", 9, [0]);
        for (int i = 0; i < 64; i++) Assert.Equal(Verdict.Pass, TestWorld.Run(p, other).V);
        Assert.Equal(1, p.Conntrack.Count); // the TCP connection
    }

    [Fact]
    public void A_service_left_without_serving_endpoints_keeps_its_udp_connections()
    {
        using var dir = new ManifestDirectory();
        dir.Write("base.yaml", Base + "\n---\n" + Slice(X));
        var cp = new ControlPlane(dir.Root, "node-1", ProxiedDns);
        var p = new PacketPipeline(cp.Holder, new PipelineOptions { CtCapacity = 64 });
        TestWorld.Run(p, Udp(41000));
        string none = dir.Write("../none-" + Guid.NewGuid().ToString("N") + ".yaml", Slice());
        cp.Apply(none);
        File.Delete(none);
        Assert.Equal(0, p.ReconcileAll());
        Assert.Equal(X, Dst(TestWorld.Run(p, Udp(41000)).Out));           // nothing better to send it to
        Assert.Equal(Verdict.Reject, TestWorld.Run(p, Udp(41001)).V);     // but new flows are rejected
    }

    [Fact]
    public void Id_registry_reuses_a_freed_id_only_after_the_counter_runs_out()
    {
        var ids = new IdRegistry(maxServicePortId: 3);
        ushort a = ids.ServicePort("a"), b = ids.ServicePort("b");
        ids.Commit();
        Assert.Equal(a, ids.ServicePort("a"));               // b not used in this generation: freed
        ids.Commit();
        ushort c = ids.ServicePort("c");
        Assert.NotEqual(b, c);                                // the counter still has ids: b is not reused yet
        Assert.Equal(a, ids.ServicePort("a"));
        ids.Commit();
        ids.ServicePort("a"); ids.ServicePort("c");
        Assert.Equal(b, ids.ServicePort("d"));               // counter exhausted (3 ids): the oldest freed id
        ids.Abandon();                                        // a failed compile frees nothing it touched
        Assert.Equal(b, ids.ServicePort("d"));
    }
}
