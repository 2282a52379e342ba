using System.Text.Json.Nodes;
using DataPlane.IO.Pcap;
using DataPlane.IO.Verify;
using DataPlane.Kubernetes;
using DataPlane.Pipeline;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;
using static DataPlane.FixtureBuilder.Frames;

namespace DataPlane.Tests.Verify;

/// <summary>
/// Issue 19 item 1: <c>verify</c> over node captures told frame by frame (<see cref="NodeCapture"/>): a node that does
/// what the Service semantics allow agrees whatever it picked among the allowed outcomes, and each way a broken node
/// behaves is flagged on the right connection, frame and field, with the reason from the cluster.
/// </summary>
public sealed class VerifySemanticsTests : IDisposable
{
    readonly TempDir _tmp = new("verify");
    readonly string _cluster;

    public void Dispose() => _tmp.Dispose();

    const string Node = "192.168.0.2", Client = "203.0.113.7", Gateway = "10.244.1.1";

    public VerifySemanticsTests()
    {
        _cluster = Path.Combine(_tmp.Path, "cluster");
        Directory.CreateDirectory(_cluster);
        File.WriteAllText(Path.Combine(_cluster, "cluster.yaml"), """
            apiVersion: v1
            kind: Node
            metadata: {name: node-1}
            spec: {podCIDR: 10.244.1.0/24}
            status:
              addresses: [{type: InternalIP, address: 192.168.0.2}]
            ---
            apiVersion: v1
            kind: Node
            metadata: {name: node-2}
            spec: {podCIDR: 10.244.2.0/24}
            status:
              addresses: [{type: InternalIP, address: 192.168.0.3}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: default}
            spec:
              type: NodePort
              clusterIP: 10.96.0.10
              ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080}]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: web-1
              namespace: default
              labels: {kubernetes.io/service-name: web}
            addressType: IPv4
            ports: [{name: http, port: 8080, protocol: TCP}]
            endpoints:
            - {addresses: [10.244.1.5], conditions: {ready: true}, nodeName: node-1}
            - {addresses: [10.244.2.7], conditions: {ready: true}, nodeName: node-2}
            - {addresses: [10.244.2.8], conditions: {ready: false}, nodeName: node-2}
            - {addresses: [10.244.1.6], conditions: {ready: false, serving: true, terminating: true}, nodeName: node-1}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: local, namespace: default}
            spec:
              type: NodePort
              clusterIP: 10.96.0.80
              externalTrafficPolicy: Local
              ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30090}]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: local-1
              namespace: default
              labels: {kubernetes.io/service-name: local}
            addressType: IPv4
            ports: [{name: http, port: 8080, protocol: TCP}]
            endpoints:
            - {addresses: [10.244.1.10], conditions: {ready: true}, nodeName: node-1}
            - {addresses: [10.244.2.10], conditions: {ready: true}, nodeName: node-2}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: empty, namespace: default}
            spec:
              clusterIP: 10.96.0.99
              selector: {app: nothing}
              ports: [{name: http, port: 80, targetPort: 8080}]
            """);
    }

    VerifyReport Verify(NodeCapture capture, ulong seed = 1) => Verify(capture.Write(Path.Combine(_tmp.Path, $"node-{Guid.NewGuid():N}.pcap")), seed);

    VerifyReport Verify(string path, ulong seed = 1) => Verify([path], seed);

    VerifyReport Verify(string[] paths, ulong seed = 1)
    {
        var control = new ControlPlane(_cluster, "node-1");
        using var workers = new WorkerSet(control.Holder, new PipelineOptions { Seed = seed, CtCapacity = 1 << 12 }, 1);
        return VerifySession.Run(paths, workers, control.Resolved, control.NodeName);
    }

    static VerifyConnection Only(VerifyReport r, string src)
    {
        VerifyConnection c = Assert.Single(r.Connections, c => c.Src == src);
        return c;
    }

