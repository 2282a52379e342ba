using DataPlane.FixtureBuilder;
using DataPlane.IO.Replay;
using DataPlane.IO.Text;
using DataPlane.IO.Trace;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Explain;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Trace;

/// <summary>
/// Every decision has the record of the stage that took it, and trace / replay --explain read those records only: an
/// SCTP packet is not "a later fragment", a TTL-exceeded reject is not "port unreachable", a packet to port 53 is not
/// DNS unless the DNS stage took it, and an outgoing copy explained is what the replay line says.
/// </summary>
public class StageRecordTests : IClassFixture<WhyWorldFixture>
{
    readonly WhyWorld _w;

    public StageRecordTests(WhyWorldFixture f) => _w = f.World;

    static PipelineStage[] Stages(StageRecord[] log) => [.. log.Select(r => r.Stage)];

    /// <summary>One frame through a fresh traced pipeline over the WhyWorld cluster, TTL as given.</summary>
    (StageRecord[] Log, Verdict Verdict, string Why) Run(byte proto, string src, string dst, ushort dport, byte ttl = 64)
    {
        var p = new PacketPipeline(new MapSetHolder(_w.Maps), new PipelineOptions { Seed = 1, CtCapacity = 16 }) { Log = new StageLog() };
        byte[] frame = new byte[256], reply = new byte[1024];
        int len = FrameBuilder.FirstPacket(frame, proto, Ip4.Parse(src), 40000, Ip4.Parse(dst), dport);
        SetTtl(frame, ttl);
        Verdict v = p.Process(frame.AsSpan(0, len), 1_000_000_000, reply, out PacketResult _);
        StageRecord[] log = p.Log!.Records.ToArray();
        return (log, v, _w.Explainer.Why(log));
    }

