using System.Text.Json.Nodes;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Trace;

/// <summary>`trace` and `replay --explain` as a user runs them: the recorded stage log, then why.</summary>
public class TraceCliTests : IClassFixture<WhyWorldFixture>
{
    readonly WhyWorld _w;

    public TraceCliTests(WhyWorldFixture f) => _w = f.World;

    [Fact]
    public void Text_trace_prints_the_stage_log_then_why()
    {
        var r = CliTests.Run("trace", "--cluster", _w.Path0, "--node", "node-1", "--src", WhyWorld.External, "--dst", "192.168.0.2:30080");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("""
            packet      tcp 203.0.113.2:40000 -> 192.168.0.2:30080 [SYN]
            parse       ok: tcp 203.0.113.2:40000 -> 192.168.0.2:30080
            conntrack   miss: new connection
            service     default/web:80  frontend flags [NodePort, ExtLocal, LocalAddress, TwoScopes, DropWhenEmpty], external scope
            candidates  (none)
            backend     none: drop: no-service-backend
            verdict     drop: no-service-backend
            why         192.168.0.2:30080/TCP is default/web's NodePort (port 80/TCP → targetPort 8080, nodePort 30080); default/web: 3 endpoints, 2 on node-2 (externalTrafficPolicy Local: not usable here), 1 not ready → no backend → drop

            """.ReplaceLineEndings("\n"), r.Stdout);
    }