    [Fact]
    public void A_node_that_picks_other_allowed_endpoints_and_ports_agrees_whatever_the_seed()
    {
        var cap = new NodeCapture();
        // Masqueraded (externalTrafficPolicy Cluster): towards node-2's endpoint from the node address, towards the
        // local endpoint from the pod gateway (MASQUERADE takes the egress interface's address), ports the kernel picked.
        cap.Tcp(Client, 40001, Node, 30080, "10.244.2.7", 8080, (Node, 1234));
        cap.Tcp(Client, 40002, Node, 30080, "10.244.1.5", 8080, (Gateway, 40002));
        cap.Tcp(Client, 40003, Node, 30080, "10.244.2.7", 8080, (Node, 61000));
        string path = cap.Write(Path.Combine(_tmp.Path, "allowed.pcap"));
        for (ulong seed = 1; seed <= 10; seed++)
        {
            VerifyReport r = Verify(path, seed);
            Assert.Equal(3, r.Connections.Count);
            Assert.All(r.Connections, c => Assert.True(c.Status == "agrees", $"seed {seed}: {DataPlane.IO.Text.VerifyText.Line(c)}"));
            Assert.Equal("default/web:http", r.Connections[0].Service);
            Assert.Contains("backend 10.244.2.7:8080 followed from the capture (one of 2 usable endpoints", r.Connections[0].Why);
            Assert.Contains("masqueraded to 192.168.0.2:1234 (port followed", r.Connections[0].Why);
            Assert.Equal([1, 2, 3, 4, 5, 6], r.Connections[0].Frames);
        }
    }

    [Fact]
    public void A_masquerade_where_externalTrafficPolicy_Local_forbids_it_diverges_on_src()
    {
        var cap = new NodeCapture();
        cap.Tcp(Client, 40001, Node, 30090, "10.244.1.10", 8080);            // kept: agrees
        var bad = cap.Tcp(Client, 40002, Node, 30090, "10.244.1.10", 8080, (Gateway, 40002));
        VerifyReport r = Verify(cap);
        Assert.Equal("agrees", Only(r, $"{Client}:40001").Status);
        VerifyConnection c = Only(r, $"{Client}:40002");
        Assert.Equal("diverges", c.Status);
        VerifyDiff d = c.Diffs[0];
        Assert.Equal(("src", $"{Client}:40002", $"{Gateway}:40002", (long)bad.Syn), (d.Field, d.Expected, d.Seen, d.Frame));
        Assert.Equal($"default/local has externalTrafficPolicy: Local, so the client address {Client}:40002 should reach the pod; the node masqueraded it to {Gateway}:40002", c.Why);
        Assert.All(c.Diffs, x => Assert.Equal("src", x.Field)); // the SYN and the ACK; the reply's reverse translation is right
    }

    [Fact]
    public void A_backend_outside_the_usable_endpoints_diverges_and_says_why_it_is_not_usable()
    {
        var cap = new NodeCapture();
        cap.Tcp(Client, 40001, Node, 30080, "10.244.2.8", 8080, (Node, 40001));  // not ready
        cap.Tcp(Client, 40002, Node, 30080, "10.244.1.6", 8080, (Gateway, 40002)); // terminating while ready ones exist
        cap.Tcp(Client, 40003, Node, 30080, "10.244.1.99", 8080, (Gateway, 40003)); // no endpoint at all
        cap.Tcp(Client, 40004, Node, 30090, "10.244.2.10", 8080);                  // Local: an endpoint on node-2
        VerifyReport r = Verify(cap);
        VerifyDiff notReady = Only(r, $"{Client}:40001").Diffs[0];
        Assert.Equal(("backend", "10.244.2.8:8080"), (notReady.Field, notReady.Seen));
        Assert.Equal("backend 10.244.2.8:8080 is not a usable endpoint of default/web (not ready)", notReady.Why);
        Assert.Equal("one of 10.244.1.5:8080, 10.244.2.7:8080", notReady.Expected);
        Assert.Equal("backend 10.244.1.6:8080 is not a usable endpoint of default/web (terminating, while ready endpoints exist)", Only(r, $"{Client}:40002").Diffs[0].Why);
        VerifyDiff none = Only(r, $"{Client}:40003").Diffs[0];
        Assert.Equal(("dst", "10.244.1.99:8080"), (none.Field, none.Seen));
        Assert.StartsWith("the node sent the connection to 10.244.1.99:8080, which is no endpoint of default/web", none.Why);
        Assert.Equal("backend 10.244.2.10:8080 is not a usable endpoint of default/local (on node-2, and externalTrafficPolicy is Local)",
                     Only(r, $"{Client}:40004").Diffs[0].Why);
    }

