using System.Globalization;
using DataPlane.IO.Replay;
using DataPlane.IO.Text;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Tests.Text;

/// <summary><c>replay</c>'s summary in process, from a summary filled by hand and workers holding known connections.</summary>
public class ReplaySummaryTextTests
{
    const long Sec = 1_000_000_000;
    static readonly TextWorld W = new();

    static PacketPipeline Worker(int index, params ushort[] clientPorts)
    {
        var p = new PacketPipeline(new MapSetHolder(W.Maps), new PipelineOptions { Seed = 1, CtCapacity = 16 });
        byte[] frame = new byte[128], reply = new byte[1024];
        foreach (ushort port in clientPorts)
        {
            int len = FrameBuilder.FirstPacket(frame, IpProto.Tcp, Ip4.Parse("10.244.1.5"), port, Ip4.Parse("10.96.0.10"), 80);
            Assert.Equal(Verdict.Forward, p.Process(frame.AsSpan(0, len), 1 * Sec, reply, out PacketResult _));
        }
        return p;
    }

    static ReplaySummary Summary()
    {
        var s = new ReplaySummary { Frames = 9, Emitted = 6, LastTimestampNs = 2 * Sec, OutgoingCopies = 1 };
        s.ByVerdict[Verdict.Drop] = 2;
        s.ByVerdict[Verdict.Forward] = 6;
        s.ByVerdict[Verdict.Pass] = 1;
        s.ByReason[DropReason.CtInvalid] = 1;
        s.ByReason[DropReason.BadIpChecksum] = 1;
        s.Updates.Add("at +5s apply after.yaml: maps generation 2");
        return s;
    }

    static string Write(ReplaySummary s, IReadOnlyList<PacketPipeline> workers, bool quiet)
    {
        var w = new StringWriter { NewLine = "\n" };
        ReplaySummaryText.Write(w, "in.pcap", s, workers, quiet);
        return w.ToString();
    }

    [Fact]
    public void The_summary_lists_frames_flows_verdicts_reasons_updates_notes_and_live_flows()
    {
        // Verdicts in their fixed order (forward, reject, pass, drop, local, answer), only those seen; reasons by number
        // (bad-ip-checksum is 5, ct-invalid 18), whatever order they were counted in.
        Assert.Equal("""
            in.pcap: 9 frames, 6 emitted
            flows:
            verdicts: forward=6 pass=1 drop=2
            drop reasons: bad-ip-checksum=1 ct-invalid=1
            update: at +5s apply after.yaml: maps generation 2
            link: 1 outgoing copy not processed (Linux cooked capture, packet type outgoing: frames the node itself sent, already translated; verdict pass, reason outgoing-copy)
            conntrack: 1 live flows

            """.ReplaceLineEndings("\n"), Write(Summary(), [Worker(0, 40000)], quiet: false));
    }

    [Fact]
    public void Quiet_leaves_out_the_flows_and_several_workers_show_their_shares()
    {
        var s = new ReplaySummary { Frames = 3, Emitted = 3, LastTimestampNs = 2 * Sec };
        s.ByVerdict[Verdict.Forward] = 3;
        Assert.Equal("in.pcap: 3 frames, 3 emitted\nverdicts: forward=3\nconntrack: 3 live flows (2 + 1 over 2 workers)\n",
            Write(s, [Worker(0, 40000, 40001), Worker(1, 40002)], quiet: true));
        // Listed at the capture's last timestamp: by then (SYN lifetime 60 s) the connections have expired.
        s.LastTimestampNs = 100 * Sec;
        Assert.EndsWith("conntrack: 0 live flows (0 + 0 over 2 workers)\n", Write(s, [Worker(0, 40000, 40001), Worker(1, 40002)], quiet: true));
    }

    [Fact]
    public void Throughput_is_printed_from_ten_thousand_frames()
    {
        CultureInfo before = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        try
        {
            var s = new ReplaySummary { Frames = 20_000, Emitted = 0, PipelineTime = TimeSpan.FromSeconds(2), TotalTime = TimeSpan.FromSeconds(4) };
            Assert.EndsWith("conntrack: 0 live flows\nthroughput: pipeline 10,000 frames/s, whole run 5,000 frames/s\n", Write(s, [Worker(0)], quiet: true));
            Assert.EndsWith("throughput: pipeline 10,000 frames/s, whole run 5,000 frames/s (2 workers)\n", Write(s, [Worker(0), Worker(1)], quiet: true));
            s.Frames = 9_999;
            Assert.DoesNotContain("throughput", Write(s, [Worker(0)], quiet: true));
        }
        finally { CultureInfo.CurrentCulture = before; }
    }
}