    static void SetTtl(byte[] frame, byte ttl)
    {
        Span<byte> ip = frame.AsSpan(Ethernet.HeaderLength, Ipv4Header.MinLength);
        ip[Ipv4Header.TtlOffset] = ttl;
        ip[Ipv4Header.ChecksumOffset] = 0;
        ip[Ipv4Header.ChecksumOffset + 1] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.ChecksumOffset), Checksum.Compute(ip));
    }

    static (MapSet Maps, Explainer Explainer) Bundled()
    {
        MapSet maps = ControlPlane.LoadAndCompile(Repo.Cluster, Case.Node);
        return (maps, new Explainer(ControlPlane.Resolve(ManifestLoader.Load(Repo.Cluster)), Case.Node, maps));
    }

    [Fact]
    public void An_sctp_trace_records_the_sctp_chain_and_is_not_a_later_fragment()
    {
        var (maps, explainer) = Bundled();
        var req = new TraceRequest(IpProto.Sctp, Ip4.Parse("203.0.113.2"), 40010, Ip4.Parse("192.168.0.2"), 30132);
        TraceResult t = Tracer.Trace(maps, req, 1, null, explainer);
        Assert.Equal(Verdict.Forward, t.Verdict);
        Assert.Equal([PipelineStage.Parse, PipelineStage.Conntrack, PipelineStage.ServiceLookup, PipelineStage.Sctp, PipelineStage.BackendSelect,
            PipelineStage.Ttl, PipelineStage.Masquerade, PipelineStage.ConntrackCreate, PipelineStage.Sctp, PipelineStage.Nat, PipelineStage.Verdict], Stages(t.Log));
        StageRecord tracked = t.Log[8];
        Assert.Equal((1u << DataPlane.Packets.Sctp.Init, SctpState.Closed, true), (tracked.SctpChunks, tracked.SctpState, tracked.HasEntry));
        string text = TraceResultText.Text(t);
        Assert.Contains("sctp        chunks [INIT]: CRC32c ok, may open a connection\n", text);
        Assert.Contains("sctp        chunks [INIT]: CRC32c ok, state CLOSED\n", text);
        Assert.DoesNotContain("fragment", text);
        Assert.StartsWith("192.168.0.2:30132/SCTP is default/diameter's NodePort", t.Why);
        Assert.EndsWith("→ forward", t.Why);

        // No endpoints: the SCTP chain's REJECT has its record too.
        TraceResult reject = Tracer.Trace(maps, new TraceRequest(IpProto.Sctp, Ip4.Parse("10.244.1.5"), 40000, Ip4.Parse("10.96.0.133"), 2905), 1, null, explainer);
        Assert.Equal(Verdict.Reject, reject.Verdict);
        Assert.Equal((PipelineStage.Reject, L4.IcmpDestUnreachable), (reject.Log[^2].Stage, reject.Log[^2].ReplyIcmpType));
        Assert.DoesNotContain("fragment", reject.Why);
        Assert.Contains("no backend → reject (ICMP port unreachable", reject.Why);
    }

    [Fact]
    public void A_bad_sctp_crc_is_the_sctp_stage_decision()
    {
        var (maps, explainer) = Bundled();
        var p = new PacketPipeline(new MapSetHolder(maps), new PipelineOptions { Seed = 1, CtCapacity = 16 }) { Log = new StageLog() };
        byte[] frame = new byte[256];
        int len = FrameBuilder.FirstPacket(frame, IpProto.Sctp, Ip4.Parse("10.244.1.5"), 5100, Ip4.Parse("10.96.0.132"), 3868);
        frame[len - 1] ^= 0x5A; // inside the INIT chunk: the CRC32c no longer matches
        Verdict v = p.Process(frame.AsSpan(0, len), 1_000_000_000, new byte[1024], out PacketResult r);
        StageRecord[] log = p.Log!.Records.ToArray();
        Assert.Equal((Verdict.Drop, DropReason.SctpBadChecksum), (v, r.Reason));
        Assert.Equal((PipelineStage.Sctp, Verdict.Drop, DropReason.SctpBadChecksum), (log[^2].Stage, log[^2].Verdict, log[^2].Reason));
        string why = explainer.Why(log);
        Assert.StartsWith("an SCTP packet [INIT] whose CRC32c does not match", why);
        Assert.EndsWith("→ drop (sctp-bad-checksum)", why);
    }

    [Fact]
    public void A_ttl_exceeded_reject_is_explained_as_time_exceeded_not_port_unreachable()
    {
        // A service without endpoints: ip_forward's TTL check comes before the FORWARD hook's REJECT.
        var (log, v, why) = Run(IpProto.Tcp, WhyWorld.PodClient, "10.96.0.20", 80, ttl: 1);
        Assert.Equal(Verdict.Reject, v);
        StageRecord reject = log.Single(r => r.Stage == PipelineStage.Reject);
        Assert.Equal((DropReason.TtlExceeded, L4.IcmpTimeExceeded, (byte)0, (byte)1), (reject.Reason, reject.ReplyIcmpType, reject.ReplyIcmpCode, reject.Ttl));
        Assert.Contains("TTL 1", why);
        Assert.Contains("time exceeded", why);
        Assert.DoesNotContain("port unreachable", why);
        Assert.EndsWith("→ reject (ICMP time exceeded)", why);
        var lines = TraceText.Lines(log, _w.Maps);
        Assert.Equal(("reject", "TTL 1: not forwarded, ICMP time exceeded (TTL exceeded in transit) 10.0.1.1 -> 10.0.1.5"), lines[^2]);
        Assert.Equal(("verdict", "reject: ICMP time exceeded (TTL exceeded in transit) 10.0.1.1 -> 10.0.1.5"), lines[^1]);

        // A service with endpoints: the TTL rule runs after the DNAT, the error comes from the frontend.
        var (log2, v2, why2) = Run(IpProto.Tcp, WhyWorld.PodClient, "10.96.0.10", 80, ttl: 1);
        Assert.Equal(Verdict.Reject, v2);
        StageRecord ttl = log2.Single(r => r.Stage == PipelineStage.Ttl);
        Assert.Equal((Verdict.Reject, DropReason.TtlExceeded, Ip4.Parse("10.96.0.10")), (ttl.Verdict, ttl.Reason, ttl.ReplySrcIp));
        Assert.StartsWith("10.96.0.10:80/TCP is default/web's frontend; the datagram arrived with TTL 1", why2);
        Assert.DoesNotContain("port unreachable", why2);
    }

    [Fact]
    public void A_packet_to_port_53_is_dns_only_when_the_dns_stage_took_it()
    {
        // SCTP to a pod's port 53: the log used to be parse + verdict, which read as DNS.
        var (log, v, why) = Run(IpProto.Sctp, WhyWorld.PodClient, "10.0.2.1", 53);
        Assert.Equal(Verdict.Pass, v);
        Assert.DoesNotContain(log, r => r.Stage == PipelineStage.Dns);
        Assert.DoesNotContain("a DNS message", why);
        Assert.DoesNotContain("cluster DNS", why);
        Assert.DoesNotContain(TraceText.Lines(log, _w.Maps), l => l.Label is "dns" or "fragment");
        Assert.StartsWith("10.0.2.1 is pod default/web-0's IP", why);

        var (udp, uv, uwhy) = Run(IpProto.Udp, WhyWorld.PodClient, "8.8.8.8", 53);
        Assert.Equal(Verdict.Pass, uv);
        Assert.DoesNotContain(udp, r => r.Stage == PipelineStage.Dns);
        Assert.DoesNotContain("cluster DNS", uwhy);
    }

    /// <summary>Frame <paramref name="frame"/> of a bundled case through replay --explain (cases without args).</summary>
    static ExplainedFrame ExplainCase(string id, long frame)
    {
        MapSet maps = ControlPlane.LoadAndCompile(Repo.Cluster, Case.Node);
        using var pipeline = new PacketPipeline(new MapSetHolder(maps), new PipelineOptions { Seed = Case.Seed, CtCapacity = 1 << 12 });
        using WorkerSet workers = WorkerSet.Over(pipeline);
        return ReplayExplain.Run(Path.Combine(Repo.Cases, id, "input.pcap"), frame, workers)!;
    }

    static string Why(ExplainedFrame f) => new Explainer(ControlPlane.Resolve(ManifestLoader.Load(Repo.Cluster)), Case.Node, f.Maps).Why(f.Log);

    [Fact]
    public void Replay_explain_of_an_outgoing_copy_gives_the_replay_lines_pass()
    {
        // 016-sll-any frame 2: a cooked capture's PACKET_OUTGOING copy; its replay line is pass / outgoing-copy.
        ExplainedFrame f = ExplainCase("016-sll-any", 2);
        Assert.Equal((Verdict.Pass, DropReason.OutgoingCopy), (f.Verdict, f.Result.Reason));
        Assert.Equal([PipelineStage.Link, PipelineStage.Verdict], Stages(f.Log));
        Assert.Equal(113, f.Log[0].LinkType);
        Assert.StartsWith("a cooked capture's copy of a frame the node sent", Why(f));
        Assert.EndsWith("→ pass (left to the host stack untranslated)", Why(f));
        var w = new StringWriter { NewLine = "\n" };
        ReplayExplainText.Write(w, f, Why(f), json: true);
        Assert.StartsWith("{\"frame\":2,\"verdict\":\"pass\",\"reason\":\"outgoing-copy\",", w.ToString());
    }

    [Fact]
    public void Fragments_have_the_fragment_stage_record()
    {
        ExplainedFrame first = ExplainCase("010-fragmented-udp", 1), later = ExplainCase("010-fragmented-udp", 2);
        StageRecord f = later.Log.Single(r => r.Stage == PipelineStage.Fragment);
        Assert.Equal((Verdict.Forward, true), (f.Verdict, f.HasEntry));
        Assert.Equal(first.Log.Single(r => r.Stage == PipelineStage.ConntrackCreate).FlowId, f.FlowId);
        Assert.NotEqual(0, f.FragmentField & Ipv4Header.FragmentOffsetMask);
        Assert.StartsWith("a later fragment (IP id ", Why(later));
        Assert.EndsWith("it follows that translation through the fragment map → forward", Why(later));

        // The orphan waits in the fragment hold for a first fragment that never comes: the end of the capture drops it.
        ExplainedFrame orphan = ExplainCase("010-fragmented-udp", 5);
        StageRecord o = orphan.Log.Single(r => r.Stage == PipelineStage.Defrag);
        Assert.Equal((Verdict.Drop, DropReason.FragReassemblyTimeout), (o.Verdict, o.Reason));
        Assert.Contains("did not complete within ipfrag_time", Why(orphan));
    }

    [Fact]
    public void An_icmp_error_sent_elsewhere_is_recorded_and_explained_as_invalid()
    {
        // 035-icmp-error-outer-destination: frames 2 and 3 go to another pod and another node, frame 4 to the node.
        ExplainedFrame toPod = ExplainCase("035-icmp-error-outer-destination", 2);
        StageRecord e = toPod.Log.Single(r => r.Stage == PipelineStage.IcmpError);
        Assert.Equal((Verdict.Drop, DropReason.CtInvalid, StageRule.IcmpOuterDaddrMismatch), (e.Verdict, e.Reason, e.Rule));
        Assert.True(e.HasEntry); // the record names the connection the error quotes
        string why = Why(toPod);
        Assert.Contains("but sent to 10.244.1.9, not to the quoted datagram's source 192.168.0.2", why);
        Assert.Contains("nf_conntrack_inet_error", why);
        Assert.EndsWith("→ drop (ct-invalid)", why);
        Assert.Contains(TraceText.Lines(toPod.Log, toPod.Maps), l => l.Label == "icmp-error" && l.Text.Contains("outer daddr != inner"));
        Assert.Equal(Verdict.Forward, ExplainCase("035-icmp-error-outer-destination", 4).Log.Single(r => r.Stage == PipelineStage.IcmpError).Verdict);
    }

    [Fact]
    public void Host_ports_and_ip_options_have_their_records()
    {
        // 034-node-answers: a closed TCP port (reset), a served port (22), a closed UDP port, options on a forwarded query.
        StageRecord Host(long n) => ExplainCase("034-node-answers", n).Log.Single(r => r.Stage == PipelineStage.HostPort);
        Assert.Equal((Verdict.Reject, StageRule.HostClosedTcpPort, IpProto.Tcp), (Host(1).Verdict, Host(1).Rule, Host(1).ReplyProto));
        Assert.Equal((Verdict.Pass, StageRule.HostPortServed), (Host(3).Verdict, Host(3).Rule));
        Assert.Equal((Verdict.Reject, StageRule.HostClosedUdpPort, L4.IcmpDestUnreachable), (Host(4).Verdict, Host(4).Rule, Host(4).ReplyIcmpType));
        ExplainedFrame reset = ExplainCase("034-node-answers", 1);
        Assert.Contains("nothing listens on 31999/TCP on the node, so its stack answers with a reset", Why(reset));
        Assert.Contains("22/TCP is served on the node (--host-ports)", Why(ExplainCase("034-node-answers", 3)));
        Assert.Contains("so its stack answers ICMP port unreachable", Why(ExplainCase("034-node-answers", 4)));

        ExplainedFrame opts = ExplainCase("034-node-answers", 5);
        StageRecord o = opts.Log.Single(r => r.Stage == PipelineStage.Options);
        Assert.Equal(Verdict.Forward, o.Verdict);
        Assert.True(o.IpHeaderLength > Ipv4Header.MinLength);
        Assert.NotEqual(0u, o.IpOptionTypes);
        Assert.Equal(PipelineStage.Verdict, opts.Log[^1].Stage);
    }

    [Fact]
    public void Foreign_protocols_have_their_record()
    {
        // 005-bad-input frame 8: an unsupported L4 protocol to a service address (dropped); frame 9: elsewhere (passed).
        ExplainedFrame drop = ExplainCase("005-bad-input", 8), pass = ExplainCase("005-bad-input", 9);
        StageRecord d = drop.Log.Single(r => r.Stage == PipelineStage.ForeignProtocol);
        Assert.Equal((Verdict.Drop, DropReason.UnsupportedL4), (d.Verdict, d.Reason));
        Assert.Contains("to a service address", Why(drop));
        StageRecord? p = pass.Log.FirstOrDefault(r => r.Stage == PipelineStage.ForeignProtocol);
        if (p is { } fp) Assert.Equal(Verdict.Pass, fp.Verdict);
    }
}
