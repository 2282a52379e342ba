using DataPlane.IO.Text;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Trace;

/// <summary>
/// The stage log records what each stage did, with its facts, for every outcome; and recording it changes nothing: the
/// same frames through a traced and an untraced pipeline give the same verdicts, results and bytes.
/// </summary>
public class StageLogTests : IClassFixture<WhyWorldFixture>
{
    readonly WhyWorld _w;

    public StageLogTests(WhyWorldFixture f) => _w = f.World;

    static PipelineStage[] Stages(StageRecord[] log) => [.. log.Select(r => r.Stage)];

    [Fact]
    public void A_new_forwarded_connection_records_every_stage_with_its_facts()
    {
        var (log, v, _) = _w.Trace("tcp", WhyWorld.External, "10.96.0.10", 80);
        Assert.Equal(Verdict.Forward, v);
        Assert.Equal([PipelineStage.Parse, PipelineStage.Conntrack, PipelineStage.ServiceLookup, PipelineStage.BackendSelect,
            PipelineStage.Ttl, PipelineStage.Masquerade, PipelineStage.ConntrackCreate, PipelineStage.Nat, PipelineStage.Verdict], Stages(log));
        Assert.Equal(Verdict.Continue, log[1].Verdict); // conntrack miss
        Assert.False(log[1].HasEntry);
        Assert.Equal("default/web:80", _w.Maps.ServiceName(log[2].RevNatIndex));
        Assert.Equal(2, log[3].SlotCount); // internal scope of a ClusterIP: both ready endpoints on node-2
        Assert.Equal((Verdict.Continue, (byte)64), (log[4].Verdict, log[4].Ttl)); // the TTL rule, with the TTL it read
        Assert.True(log[5].Masquerade); // an off-cluster source to a ClusterIP
        Assert.True(log[6].HasEntry && log[6].NewFlow && (log[6].CtFlags & CtFlags.Snat) != 0);
        Assert.Equal(Ip4.Parse("192.168.0.2"), log[6].Reply.DstIp); // the masquerade address, from the entry
        Assert.Equal(log[3].Backend.Address, log[7].DstIp); // nat: the packet as it leaves

        var lines = TraceText.Lines(log, _w.Maps);
        Assert.Equal(["parse", "conntrack", "service", "candidates", "backend", "ttl", "masquerade", "ct-create", "nat", "verdict"], lines.Select(l => l.Label));
        Assert.Equal("ok: tcp 203.0.113.2:40000 -> 10.96.0.10:80", lines[0].Text);
        Assert.Equal("miss: new connection", lines[1].Text);
        Assert.Equal("default/web:80  frontend flags [ClusterIp, MasqueradeOffCluster]", lines[2].Text);
        Assert.Equal("10.0.2.1:8080, 10.0.2.2:8080", lines[3].Text);
        Assert.Equal("TTL 64: forwarded (decremented to 63)", lines[5].Text);
        Assert.Equal($"yes, source -> 192.168.0.2:{log[6].Reply.DstPort}", lines[6].Text);
        Assert.StartsWith($"flow {log[6].FlowId}: 203.0.113.2:40000 -> 10.96.0.10:80 | reply 10.0.2.", lines[7].Text);
        Assert.Equal($"forward: 192.168.0.2:{log[6].Reply.DstPort} -> {Ip4.Format(log[3].Backend.Address, log[3].Backend.Port)}", lines[9].Text);
    }

    [Fact]
    public void No_backend_stops_at_the_selection_stage()
    {
        var (log, v, _) = _w.Trace("tcp", WhyWorld.External, "192.168.0.2", 30080);
        Assert.Equal(Verdict.Drop, v);
        Assert.Equal([PipelineStage.Parse, PipelineStage.Conntrack, PipelineStage.ServiceLookup, PipelineStage.BackendSelect, PipelineStage.Verdict], Stages(log));
        Assert.Equal((Verdict.Drop, DropReason.NoServiceBackend, (ushort)0), (log[3].Verdict, log[3].Reason, log[3].SlotCount));
        var lines = TraceText.Lines(log, _w.Maps);
        Assert.Equal(("candidates", "(none)"), lines[3]);
        Assert.Equal(("backend", "none: drop: no-service-backend"), lines[4]);
        Assert.Equal(("verdict", "drop: no-service-backend"), lines[5]);
    }