    [Fact]
    public void A_missing_reverse_translation_a_kept_TTL_a_bad_checksum_and_a_dropped_packet_are_each_flagged_where_they_happen()
    {
        var cap = new NodeCapture();
        var noRev = cap.Tcp(Client, 40001, Node, 30080, "10.244.2.7", 8080, (Node, 40001), new NodeCapture.Broken { NoReverseNat = true });
        var ttl = cap.Tcp(Client, 40002, Node, 30080, "10.244.2.7", 8080, (Node, 40002), new NodeCapture.Broken { ForwardTtl = 64 });
        var sum = cap.Tcp(Client, 40003, Node, 30080, "10.244.2.7", 8080, (Node, 40003), new NodeCapture.Broken { BadChecksum = true });
        cap.Tcp(Client, 40004, Node, 30080, "10.244.2.7", 8080, (Node, 40004), new NodeCapture.Broken { Dropped = true });
        cap.Tcp(Client, 40005, Node, 30080, "10.244.2.7", 8080, (Node, 40005));
        VerifyReport r = Verify(cap);

        VerifyDiff rev = Assert.Single(Only(r, $"{Client}:40001").Diffs);
        Assert.Equal(("reverse-nat", "192.168.0.2:30080", "10.244.2.7:8080", (long)noRev.SynAck), (rev.Field, rev.Expected, rev.Seen, rev.Frame));
        VerifyDiff t = Assert.Single(Only(r, $"{Client}:40002").Diffs);
        Assert.Equal(("ttl", "63", "64", (long)ttl.Syn), (t.Field, t.Expected, t.Seen, t.Frame));
        Assert.Contains("without decrementing it", t.Why);
        VerifyDiff c = Assert.Single(Only(r, $"{Client}:40003").Diffs);
        Assert.Equal(("checksum", (long)sum.Syn), (c.Field, c.Frame));
        Assert.StartsWith("bad tcp checksum 0x", c.Seen);
        VerifyConnection dropped = Only(r, $"{Client}:40004");
        VerifyDiff never = Assert.Single(dropped.Diffs);
        Assert.Equal(("sent", "never sent"), (never.Field, never.Seen));
        Assert.StartsWith("forwarded to 10.244.", never.Expected); // a backend the data plane drew: the capture shows none
        Assert.Equal("agrees", Only(r, $"{Client}:40005").Status);
        Assert.Equal((5, 1, 4, 0), (r.Connections.Count, r.Agrees, r.Diverges, r.Incomplete));
    }

