using DataPlane.IO;
using DataPlane.IO.Pcap;
using DataPlane.IO.Replay;
using DataPlane.IO.Text;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Tests.Text;

/// <summary><c>replay --explain</c>'s view in process: frame line, the packet as it arrived, the stage log, why.</summary>
public class ReplayExplainTextTests
{
    static readonly TextWorld W = new();

    static ExplainedFrame Traced()
    {
        var p = new PacketPipeline(new MapSetHolder(W.Maps), new PipelineOptions { Seed = 1, CtCapacity = 16 }) { Log = new StageLog() };
        byte[] frame = new byte[128], reply = new byte[1024];
        int len = FrameBuilder.Write(frame, IpProto.Tcp, Ip4.Parse("10.244.1.5"), 40000, Ip4.Parse("10.96.0.30"), 80, L4.TcpSyn);
        Verdict v = p.Process(frame.AsSpan(0, len), 1_000_000_000, reply, out PacketResult r);
        return new ExplainedFrame(3, 1_500_000_000, v, r, p.Log!.Records.ToArray(), W.Maps);
    }

    static string Write(ExplainedFrame f, string why, bool json)
    {
        var w = new StringWriter { NewLine = "\n" };
        ReplayExplainText.Write(w, f, why, json);
        return w.ToString();
    }

    [Fact]
    public void The_text_starts_with_the_frame_and_the_packet_as_it_arrived()
    {
        // The packet line comes from the parse record: no [SYN], unlike trace's line for the packet it built.
        Assert.Equal("""
            frame       3 at +1.5s
            packet      tcp 10.244.1.5:40000 -> 10.96.0.30:80
            parse       ok: tcp 10.244.1.5:40000 -> 10.96.0.30:80
            conntrack   miss: new connection
            service     default/empty:80  frontend flags [ClusterIp, MasqueradeOffCluster]
            candidates  (none)
            backend     none: reject
            reject      ICMP port unreachable 10.244.1.1 -> 10.244.1.5
            verdict     reject: ICMP port unreachable 10.244.1.1 -> 10.244.1.5
            why         because

            """.ReplaceLineEndings("\n"), Write(Traced(), "because", json: false));
    }

    [Fact]
    public void The_json_line_has_frame_verdict_reason_stages_why()
    {
        ExplainedFrame f = Traced();
        Assert.Equal($$"""{"frame":3,"verdict":"reject","reason":null,"stages":{{TraceText.Json(f.Log, f.Maps).ToJsonString(TraceText.JsonOptions)}},"why":"a → b"}""" + "\n",
            Write(f, "a → b", json: true));
        var drop = f with { Verdict = Verdict.Drop, Result = f.Result with { Reason = DropReason.BadIpChecksum } };
        Assert.StartsWith("{\"frame\":3,\"verdict\":\"drop\",\"reason\":\"bad-ip-checksum\",\"stages\":", Write(drop, "x", json: true));
    }

    [Fact]
    public void Frames_the_pipeline_never_saw_are_explained_from_the_link_layer_record()
    {
        // The replay's link layer records its own decision (ReplayBatch): the view and why read that record.
        var log = new StageLog();
        log.AddLink(Verdict.Pass, DropReason.OutgoingCopy, (ushort)LinkType.LinuxSll);
        var outgoing = new ExplainedFrame(2, 0, Verdict.Pass, new PacketResult { Verdict = Verdict.Pass, Reason = DropReason.OutgoingCopy }, log.Records.ToArray(), W.Maps);
        string why = ReplayExplainText.Why(outgoing, W.Explainer);
        Assert.Equal("a cooked capture's copy of a frame the node sent (packet type PACKET_OUTGOING): already translated on its way out, not processed again → pass (left to the host stack untranslated)", why);
        Assert.Equal("frame       2 at +0s\npacket      (not parsed)\n" +
            "link        link type LinuxSll (113): the capture's copy of a frame the node sent (PACKET_OUTGOING), already translated on its way out: pass\n" +
            $"verdict     pass: left to the host stack untouched\nwhy         {why}\n", Write(outgoing, why, json: false));
        Assert.StartsWith("{\"frame\":2,\"verdict\":\"pass\",\"reason\":\"outgoing-copy\",\"stages\":[{\"stage\":\"link\",\"verdict\":\"pass\",\"reason\":\"outgoing-copy\",\"linkType\":113}", Write(outgoing, why, json: true));

        log.AddLink(Verdict.Drop, DropReason.UnsupportedLinkType, 147);
        Assert.Equal("link type 147 is one the replay does not read as Ethernet: not processed → drop (unsupported-link-type)",
            ReplayExplainText.Why(outgoing with { Log = log.Records.ToArray() }, W.Explainer));
        ExplainedFrame traced = Traced();
        Assert.Equal(W.Explainer.Why(traced.Log), ReplayExplainText.Why(traced, W.Explainer));
    }
}