    [Fact]
    public void Reject_and_service_miss_and_parse_drop_are_recorded_where_they_happen()
    {
        var (reject, rv, _) = _w.Trace("tcp", WhyWorld.PodClient, "10.96.0.20", 80);
        Assert.Equal(Verdict.Reject, rv);
        Assert.Equal((PipelineStage.BackendSelect, Verdict.Reject), (reject[3].Stage, reject[3].Verdict));
        Assert.Equal((PipelineStage.Reject, Verdict.Reject, L4.IcmpDestUnreachable, L4.IcmpPortUnreachableCode), (reject[4].Stage, reject[4].Verdict, reject[4].ReplyIcmpType, reject[4].ReplyIcmpCode));
        Assert.Equal("verdict: reject: ICMP port unreachable 10.0.1.1 -> 10.0.1.5", string.Join("", TraceText.Lines(reject, _w.Maps).TakeLast(1).Select(l => $"{l.Label}: {l.Text}")));

        var (miss, mv, _) = _w.Trace("tcp", WhyWorld.PodClient, "10.96.0.10", 8080);
        Assert.Equal(Verdict.Pass, mv);
        Assert.Equal([PipelineStage.Parse, PipelineStage.Conntrack, PipelineStage.ServiceLookup, PipelineStage.HostPort, PipelineStage.Verdict], Stages(miss));
        Assert.Equal(0, miss[2].RevNatIndex);
        Assert.Equal((Verdict.Pass, StageRule.HostNotNodeAddress), (miss[3].Verdict, miss[3].Rule));
        Assert.Equal(("service", "no frontend for 10.96.0.10:8080/tcp: not a service packet"), TraceText.Lines(miss, _w.Maps)[2]);

        // A truncated frame: parse drops it and nothing else runs.
        var p = new PacketPipeline(new MapSetHolder(_w.Maps), new PipelineOptions { CtCapacity = 16 }) { Log = new StageLog() };
        byte[] frame = new byte[128];
        int len = FrameBuilder.FirstPacket(frame, IpProto.Tcp, 1, 2, 3, 4);
        Verdict dv = p.Process(frame.AsSpan(0, len - 10), 0, new byte[1024], out PacketResult _);
        Assert.Equal(Verdict.Drop, dv);
        StageRecord[] dropped = p.Log!.Records.ToArray();
        Assert.Equal([PipelineStage.Parse, PipelineStage.Verdict], Stages(dropped));
        Assert.Equal(Verdict.Drop, dropped[0].Verdict);
        Assert.NotEqual(DropReason.None, dropped[0].Reason);
        Assert.StartsWith("the frame is malformed (", _w.Explainer.Why(dropped));
    }

    [Fact]
    public void The_log_is_cleared_per_packet_and_json_carries_the_facts()
    {
        var p = new PacketPipeline(new MapSetHolder(_w.Maps), new PipelineOptions { Seed = 1, CtCapacity = 16 }) { Log = new StageLog() };
        var first = _w.Run(p, "tcp", WhyWorld.PodClient, 40000, "10.96.0.10", 80);
        var second = _w.Run(p, "udp", WhyWorld.PodClient, 40000, "8.8.8.8", 53);
        Assert.Equal(9, first.Log.Length);
        Assert.Equal(5, second.Log.Length); // parse, conntrack, service, host (not a node address), verdict
        string json = TraceText.Json(first.Log, _w.Maps).ToJsonString(TraceText.JsonOptions);
        Assert.StartsWith("""[{"stage":"parse","verdict":"continue","reason":null,"packet":"tcp 10.0.1.5:40000 -> 10.96.0.10:80"},{"stage":"conntrack","verdict":"continue","reason":null,"hit":false},{"stage":"service","verdict":"continue","reason":null,"service":"default/web:80","frontend":"10.96.0.10:80/tcp","flags":"ClusterIp, MasqueradeOffCluster","scope":"external"},{"stage":"backend","verdict":"continue","reason":null,"candidates":["10.0.2.1:8080","10.0.2.2:8080"],"backend":"10.0.2.""", json);
        Assert.Contains("""{"stage":"ttl","verdict":"continue","reason":null,"ttl":64}""", json);
        Assert.Contains("""{"stage":"masquerade","verdict":"continue","reason":null,"masquerade":false}""", json);
        Assert.EndsWith("""{"stage":"verdict","verdict":"forward","reason":null}]""", json);
    }

