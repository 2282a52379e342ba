using System.Buffers.Binary;
using DataPlane.Dns;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;
using PacketDotNet;

namespace DataPlane.Tests.Dns;

/// <summary>The DNS stage on the wire: frames, TCP, truncation, compression, and when it answers instead of kube-proxy's DNAT.</summary>
public class DnsStageTests
{
    static readonly DnsWorld World = new();

    static (Verdict, byte[] Out, PacketResult) Send(DnsWorld w, byte[] frame, int len)
    {
        var reply = new byte[1536];
        Verdict v = w.Pipeline.Process(frame.AsSpan(0, len), 1_000_000_000, reply, out PacketResult r);
        return (v, v == Verdict.Answer ? reply[..r.OutLength] : [], r);
    }

    [Fact]
    public void Udp_answer_comes_from_the_dns_address_to_the_client_with_valid_checksums()
    {
        byte[] q = DnsMessage.BuildQuery("web.default.svc.cluster.local", DnsType.A, 9);
        var frame = new byte[128];
        int len = DnsFrames.Udp(frame, DnsWorld.Client, 41000, DnsWorld.DnsIp, q);
        var (v, o, r) = Send(World, frame, len);
        Assert.Equal(Verdict.Answer, v);
        var ip = Oracle.Ip(o);
        Assert.Equal("10.96.0.10", ip.SourceAddress.ToString());
        Assert.Equal("10.244.1.20", ip.DestinationAddress.ToString());
        Assert.Equal(64, ip.TimeToLive);
        var udp = (UdpPacket)ip.PayloadPacket;
        Assert.Equal(53, udp.SourcePort);
        Assert.Equal(41000, udp.DestinationPort);
        Oracle.AssertChecksums(o);
        // MACs swapped: the answer goes back where the query came from.
        Assert.Equal(frame[6..12], o[0..6]);
        Assert.Equal(frame[0..6], o[6..12]);
        Assert.Equal((uint)DnsWorld.DnsIp, r.OutSrcIp);
        Assert.Equal(41000, r.OutDstPort);
        Assert.Equal(1, World.Pipeline.Counters.Verdicts(Verdict.Answer) > 0 ? 1 : 0);
    }

    [Fact]
    public void Answer_owner_names_point_at_the_question()
    {
        var (_, resp, _) = World.SendUdp(DnsMessage.BuildQuery("_web._tcp.nginx.default.svc.cluster.local", DnsType.SRV, 1));
        int qEnd = 12 + DnsName.ToWire("_web._tcp.nginx.default.svc.cluster.local").Length + 4;
        Assert.Equal(new byte[] { 0xC0, 12 }, resp![qEnd..(qEnd + 2)]);
        // Both SRV targets and the additional owners are compressed: far below the uncompressed size.
        int uncompressed = qEnd + 2 * (43 + 10 + 6 + 39) + 2 * (39 + 10 + 4);
        Assert.True(resp.Length < uncompressed - 100, $"{resp.Length} bytes");
    }

    [Fact]
    public void A_query_with_a_bad_udp_checksum_is_dropped_as_the_stack_would()
    {
        var frame = new byte[128];
        int len = DnsFrames.Udp(frame, DnsWorld.Client, 41000, DnsWorld.DnsIp, DnsMessage.BuildQuery("web.default.svc.cluster.local", DnsType.A, 1));
        frame[14 + 20 + 6] ^= 0x55;
        var (v, _, r) = Send(World, frame, len);
        Assert.Equal(Verdict.Drop, v);
        Assert.Equal(DropReason.DnsBadChecksum, r.Reason);
    }