    [Fact]
    public void A_service_without_endpoints_must_be_rejected_not_forwarded()
    {
        var cap = new NodeCapture();
        byte[] syn = TcpFrame("10.244.1.5", 41000, "10.96.0.99", 80, Tcp.Syn, 1, 0, ttl: 64, id: 7);
        cap.In(syn);
        cap.Out(IcmpPortUnreachable(syn, Node, 900, decrementQuotedTtl: false, to: "10.244.1.5"));
        byte[] syn2 = TcpFrame("10.244.1.5", 41001, "10.96.0.99", 80, Tcp.Syn, 1, 0, ttl: 64, id: 8);
        cap.In(syn2);
        cap.Out(TcpFrame("10.244.1.5", 41001, "10.244.1.77", 8080, Tcp.Syn, 1, 0, ttl: 63, id: 8));
        VerifyReport r = Verify(cap);
        VerifyConnection ok = Only(r, "10.244.1.5:41000");
        Assert.Equal("agrees", ok.Status);
        Assert.Equal([1, 2], ok.Frames);
        VerifyDiff d = Assert.Single(Only(r, "10.244.1.5:41001").Diffs);
        Assert.Equal(("verdict", "rejected (ICMP port unreachable)", "forwarded to 10.244.1.77:8080", 4L), (d.Field, d.Expected, d.Seen, d.Frame));
        Assert.Equal("frame 3 is rejected (ICMP port unreachable): default/empty:http has no usable endpoint; the node sent it on to 10.244.1.77:8080", d.Why);
        Assert.Equal("rejected (ICMP port unreachable): default/empty:http has no usable endpoint, as the node did", ok.Why);
    }

    [Fact]
    public void A_connection_the_capture_joins_midway_is_incomplete_not_a_divergence()
    {
        var cap = new NodeCapture();
        cap.In(TcpFrame(Client, 40009, Node, 30080, Tcp.Ack, 1001, 5001, ttl: 64, id: 3));
        cap.Out(TcpFrame(Node, 40009, "10.244.2.7", 8080, Tcp.Ack, 1001, 5001, ttl: 63, id: 3));
        VerifyConnection c = Assert.Single(Verify(cap).Connections);
        Assert.Equal("incomplete", c.Status);
        Assert.StartsWith("the capture starts after the connection opened (its first frame, 1, is no SYN)", c.Why);
    }

    /// <summary>Two Ethernet captures of the node's interfaces (the uplink and a pod's veth), merged by time: no packet
    /// types, so the first sighting of a packet is its arrival and the changed copy on the other interface its departure.</summary>
    [Fact]
    public void Captures_of_several_interfaces_are_merged_by_time_and_the_changed_sighting_is_what_the_node_sent()
    {
        string eth0 = Path.Combine(_tmp.Path, "eth0.pcap"), veth = Path.Combine(_tmp.Path, "veth.pcap");
        using (var up = new CaptureWriter(eth0))
        using (var pod = new CaptureWriter(veth))
        {
            long t = 1_000_000_000;
            up.Write(TcpFrame(Client, 40001, Node, 30080, Tcp.Syn, 1000, 0, ttl: 64, id: 1), t);
            pod.Write(TcpFrame(Gateway, 40001, "10.244.1.5", 8080, Tcp.Syn, 1000, 0, ttl: 63, id: 1), t + 10_000);
            pod.Write(TcpFrame("10.244.1.5", 8080, Gateway, 40001, Tcp.Syn | Tcp.Ack, 5000, 1001, ttl: 64, id: 2), t + 20_000);
            up.Write(TcpFrame(Node, 30080, Client, 40001, Tcp.Syn | Tcp.Ack, 5000, 1001, ttl: 63, id: 2), t + 30_000);
            // The second connection: the node forwards it without decrementing the TTL.
            up.Write(TcpFrame(Client, 40002, Node, 30080, Tcp.Syn, 1000, 0, ttl: 64, id: 3), t + 40_000);
            pod.Write(TcpFrame(Gateway, 40002, "10.244.1.5", 8080, Tcp.Syn, 1000, 0, ttl: 64, id: 3), t + 50_000);
        }
        VerifyReport r = Verify([veth, eth0]);
        Assert.Equal((6, 3, 3), (r.Frames, r.Received, r.Sent));
        Assert.Equal("agrees", Only(r, $"{Client}:40001").Status);
        Assert.Equal([1, 2, 3, 4], Only(r, $"{Client}:40001").Frames);
        VerifyDiff d = Assert.Single(Only(r, $"{Client}:40002").Diffs);
        Assert.Equal(("ttl", 6L), (d.Field, d.Frame));
    }

