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
        return new ExplainedFrame(3, 1_500_000_000, LinkFrameKind.Received, v, r, p.Log!.Records.ToArray(), W.Maps);
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
    public void Frames_the_pipeline_never_saw_say_what_the_replay_did_with_them()
    {
        var outgoing = new ExplainedFrame(2, 0, LinkFrameKind.Outgoing, Verdict.Pass, default, [], W.Maps);
        string why = ReplayExplainText.Why(outgoing, W.Explainer);
        Assert.Equal("a cooked capture's copy of a frame the node sent: already translated on its way out, not processed again", why);
        Assert.Equal($"frame       2 at +0s\npacket      (not parsed)\nwhy         {why}\n", Write(outgoing, why, json: false));
        Assert.Equal("a link type the data plane does not read: not processed",
            ReplayExplainText.Why(outgoing with { Kind = LinkFrameKind.Unsupported }, W.Explainer));
        ExplainedFrame traced = Traced();
        Assert.Equal(W.Explainer.Why(traced.Log), ReplayExplainText.Why(traced, W.Explainer));
    }
}