    [Fact]
    public void Json_trace_keeps_its_keys_and_adds_stages_and_why()
    {
        var r = CliTests.Run("trace", "--cluster", _w.Path0, "--node", "node-1", "--src", WhyWorld.PodClient, "--dst", "10.96.0.10:8080", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var o = JsonNode.Parse(r.Stdout)!.AsObject();
        Assert.Equal(["verdict", "reason", "service", "candidates", "backend", "masquerade", "out", "stages", "why"], o.Select(kv => kv.Key));
        Assert.Equal("pass", (string)o["verdict"]!);
        Assert.Equal(["parse", "conntrack", "service", "host", "verdict"], o["stages"]!.AsArray().Select(s => (string)s!["stage"]!));
        Assert.StartsWith("10.96.0.10 is default/web's ClusterIP, but 8080/TCP is not one of its ports (80/TCP → targetPort 8080, nodePort 30080)", (string)o["why"]!);
    }

    [Fact]
    public void Ping_and_service_names_from_the_command_line()
    {
        var ping = CliTests.Run("trace", "--cluster", _w.Path0, "--node", "node-1", "--src", WhyWorld.PodClient, "--dst", "10.96.0.10", "--proto", "icmp");
        Assert.True(ping.ExitCode == 0, ping.ToString());
        Assert.Contains("icmp        type 8 (echo request): not load-balanced, no Service rule translates ICMP\n", ping.Stdout);
        Assert.Contains("why         an ICMP echo (ping) to 10.96.0.10, default/web's ClusterIP", ping.Stdout);

        var byName = CliTests.Run("trace", "--cluster", _w.Path0, "--node", "node-1", "--src", WhyWorld.PodClient, "--dst", "web.default.svc.cluster.local:80");
        Assert.True(byName.ExitCode == 0, byName.ToString());
        Assert.StartsWith("resolve     web.default.svc.cluster.local is default/web, ClusterIP 10.96.0.10\npacket      tcp 10.0.1.5:40000 -> 10.96.0.10:80 [SYN]\n", byName.Stdout);

        var headless = CliTests.Run("trace", "--cluster", _w.Path0, "--node", "node-1", "--src", WhyWorld.PodClient, "--dst", "nginx:80");
        // A headless name is what a client's lookup makes of it: one of the ready endpoints, reached directly.
        Assert.True(headless.ExitCode == 0, headless.ToString());
        Assert.StartsWith("resolve     default/nginx is headless (clusterIP: None): no virtual IP and no proxy rule; its DNS name returns the ready endpoints' addresses (10.0.2.1", headless.Stdout);
        Assert.Contains("\npacket      tcp 10.0.1.5:40000 -> 10.0.2.1:80 [SYN]\n", headless.Stdout);
        var ext = CliTests.Run("trace", "--cluster", _w.Path0, "--node", "node-1", "--src", WhyWorld.PodClient, "--dst", "default/ext:443", "--json");
        Assert.Equal(1, ext.ExitCode);
        Assert.StartsWith("default/ext is an ExternalName service: cluster DNS answers its name with a CNAME to example.com",
            (string)JsonNode.Parse(ext.Stdout)!["why"]!);
    }

    [Fact]
    public void Replay_explain_prints_the_frame_s_log_and_why_and_writes_nothing()
    {
        string input = Path.Combine(Repo.Cases, "004-no-endpoints-reject", "input.pcap");
        using var scratch = new TempDir("explain");
        string dir = scratch.Path;
        string verdicts = Path.Combine(dir, "v.jsonl");
        var r = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", input, "--explain", "2", "--verdicts", verdicts);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.False(File.Exists(verdicts));
        Assert.Equal("""
            frame       2 at +0.001s
            packet      tcp 10.244.1.5:40002 -> 10.96.0.30:80
            parse       ok: tcp 10.244.1.5:40002 -> 10.96.0.30:80
            conntrack   miss: new connection
            service     default/empty:http  frontend flags [ClusterIp, MasqueradeOffCluster]
            candidates  (none)
            backend     none: reject
            reject      ICMP port unreachable 10.244.1.1 -> 10.244.1.5
            verdict     reject: ICMP port unreachable 10.244.1.1 -> 10.244.1.5
            why         10.96.0.30:80/TCP is default/empty's ClusterIP (port http 80/TCP → targetPort 8080); default/empty: 0 endpoints, because its selector app=nothing-here matches no pod in namespace default → no backend → reject (ICMP port unreachable, as kube-proxy answers a service with no endpoints)

            """.ReplaceLineEndings("\n"), r.Stdout);
    }

    [Fact]
    public void Replay_explain_of_a_query_the_dns_stage_answered()
    {
        string input = Path.Combine(Repo.Cases, "020-cluster-dns", "input.pcap");
        var r = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", input, "--cluster-dns", "10.96.0.53", "--explain", "1");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("""
            frame       1 at +0s
            packet      udp 10.244.1.5:50100 -> 10.96.0.53:53
            parse       ok: udp 10.244.1.5:50100 -> 10.96.0.53:53
            dns         web.default.svc.cluster.local A: answered as the cluster DNS, NOERROR, 1 answer(s), UDP 10.96.0.53:53 -> 10.244.1.5:50100
            verdict     answer: DNS response 10.96.0.53:53 -> 10.244.1.5:50100
            why         a DNS query for web.default.svc.cluster.local A to the cluster DNS address 10.96.0.53:53/UDP: the data plane's DNS stage answers it as CoreDNS's kubernetes plugin would, before kube-proxy's DNAT to the CoreDNS pods, as asked (--dns answer or --cluster-dns) (NOERROR, 1 answer(s)) → answer (the DNS response is the output)

            """.ReplaceLineEndings("\n"), r.Stdout);
    }

    [Fact]
    public void Replay_explain_sees_the_conntrack_state_the_replay_built()
    {
        string input = Path.Combine(Repo.Cases, "001-clusterip-tcp", "input.pcap");
        var r = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", input, "--explain", "2", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var o = JsonNode.Parse(r.Stdout)!.AsObject();
        Assert.Equal(2, (long)o["frame"]!);
        Assert.Equal("forward", (string)o["verdict"]!);
        var ct = o["stages"]!.AsArray()[1]!;
        Assert.Equal(("conntrack", true, "reply", "first reply"), ((string)ct["stage"]!, (bool)ct["hit"]!, (string)ct["direction"]!, (string)ct["state"]!));
        Assert.StartsWith("packet of an existing connection (conntrack hit, flow 1, reply direction)", (string)o["why"]!);

        var past = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", input, "--explain", "99");
        Assert.Contains("has fewer than 99 frames", CliTests.AssertOneLineError(past));
    }
}