    internal static TempDir BigHeadless(int endpoints)
    {
        var dir = new TempDir("dns");
        string eps = string.Join("\n", Enumerable.Range(1, endpoints).Select(i => $"- {{addresses: [10.244.3.{i}], conditions: {{ready: true}}}}"));
        File.WriteAllText(dir.File("big.yaml"), TestManifests.Node1 +
            "apiVersion: v1\nkind: Service\nmetadata: {name: big, namespace: default}\nspec: {clusterIP: None, ports: [{name: p, port: 80}]}\n---\n" +
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: big-1, namespace: default, labels: {kubernetes.io/service-name: big}}\n" +
            "addressType: IPv4\nports: [{name: p, port: 80, protocol: TCP}]\nendpoints:\n" + eps + "\n");
        return dir;
    }

    [Fact]
    public void Over_512_bytes_without_edns_is_truncated_and_edns_size_lifts_the_limit()
    {
        using TempDir cluster = BigHeadless(60);
        var w = new DnsWorld(new DnsOptions { Mode = DnsMode.Answer }, cluster.Path);
        DnsMessage small = w.Ask("big.default.svc.cluster.local", DnsType.A);
        Assert.True(small.Truncated);
        Assert.InRange(small.Answer.Count, 1, 59);
        DnsMessage big = w.Ask("big.default.svc.cluster.local", DnsType.A, edns: 1232);
        Assert.False(big.Truncated);
        Assert.Equal(60, big.Answer.Count);
        Assert.Equal(1232, big.EdnsUdpSize);
        var (_, resp, _) = w.SendUdp(DnsMessage.BuildQuery("big.default.svc.cluster.local", DnsType.A, 1));
        Assert.True(resp!.Length <= 512);
    }

    [Fact]
    public void A_udp_answer_never_exceeds_one_ethernet_frame_whatever_the_edns_size()
    {
        using TempDir cluster = BigHeadless(120);
        var w = new DnsWorld(new DnsOptions { Mode = DnsMode.Answer }, cluster.Path);
        var (_, resp, r) = w.SendUdp(DnsMessage.BuildQuery("big.default.svc.cluster.local", DnsType.A, 1, ednsUdpSize: 4096));
        Assert.True(r.OutLength <= 14 + 1500, $"{r.OutLength}");
        DnsMessage m = DnsMessage.Decode(resp!)!;
        Assert.True(m.Truncated);
        Assert.InRange(m.Answer.Count, 60, 119);
    }

    [Fact]
    public void Auto_mode_answers_only_while_kube_dns_has_no_endpoints()
    {
        // dns-cluster.yaml: kube-dns without endpoints → answered.
        Assert.Equal(DnsMode.Auto, World.Zone.Mode);
        Assert.Equal(Verdict.Answer, World.SendUdp(DnsMessage.BuildQuery("web.default.svc.cluster.local", DnsType.A, 1)).Verdict);

        // With a CoreDNS endpoint: kube-proxy's DNAT to the pod, as before.
        using var scratch = new TempDir("dns");
        string dir = scratch.Path;
        File.Copy(DnsWorld.ClusterFile, Path.Combine(dir, "a.yaml"));
        File.WriteAllText(Path.Combine(dir, "b.yaml"),
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: kube-dns-1, namespace: kube-system, labels: {kubernetes.io/service-name: kube-dns}}\n" +
            "addressType: IPv4\nports: [{name: dns, port: 53, protocol: UDP}]\nendpoints: [{addresses: [10.244.2.8], conditions: {ready: true}}]\n");
        var withPods = new DnsWorld(cluster: dir);
        var (v, _, r) = withPods.SendUdp(DnsMessage.BuildQuery("web.default.svc.cluster.local", DnsType.A, 1));
        Assert.Equal(Verdict.Forward, v);
        Assert.Equal(0x0AF40208u, r.Backend.Address);

        // --dns answer answers even then; --dns proxy never answers (no endpoints: kube-proxy's REJECT).
        Assert.Equal(Verdict.Answer, new DnsWorld(new DnsOptions { Mode = DnsMode.Answer }, dir).SendUdp(DnsMessage.BuildQuery("web", DnsType.A, 1)).Verdict);
        Assert.Equal(Verdict.Reject, new DnsWorld(new DnsOptions { Mode = DnsMode.Proxy }).SendUdp(DnsMessage.BuildQuery("web", DnsType.A, 1)).Verdict);
    }

    [Fact]
    public void Without_kube_dns_in_the_manifests_the_emulated_kube_dns_is_answered_while_it_has_no_endpoints()
    {
        // Every cluster has kube-system/kube-dns (kubeadm: the range's tenth address); without CoreDNS pods behind it,
        // the data plane answers in its place (auto), at the address every pod's resolv.conf names.
        var bundled = new DnsWorld(cluster: Repo.Cluster);
        Assert.Equal(DnsMode.Auto, bundled.Zone.Mode);
        Assert.Equal(0x0A600002u, bundled.Zone.Address); // 10.96.0.2: web.yaml writes 10.96.0.10 itself, so kube-dns gets the first free address
        Assert.Equal(Verdict.Answer, bundled.SendUdp(DnsMessage.BuildQuery("web.default.svc.cluster.local", DnsType.A, 1)).Verdict);
        var proxied = new DnsWorld(new DnsOptions { Mode = DnsMode.Proxy }, Repo.Cluster); // --dns proxy: kube-proxy's DNAT only
        Assert.NotEqual(Verdict.Answer, proxied.SendUdp(DnsMessage.BuildQuery("web.default.svc.cluster.local", DnsType.A, 1)).Verdict);
        var asked = new DnsWorld(new DnsOptions { ClusterDns = 0x0A600035 }, Repo.Cluster); // --cluster-dns 10.96.0.53
        Assert.Equal(DnsMode.Answer, asked.Zone.Mode);
        Assert.Equal(Verdict.Answer, asked.SendUdp(DnsMessage.BuildQuery("web.default.svc.cluster.local", DnsType.A, 1)).Verdict);
    }

    [Theory]
    [InlineData("10-244-1-5", "NOERROR")]
    [InlineData("0-0-0-0", "NOERROR")]
    [InlineData("010-244-001-005", "NXDOMAIN")] // Go's net.ParseIP refuses leading zeros, so CoreDNS has no such pod
    [InlineData("10-244-01-5", "NXDOMAIN")]
    [InlineData("10-244-1-256", "NXDOMAIN")]
    public void Pod_names_are_parsed_as_CoreDNS_parses_them(string dashed, string rcode)
    {
        var w = new DnsWorld();
        DnsMessage m = w.Ask($"{dashed}.default.pod.cluster.local", DnsType.A);
        Assert.Equal(rcode, m.RcodeName);
        if (rcode == "NOERROR") Assert.Equal([$"{dashed}.default.pod.cluster.local. 5 IN A {dashed.Replace('-', '.')}"], m.Answer);
    }

    [Fact]
    public void Options_change_the_zone_ttl_domain_pods_and_upstream_answer()
    {
        var w = new DnsWorld(new DnsOptions { Ttl = 30, ClusterDomain = "corp.internal", Pods = DnsPodsMode.Disabled, UpstreamRcode = Kubernetes_NX });
        Assert.Equal(["web.default.svc.corp.internal. 30 IN A 10.96.0.20"], w.Ask("web.default.svc.corp.internal", DnsType.A).Answer);
        Assert.Equal("NXDOMAIN", w.Ask("web.default.svc.cluster.local", DnsType.A).RcodeName); // outside the zone now
        Assert.Equal("NXDOMAIN", w.Ask("10-1-2-3.default.pod.corp.internal", DnsType.A).RcodeName);

        var verified = new DnsWorld(new DnsOptions { Pods = DnsPodsMode.Verified });
        Assert.Equal(["10-244-1-20.default.pod.cluster.local. 5 IN A 10.244.1.20"], verified.Ask("10-244-1-20.default.pod.cluster.local", DnsType.A).Answer);
        Assert.Equal("NXDOMAIN", verified.Ask("10-244-1-99.default.pod.cluster.local", DnsType.A).RcodeName);

        using TempDir podBacked = PodBacked();
        var podNames = new DnsWorld(new DnsOptions { EndpointPodNames = true, Mode = DnsMode.Answer }, podBacked.Path);
        Assert.Equal(["backend-abc.be.default.svc.cluster.local. 5 IN A 10.244.1.40"], podNames.Ask("backend-abc.be.default.svc.cluster.local", DnsType.A).Answer);
    }

    const int Kubernetes_NX = DnsRcode.NXDomain;

    static TempDir PodBacked()
    {
        var dir = new TempDir("dns");
        File.WriteAllText(dir.File("p.yaml"), TestManifests.Node1 +
            "apiVersion: v1\nkind: Service\nmetadata: {name: be, namespace: default}\nspec: {clusterIP: 10.96.0.40, selector: {app: be}, ports: [{name: http, port: 80}]}\n---\n" +
            "apiVersion: v1\nkind: Pod\nmetadata: {name: backend-abc, namespace: default, labels: {app: be}}\nspec: {nodeName: node-1, containers: [{name: c, image: x}]}\n" +
            "status: {phase: Running, podIP: 10.244.1.40, conditions: [{type: Ready, status: \"True\"}]}\n");
        return dir;
    }
}