    [Fact]
    public void A_capture_without_what_the_node_sent_leaves_every_connection_incomplete()
    {
        string path = Path.Combine(_tmp.Path, "one-side.pcap");
        using (var w = new CaptureWriter(path))
            w.Write(TcpFrame(Client, 40001, Node, 30080, Tcp.Syn, 1000, 0, ttl: 64, id: 1), 1_000_000_000);
        VerifyConnection c = Assert.Single(Verify(path).Connections);
        Assert.Equal("incomplete", c.Status);
        Assert.Contains("tcpdump -i any", c.Why);
    }

    [Fact]
    public void Loopback_and_bridge_copies_of_one_packet_are_compared_once()
    {
        var cap = new NodeCapture();
        byte[] syn = TcpFrame(Client, 40001, Node, 30080, Tcp.Syn, 1000, 0, ttl: 64, id: 1);
        cap.In(syn, ifIndex: 2);
        cap.In(syn, ifIndex: 4); // the same packet again (a bridge shows it on the port and on the bridge)
        byte[] copy = TcpFrame(Node, 40001, "10.244.2.7", 8080, Tcp.Syn, 1000, 0, ttl: 63, id: 1);
        cap.Out(copy, ifIndex: 3);
        cap.Out(copy, ifIndex: 5);
        VerifyReport r = Verify(cap);
        VerifyConnection c = Assert.Single(r.Connections);
        Assert.Equal("agrees", c.Status);
        Assert.Equal(2, r.Duplicates);
        Assert.Equal([1, 2, 3, 4], c.Frames);
        Assert.Equal(0, r.NodeOwn);
    }

    // ---- The command: output, JSON, exit codes.

    string Capture(bool broken)
    {
        var cap = new NodeCapture();
        cap.Tcp(Client, 40001, Node, 30080, "10.244.2.7", 8080, (Node, 40001));
        cap.Tcp(Client, 40002, Node, 30090, "10.244.1.10", 8080, broken ? (Gateway, 40002) : null);
        return cap.Write(Path.Combine(_tmp.Path, broken ? "broken.pcap" : "good.pcap"));
    }

    [Fact]
    public void The_command_exits_0_when_everything_agrees_and_1_when_something_diverges()
    {
        CliTests.Result good = CliTests.Run("verify", "--cluster", _cluster, "--node", "node-1", Capture(false));
        Assert.True(good.ExitCode == 0, good.Stdout + good.Stderr);
        Assert.Equal(3, good.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.StartsWith("verify: 2 connections: 2 agree, 0 diverge, 0 incomplete (12 frames: 6 received, 6 sent", good.Stdout.Split('\n')[2]);

        CliTests.Result bad = CliTests.Run("verify", "--cluster", _cluster, "--node", "node-1", Capture(true));
        Assert.Equal(1, bad.ExitCode);
        string first = bad.Stdout.Split('\n')[0];
        Assert.Equal($"tcp {Client}:40002 → {Node}:30090 (default/local:http): diverges: src at frame 8: expected {Client}:40002, seen {Gateway}:40002; " +
                     $"src at frame 12: expected {Client}:40002, seen {Gateway}:40002 — default/local has externalTrafficPolicy: Local, so the client address " +
                     $"{Client}:40002 should reach the pod; the node masqueraded it to {Gateway}:40002", first);
    }

    [Fact]
    public void The_json_has_one_object_per_connection_and_a_summary_line()
    {
        CliTests.Result r = CliTests.Run("verify", "--cluster", _cluster, "--node", "node-1", "--json", Capture(true));
        Assert.Equal(1, r.ExitCode);
        JsonNode[] lines = [.. r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!)];
        Assert.Equal(3, lines.Length);
        JsonObject bad = lines[1].AsObject();
        Assert.Equal(["flow", "service", "status", "frames", "diffs", "why"], bad.Select(p => p.Key));
        Assert.Equal("""{"proto":"tcp","src":"203.0.113.7:40002","dst":"192.168.0.2:30090"}""", bad["flow"]!.ToJsonString());
        Assert.Equal("default/local:http", (string?)bad["service"]);
        Assert.Equal("diverges", (string?)bad["status"]);
        Assert.Equal([7, 8, 9, 10, 11, 12], bad["frames"]!.AsArray().Select(n => (long)n!));
        JsonObject diff = bad["diffs"]![0]!.AsObject();
        Assert.Equal((8L, "src", "203.0.113.7:40002", "10.244.1.1:40002"), ((long)diff["frame"]!, (string?)diff["field"], (string?)diff["expected"], (string?)diff["seen"]));
        Assert.Equal("""{"summary":{"flows":2,"agrees":1,"diverges":1,"incomplete":0}}""", lines[2].ToJsonString());
        Assert.Equal("agrees", (string?)lines[0]["status"]);
    }

