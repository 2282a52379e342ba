using System.Globalization;
using DataPlane.IO.Pcap;
using DataPlane.IO.Replay;
using DataPlane.IO.Text;
using DataPlane.Kubernetes;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

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
        s.ByVerdict[Verdict.Forward] = 5;
        s.ByVerdict[Verdict.Reject] = 1;
        s.ByVerdict[Verdict.Pass] = 1;
        s.ByReason[DropReason.CtInvalid] = 1;
        s.ByReason[DropReason.BadIpChecksum] = 1;
        s.RejectReasons[DropReason.TtlExceeded] = 1;
        s.Updates.Add("+5s apply after.yaml, first met by frame 7 (+10s): generation 2, 1 UDP connection to removed endpoints cleared");
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
        // (bad-ip-checksum is 5, ct-invalid 18), whatever order they were counted in; a reject's reason under its own
        // heading, not among the drops; one of anything is singular.
        Assert.Equal("""
            in.pcap: 9 frames, 6 emitted
            flows:
            verdicts: forward=5 reject=1 pass=1 drop=2
            drop reasons: bad-ip-checksum=1 ct-invalid=1
            reject reasons: ttl-exceeded=1
            update: +5s apply after.yaml, first met by frame 7 (+10s): generation 2, 1 UDP connection to removed endpoints cleared
            link: 1 outgoing copy not processed (Linux cooked capture, packet type outgoing: frames the node itself sent, already translated; verdict pass, reason outgoing-copy)
            conntrack: 1 live flow

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
    public void One_frame_is_one_frame()
    {
        var s = new ReplaySummary { Frames = 1, Emitted = 1, LastTimestampNs = 2 * Sec };
        s.ByVerdict[Verdict.Forward] = 1;
        Assert.Equal("in.pcap: 1 frame, 1 emitted\nverdicts: forward=1\nconntrack: 0 live flows\n", Write(s, [Worker(0)], quiet: true));
    }

    [Fact]
    public void An_update_is_reported_at_its_scheduled_time_with_the_frame_that_first_met_it()
    {
        // Three frames of case 001 at +0 s, +1 s and +10 s: the +5s update is applied before the third, at +10 s; the
        // +20s one never is.
        using var tmp = new TempDir("summary-text");
        string input = tmp.File("gap.pcap");
        using (var reader = new CaptureReader(Repo.Path_("pcaps", "cases", "001-clusterip-tcp", "input.pcap")))
        using (var writer = new CaptureWriter(input))
        {
            long[] at = [0, 1 * Sec, 10 * Sec];
            for (int i = 0; i < at.Length && reader.TryRead(out CaptureFrame f); i++) writer.Write(f.Data, 1_700_000_000 * Sec + at[i]);
        }
        var p = new PacketPipeline(new MapSetHolder(ControlPlane.LoadAndCompile(Repo.Cluster, "node-1")), new PipelineOptions { Seed = 1, CtCapacity = 16 });
        using var owner = WorkerSet.Over(p);
        ReplaySummary s = ReplaySession.Run(input, null, null, p,
            [new ReplayUpdate(5 * Sec, "apply after.yaml", () => null), new ReplayUpdate(20 * Sec, "apply later.yaml", () => null)]);
        Assert.Equal([
            "+5s apply after.yaml, first met by frame 3 (+10s): generation 1, 0 UDP connections to removed endpoints cleared",
            "+20s apply later.yaml: not applied, the capture ends before then",
        ], s.Updates);
    }

    [Fact]
    public void Frames_without_a_tuple_are_named_by_where_parsing_stopped()
    {
        var report = new FlowReport();
        long frame = 0;
        void Add(Verdict v, DropReason reason, byte proto = 0) =>
            report.Add(++frame, new PacketResult { Verdict = v, Reason = reason, Proto = proto }, W.Maps);
        Add(Verdict.Pass, DropReason.None);
        Add(Verdict.Pass, DropReason.None);
        Add(Verdict.Drop, DropReason.TruncatedEthernet);
        Add(Verdict.Drop, DropReason.TruncatedIpv4);
        Add(Verdict.Drop, DropReason.InvalidIpv4Header);
        Add(Verdict.Drop, DropReason.InvalidIpv4Length);
        Add(Verdict.Drop, DropReason.BadIpChecksum);
        Add(Verdict.Drop, DropReason.TruncatedL4, IpProto.Tcp);
        Add(Verdict.Drop, DropReason.InvalidL4Header, IpProto.Udp);
        Add(Verdict.Drop, DropReason.FragFirstNotSeen, IpProto.Udp);
        Add(Verdict.Drop, DropReason.SctpFragment, IpProto.Sctp);
        Add(Verdict.Drop, DropReason.TruncatedIcmpError, IpProto.Icmp);
        Add(Verdict.Pass, DropReason.None, 47);
        Add(Verdict.Drop, DropReason.UnsupportedLinkType);
        Add(Verdict.Pass, DropReason.OutgoingCopy);
        // The fragment hold decides before any parse: what is known is that they are fragments.
        Add(Verdict.Drop, DropReason.FragReassemblyTimeout);
        Add(Verdict.Reassembled, DropReason.None);
        var w = new StringWriter { NewLine = "\n" };
        report.Print(w);
        Assert.Equal("""
              (not IPv4)                                       pass  [2 frames, first #1]
              (truncated Ethernet header)                      drop (truncated-ethernet)  [1 frame, first #3]
              (IPv4, truncated header)                         drop (truncated-ipv4)  [1 frame, first #4]
              (IPv4, invalid header)                           drop (invalid-ipv4-header)  [1 frame, first #5]
              (IPv4, invalid total length)                     drop (invalid-ipv4-length)  [1 frame, first #6]
              (IPv4, bad header checksum)                      drop (bad-ip-checksum)  [1 frame, first #7]
              (IPv4 tcp, truncated header)                     drop (truncated-l4)  [1 frame, first #8]
              (IPv4 udp, invalid header)                       drop (invalid-l4-header)  [1 frame, first #9]
              (IPv4 udp fragment)                              drop (frag-first-not-seen)  [1 frame, first #10]
              (IPv4 sctp fragment)                             drop (sctp-fragment)  [1 frame, first #11]
              (IPv4 icmp error, truncated quote)               drop (truncated-icmp-error)  [1 frame, first #12]
              (IPv4 protocol 47)                               pass  [1 frame, first #13]
              (link type not understood)                       drop (unsupported-link-type)  [1 frame, first #14]
              (the node's own outgoing copies)                 pass (outgoing-copy)  [1 frame, first #15]
              (IPv4 fragment)                                  drop (frag-reassembly-timeout)  [1 frame, first #16]
              (IPv4 fragment of a reassembled datagram)        reassembled  [1 frame, first #17]

            """.ReplaceLineEndings("\n"), w.ToString());
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