    [Fact]
    public void Tracing_changes_no_verdict_result_or_byte()
    {
        var traced = new PacketPipeline(new MapSetHolder(_w.Maps), new PipelineOptions { Seed = 7, CtCapacity = 64 }) { Log = new StageLog() };
        var plain = new PacketPipeline(new MapSetHolder(_w.Maps), new PipelineOptions { Seed = 7, CtCapacity = 64 });
        string[] dsts = ["10.96.0.10", "10.96.0.20", "10.96.0.30", "192.168.0.2", "10.0.2.1", "8.8.8.8"];
        ushort[] ports = [80, 8080, 30080, 53, 22, 9999];
        string[] srcs = [WhyWorld.PodClient, WhyWorld.External, "192.168.0.2"];
        int n = 0;
        foreach (string src in srcs)
            foreach (string dst in dsts)
                foreach (ushort port in ports)
                    foreach (byte proto in new[] { IpProto.Tcp, IpProto.Udp, IpProto.Sctp })
                        foreach (byte ttl in new byte[] { 64, 1 })
                        {
                            // TTL 1 takes the TTL rule's and the REJECT's time-exceeded records; SCTP its own chain;
                            // node ports the host stage's rules.
                            byte[] a = new byte[128], b = new byte[128], ra = new byte[1024], rb = new byte[1024];
                            int len = FrameBuilder.FirstPacket(a, proto, Ip4.Parse(src), (ushort)(40000 + n), Ip4.Parse(dst), port);
                            SetTtl(a, ttl);
                            a.AsSpan(0, len).CopyTo(b);
                            Verdict va = traced.Process(a.AsSpan(0, len), 1_000_000_000L + n, ra, out PacketResult pa);
                            Verdict vb = plain.Process(b.AsSpan(0, len), 1_000_000_000L + n, rb, out PacketResult pb);
                            Assert.Equal(vb, va);
                            Assert.Equal(pb, pa);
                            Assert.Equal(b, a);
                            Assert.Equal(rb, ra);
                            Assert.Equal(va, traced.Log!.Records[^1].Verdict);
                            // The verdict record follows the record of the stage that decided, which agrees with it.
                            StageRecord decided = traced.Log.Records[^2];
                            if (decided.Stage is not (PipelineStage.Parse or PipelineStage.Masquerade))
                                Assert.True(decided.Verdict == va, $"{src} -> {dst}:{port}/{proto} TTL {ttl}: {decided.Stage} recorded {decided.Verdict}, the verdict is {va}");
                            n++;
                        }
        Assert.Equal(3 * 6 * 6 * 3 * 2, n);
    }