    [Fact]
    public void Bad_input_exits_2_with_one_line()
    {
        string corrupt = Path.Combine(_tmp.Path, "corrupt.pcap");
        File.WriteAllBytes(corrupt, [1, 2, 3, 4, 5, 6, 7, 8]);
        foreach (string[] args in new[]
        {
            new[] { "verify", "--cluster", _cluster, "--node", "node-1", Path.Combine(_tmp.Path, "missing.pcap") },
            new[] { "verify", "--cluster", _cluster, "--node", "node-1", corrupt },
            new[] { "verify", "--cluster", Path.Combine(_tmp.Path, "nowhere"), Capture(false) },
        })
        {
            CliTests.Result r = CliTests.Run(args);
            Assert.True(r.ExitCode == 2, $"{string.Join(' ', args)}: {r.ExitCode} {r.Stderr}");
            Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("dataplane: error: ", r.Stderr);
        }
    }

    [Fact]
    public void Progress_names_each_of_the_two_passes_and_ends_at_the_last_frame()
    {
        var cap = new NodeCapture();
        for (ushort p = 0; p < 40; p++) cap.Tcp(Client, (ushort)(40000 + p), Node, 30080, "10.244.2.7", 8080, (Node, (ushort)(40000 + p)));
        string path = cap.Write(Path.Combine(_tmp.Path, "progress.pcap"));
        var err = new StringWriter();
        var control = new ControlPlane(_cluster, "node-1");
        using var workers = new WorkerSet(control.Holder, new PipelineOptions { CtCapacity = 1 << 12 }, 1);
        VerifyReport r = VerifySession.Run([path], workers, control.Resolved, control.NodeName,
            new DataPlane.IO.Replay.ReplayProgress(err, live: false, TimeSpan.Zero) { Label = "verify" });
        Assert.Equal(40, r.Agrees);
        string[] lines = err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith("verify 2/2: ", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.Matches("^verify [12]/2: [0-9,]+ frames, ", l));
        Assert.True(lines[^1].StartsWith("verify 2/2: 240 frames, 100%", StringComparison.Ordinal), lines[^1]);
    }

    [Fact]
    public void Without_node_the_node_whose_addresses_the_capture_holds_is_verified_and_named()
    {
        var cap = new NodeCapture();
        cap.Tcp(Client, 40001, "192.168.0.3", 30080, "10.244.2.7", 8080, ("10.244.2.1", 40001)); // taken on node-2
        string path = cap.Write(Path.Combine(_tmp.Path, "node-2.pcap"));
        CliTests.Result guessed = CliTests.Run("verify", "--cluster", _cluster, path);
        Assert.True(guessed.ExitCode == 0, guessed.Stdout + guessed.Stderr);
        Assert.Equal("dataplane: verify: no --node given; node-2 chosen: 6 of the capture's first 6 frames are to or from its addresses or pod CIDR\n", guessed.Stderr);
        // As node-1 it diverges: 192.168.0.3 is not node-1's address, so nothing there is a NodePort of its.
        CliTests.Result asNode1 = CliTests.Run("verify", "--cluster", _cluster, "--node", "node-1", path);
        Assert.Equal(1, asNode1.ExitCode);
        Assert.Equal("", asNode1.Stderr);
    }