/// <summary>Endpoint changes reach the DNS answers when the data plane answers DNS (no stale zone from a delta).</summary>
public class DnsControlPlaneTests
{
    [Fact]
    public void An_endpointslice_change_updates_the_answers()
    {
        using var scratch = new TempDir("dns");
        string dir = Directory.CreateDirectory(scratch.File("cluster")).FullName;
        File.Copy(DnsWorld.ClusterFile, Path.Combine(dir, "cluster.yaml"));
        var cp = new DataPlane.Kubernetes.ControlPlane(dir, "node-1", new CompileOptions { Dns = new DnsOptions { Mode = DnsMode.Answer } });
        string change = scratch.File("change.yaml");
        File.WriteAllText(change,
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: nginx-1, namespace: default, labels: {kubernetes.io/service-name: nginx}}\n" +
            "addressType: IPv4\nports: [{name: web, port: 80, protocol: TCP}]\nendpoints: [{addresses: [10.244.1.10], hostname: web-0, conditions: {ready: true}}]\n---\n" +
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}\n" +
            "addressType: IPv4\nports: [{name: http, port: 8080, protocol: TCP}]\nendpoints: [{addresses: [10.244.1.6], conditions: {ready: true}}]\n");
        DataPlane.Maps.MapSet next = cp.Apply(change);
        var pipeline = new PacketPipeline(cp.Holder, new PipelineOptions { CtCapacity = 64 });
        var frame = new byte[128];
        int len = DnsFrames.Udp(frame, DnsWorld.Client, 40000, DnsWorld.DnsIp, DnsMessage.BuildQuery("nginx.default.svc.cluster.local", DnsType.A, 1));
        var reply = new byte[1536];
        Assert.Equal(Verdict.Answer, pipeline.Process(frame.AsSpan(0, len), 1, reply, out PacketResult r));
        Assert.Equal(["nginx.default.svc.cluster.local. 5 IN A 10.244.1.10"], DnsMessage.Decode(DnsFrames.Payload(reply.AsSpan(0, r.OutLength)))!.Answer);
        Assert.Same(next, cp.Holder.Current);

        // A ClusterIP service's slice alone (what the incremental compiler publishes as a delta): endpoint names follow.
        File.WriteAllText(change,
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}\n" +
            "addressType: IPv4\nports: [{name: http, port: 8080, protocol: TCP}]\nendpoints: [{addresses: [10.244.1.8], conditions: {ready: true}}]\n");
        cp.Apply(change);
        len = DnsFrames.Udp(frame, DnsWorld.Client, 40001, DnsWorld.DnsIp, DnsMessage.BuildQuery("10-244-1-8.web.default.svc.cluster.local", DnsType.A, 2));
        Assert.Equal(Verdict.Answer, pipeline.Process(frame.AsSpan(0, len), 2, reply, out r));
        Assert.Equal(["10-244-1-8.web.default.svc.cluster.local. 5 IN A 10.244.1.8"], DnsMessage.Decode(DnsFrames.Payload(reply.AsSpan(0, r.OutLength)))!.Answer);
    }
}