    static void SetTtl(byte[] frame, byte ttl)
    {
        Span<byte> ip = frame.AsSpan(Ethernet.HeaderLength, Ipv4Header.MinLength);
        ip[Ipv4Header.TtlOffset] = ttl;
        ip[Ipv4Header.ChecksumOffset] = 0;
        ip[Ipv4Header.ChecksumOffset + 1] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.ChecksumOffset), Checksum.Compute(ip));
    }

    public static TheoryData<string> PlainCases()
    {
        var d = new TheoryData<string>();
        foreach (FixtureBuilder.Case c in FixtureBuilder.Cases.All())
            if (!File.Exists(Path.Combine(Repo.Cases, c.Id, "args"))) d.Add(c.Id);
        return d;
    }

    [Theory]
    [MemberData(nameof(PlainCases))]
    public void Tracing_every_frame_of_a_case_changes_no_output(string id)
    {
        // Every frame recorded (fragments, options, ICMP errors, SCTP, host ports, link-layer decisions) against none.
        using var scratch = new TempDir("traced");
        string tmp = scratch.Path;
        string[] Replay(bool trace)
        {
            MapSet maps = DataPlane.Kubernetes.ControlPlane.LoadAndCompile(Repo.Cluster, FixtureBuilder.Case.Node);
            using var p = new PacketPipeline(new MapSetHolder(maps), new PipelineOptions { Seed = FixtureBuilder.Case.Seed, CtCapacity = 1 << 12 });
            if (trace) p.Log = new StageLog();
            string o = Path.Combine(tmp, $"{trace}.pcap"), v = Path.Combine(tmp, $"{trace}.jsonl");
            DataPlane.IO.Replay.ReplaySession.Run(Path.Combine(Repo.Cases, id, "input.pcap"), o, v, p);
            return [.. File.ReadAllLines(v), Convert.ToHexString(File.ReadAllBytes(o))];
        }
        Assert.Equal(Replay(trace: false), Replay(trace: true));
    }

    [Fact]
    public void The_dns_record_holds_the_question_and_the_answer()
    {
        var dns = new Dns.DnsWorld();
        dns.Pipeline.Log = new StageLog();
        var (v, _, _) = dns.SendUdp(DataPlane.Dns.DnsMessage.BuildQuery("nope.default.svc.cluster.local", DataPlane.Dns.DnsType.A, 7));
        Assert.Equal(Verdict.Answer, v);
        StageRecord[] log = dns.Pipeline.Log.Records.ToArray();
        Assert.Equal([PipelineStage.Parse, PipelineStage.Dns, PipelineStage.Verdict], Stages(log));
        StageRecord d = log[1];
        Assert.Equal(("nope.default.svc.cluster.local", DataPlane.Dns.DnsType.A, (byte)DataPlane.Dns.DnsRcode.NXDomain, (ushort)0, IpProto.Udp),
            (d.DnsQuestion.ToString(), d.DnsType, d.DnsRcode, d.DnsAnswers, d.ReplyProto));
        Assert.Equal(("dns", "nope.default.svc.cluster.local A: answered as the cluster DNS, NXDOMAIN, 0 answer(s), UDP 10.96.0.10:53 -> 10.244.1.20:40000"),
            TraceText.Lines(log, dns.Maps)[1]);
        Assert.Contains("\"qname\":\"nope.default.svc.cluster.local\",\"qtype\":\"A\",\"rcode\":\"NXDOMAIN\"", TraceText.Json(log, dns.Maps).ToJsonString(TraceText.JsonOptions));
    }

    [Fact]
    public void Echo_and_foreign_protocols_have_their_stage_records()
    {
        var (echo, ev, _) = _w.Trace("icmp", WhyWorld.PodClient, "10.96.0.10", 0);
        Assert.Equal(Verdict.Pass, ev);
        Assert.Equal((PipelineStage.Icmp, Verdict.Pass, (byte)8), (echo[1].Stage, echo[1].Verdict, echo[1].IcmpType));

        // GRE (47) to a service address: the foreign-protocol stage drops it, to anything else it passes.
        foreach (var (dst, expected) in new[] { ("10.96.0.10", Verdict.Drop), ("8.8.8.8", Verdict.Pass) })
        {
            var p = new PacketPipeline(new MapSetHolder(_w.Maps), new PipelineOptions { CtCapacity = 16 }) { Log = new StageLog() };
            byte[] frame = new byte[128];
            int len = FrameBuilder.FirstPacket(frame, IpProto.Udp, Ip4.Parse(WhyWorld.PodClient), 1, Ip4.Parse(dst), 2);
            frame[Ethernet.HeaderLength + Ipv4Header.ProtocolOffset] = 47;
            SetTtl(frame, 64);
            Assert.Equal(expected, p.Process(frame.AsSpan(0, len), 0, new byte[1024], out PacketResult _));
            StageRecord[] log = p.Log!.Records.ToArray();
            Assert.Equal([PipelineStage.Parse, PipelineStage.ForeignProtocol, PipelineStage.Verdict], Stages(log));
            Assert.Equal((expected, (byte)47), (log[1].Verdict, log[1].Proto));
            Assert.Equal("protocol", TraceText.Lines(log, _w.Maps)[1].Label);
        }
    }
}