    /// <summary>One pcapng file with two Ethernet interfaces (Wireshark's capture of the uplink and a pod's veth at once).</summary>
    [Fact]
    public void A_pcapng_of_several_interfaces_is_read_as_the_node_saw_them()
    {
        string path = Path.Combine(_tmp.Path, "two-interfaces.pcapng");
        long t = 1_000_000_000;
        var blocks = new List<byte[]>
        {
            PcapNg.SectionHeader(), PcapNg.Interface(LinkType.Ethernet), PcapNg.Interface(LinkType.Ethernet),
            PcapNg.Packet(0, t, TcpFrame(Client, 40001, Node, 30080, Tcp.Syn, 1000, 0, ttl: 64, id: 1)),
            PcapNg.Packet(1, t + 10_000, TcpFrame(Gateway, 40001, "10.244.1.5", 8080, Tcp.Syn, 1000, 0, ttl: 63, id: 1)),
            PcapNg.Packet(1, t + 20_000, TcpFrame("10.244.1.5", 8080, Gateway, 40001, Tcp.Syn | Tcp.Ack, 5000, 1001, ttl: 64, id: 2)),
            // The node's reply leaves without its reverse translation.
            PcapNg.Packet(0, t + 30_000, TcpFrame("10.244.1.5", 8080, Client, 40001, Tcp.Syn | Tcp.Ack, 5000, 1001, ttl: 63, id: 2)),
        };
        File.WriteAllBytes(path, [.. blocks.SelectMany(b => b)]);
        VerifyReport r = Verify(path);
        Assert.Equal((4, 2, 2), (r.Frames, r.Received, r.Sent));
        VerifyConnection c = Assert.Single(r.Connections);
        VerifyDiff d = Assert.Single(c.Diffs);
        Assert.Equal(("reverse-nat", 4L, "192.168.0.2:30080", "10.244.1.5:8080"), (d.Field, d.Frame, d.Expected, d.Seen));
    }

    /// <summary>The pcapng blocks the test needs, written by hand from the format's description (little-endian, µs timestamps).</summary>
    static class PcapNg
    {
        static byte[] Block(uint type, byte[] body)
        {
            int padded = (body.Length + 3) & ~3;
            var b = new byte[12 + padded];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b, type);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(4), b.Length);
            body.CopyTo(b, 8);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(b.Length - 4), b.Length);
            return b;
        }

        public static byte[] SectionHeader() =>
            Block(0x0A0D0D0A, [0x4D, 0x3C, 0x2B, 0x1A, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);

        public static byte[] Interface(LinkType link) =>
            Block(1, [(byte)(ushort)link, (byte)((ushort)link >> 8), 0, 0, 0, 0, 4, 0]); // snaplen 262144

        public static byte[] Packet(int iface, long ns, byte[] frame)
        {
            long us = ns / 1000;
            var body = new byte[20 + frame.Length];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(body, iface);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(4), (uint)(us >> 32));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(8), (uint)us);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(12), frame.Length);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(16), frame.Length);
            frame.CopyTo(body, 20);
            return Block(6, body);
        }
    }

    /// <summary>tcpdump killed mid-write, or a damaged copy: the frames before the corrupt record are verified and listed, then the error, exit 2.</summary>
    [Fact]
    public void A_corrupt_record_ends_the_capture_after_what_came_before_it_is_verified()
    {
        string path = Capture(false);
        byte[] good = File.ReadAllBytes(path);
        byte[] bad = [.. good, .. new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F }];
        File.WriteAllBytes(path, bad);
        CliTests.Result r = CliTests.Run("verify", "--cluster", _cluster, "--node", "node-1", path);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("verify: 2 connections: 2 agree, 0 diverge, 0 incomplete (12 frames", r.Stdout);
        Assert.StartsWith("dataplane: error: ", r.Stderr);
        Assert.Contains("record 13", r.Stderr);
    }
}
