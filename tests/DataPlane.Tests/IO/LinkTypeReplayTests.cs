using System.Buffers.Binary;
using System.Text.Json.Nodes;
using DataPlane.FixtureBuilder;
using DataPlane.IO.Pcap;
using DataPlane.IO.Replay;
using DataPlane.IO.Text;
using DataPlane.Kubernetes;
using DataPlane.Maps;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.IO;

/// <summary>
/// Replays of captures as people take them: the real corpus files of other link types and of stacked VLAN tags
/// (pcaps/corpus, origins in its README), a link type we do not understand, and a capture taken on the client side.
/// Expected verdicts are read off the files' bytes (offsets noted), not from our parser.
/// </summary>
public sealed class LinkTypeReplayTests : IDisposable
{
    readonly TempDir _tmp = new("link");

    public void Dispose()
    {
        _tmp.Dispose();
    }

    static PacketPipeline NewPipeline() =>
        new(new MapSetHolder(ControlPlane.LoadAndCompile(Repo.Cluster, "node-1")), new PipelineOptions { CtCapacity = 1 << 12 });

    (ReplaySummary Summary, JsonObject[] Lines) Replay(string input)
    {
        string v = Path.Combine(_tmp.Path, "v.jsonl");
        ReplaySummary s = ReplaySession.Run(input, Path.Combine(_tmp.Path, "out.pcap"), v, NewPipeline());
        return (s, [.. File.ReadAllLines(v).Select(l => JsonNode.Parse(l)!.AsObject())]);
    }

    static string? In(JsonObject line) => line["in"] is JsonObject o ? $"{o["proto"]} {o["src"]} -> {o["dst"]}" : null;

    [Fact]
    public void Linux_cooked_capture_processes_the_received_frame_and_reports_the_two_outgoing_copies()
    {
        // Record 1: packet type 0 (HOST), protocol 0x0806 (ARP). Records 2 and 3: packet type 4 (OUTGOING), IPv4
        // (a DNS query and a TCP SYN the capturing host sent).
        var (s, lines) = Replay(CaptureCorpus.File("LinuxCookedCapture.pcap"));
        Assert.Equal(3, lines.Length);
        Assert.Equal(("pass", null, null), ((string)lines[0]["verdict"]!, (string?)lines[0]["reason"], In(lines[0])));
        for (int i = 1; i < 3; i++)
            Assert.Equal(("pass", "outgoing-copy", null), ((string)lines[i]["verdict"]!, (string?)lines[i]["reason"], In(lines[i])));
        Assert.Equal(2, s.OutgoingCopies);
        Assert.Empty(s.ByReason);
        Assert.Contains(ReplayNotes.Lines(s), l => l.StartsWith("link: 2 outgoing copies not processed", StringComparison.Ordinal));
    }

    [Fact]
    public void Raw_ipv4_capture_is_parsed_as_IPv4()
    {
        // One bare IPv4 packet: 192.168.1.100 -> 9.9.9.9, UDP 12345 -> 53 (bytes 12-23 of the record).
        var (s, lines) = Replay(CaptureCorpus.File("LINKTYPE_RAW_ipv4.pcap"));
        Assert.Single(lines);
        Assert.Equal("udp 192.168.1.100:12345 -> 9.9.9.9:53", In(lines[0]));
        Assert.Equal("pass", (string)lines[0]["verdict"]!);
        Assert.Empty(s.UnsupportedLinkTypes);
    }

    [Fact]
    public void Null_capture_reads_the_address_family_and_parses_the_IPv4_packet_behind_it()
    {
        // Record 1: AF 2 (little-endian), IPv4 127.0.0.1 TCP with header checksum 0 (loopback offload): the IPv4
        // parser reached it, so it is dropped for the checksum. Record 2: AF 24 (IPv6 on the BSDs): not IPv4, passed.
        var (_, lines) = Replay(CaptureCorpus.File("linktype_null_capture.pcap"));
        Assert.Equal(2, lines.Length);
        Assert.Equal(("drop", "bad-ip-checksum"), ((string)lines[0]["verdict"]!, (string?)lines[0]["reason"]));
        Assert.Equal(("pass", null, null), ((string)lines[1]["verdict"]!, (string?)lines[1]["reason"], In(lines[1])));
    }

    [Fact]
    public void Dot1ad_service_tag_with_customer_tag_is_looked_through()
    {
        // 0x88a8 (VID 1525) then 0x8100 (VID 30) then IPv4 ICMP echo 47.245.159.156 <-> 92.104.109.0.
        var (_, lines) = Replay(CaptureCorpus.File("dot1ad.pcap"));
        Assert.Equal(["icmp 47.245.159.156 -> 92.104.109.0", "icmp 92.104.109.0 -> 47.245.159.156"], lines.Select(In));
    }

    [Fact]
    public void Dot1ad_QinQ_ARP_is_passed_as_not_IPv4()
    {
        var (s, lines) = Replay(CaptureCorpus.File("802.1ad_QinQ.pcap"));
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.Equal(("pass", null, null), ((string)l["verdict"]!, (string?)l["reason"], In(l))));
        Assert.Equal(2, s.ByVerdict[Verdict.Pass]);
    }

    [Fact]
    public void Two_8021Q_tags_are_looked_through_and_a_bad_header_checksum_found_behind_them()
    {
        // twovlan.pcap was re-addressed without fixing the IPv4 header checksums (they sum to 0xdc76, not 0xffff):
        // finding that proves the parser reached the IPv4 header behind both tags.
        var (_, lines) = Replay(CaptureCorpus.File("twovlan.pcap"));
        Assert.Equal(6, lines.Length);
        Assert.All(lines, l => Assert.Equal("bad-ip-checksum", (string?)l["reason"]));

        // With the checksums repaired (IPv4 header at 14 + 2 * 4 = 22), every frame is parsed to its TCP tuple.
        string fixedPath = Path.Combine(_tmp.Path, "twovlan-fixed.pcap");
        var expected = new List<string>();
        using (var r = new CaptureReader(CaptureCorpus.File("twovlan.pcap")))
        using (var w = new CaptureWriter(fixedPath))
        {
            while (r.TryRead(out CaptureFrame f))
            {
                byte[] b = f.Data.ToArray();
                Span<byte> ip = b.AsSpan(22, 20);
                BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);
                BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Frames.InternetChecksum(ip));
                expected.Add($"tcp {ip[12]}.{ip[13]}.{ip[14]}.{ip[15]}:{BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(42))} -> " +
                             $"{ip[16]}.{ip[17]}.{ip[18]}.{ip[19]}:{BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(44))}");
                w.Write(b, f.TimestampNs);
            }
        }
        var (_, fixedLines) = Replay(fixedPath);
        Assert.Equal(expected, fixedLines.Select(In));
        Assert.All(fixedLines, l => Assert.Equal("pass", (string)l["verdict"]!));
    }

    [Fact]
    public void Frames_of_a_link_type_not_understood_are_dropped_counted_and_named()
    {
        string path = Path.Combine(_tmp.Path, "user0.pcap");
        using (var w = new CaptureWriter(path, (LinkType)147))
            for (int i = 0; i < 3; i++) w.Write(Frames.UdpFrame("10.244.1.5", 50000, "10.96.0.53", 53, [1, 2, 3]), 1_000_000_000L + i);
        var (s, lines) = Replay(path);
        Assert.All(lines, l => Assert.Equal(("drop", "unsupported-link-type"), ((string)l["verdict"]!, (string?)l["reason"])));
        Assert.Equal(3, s.UnsupportedLinkTypes[(LinkType)147]);
        Assert.Equal(3, s.ByReason[DropReason.UnsupportedLinkType]);
        Assert.Contains("link: 3 frames of link type 147 not understood (dropped, unsupported-link-type)", ReplayNotes.Lines(s));
    }

    [Fact]
    public void A_capture_taken_on_the_client_says_the_capture_point_explains_the_ct_invalid_drops()
    {
        // On the client, after reverse NAT: the SYN goes to the ClusterIP and the SYN-ACK comes back *from* it. The
        // data plane never sees the backend's reply, so the client's ACK finds its connection in SYN_SENT.
        const string C = "10.244.1.5", Vip = "10.96.0.10";
        string path = Path.Combine(_tmp.Path, "client-side.pcap");
        using (var w = new CaptureWriter(path))
        {
            w.Write(Frames.TcpFrame(C, 40500, Vip, 80, Frames.Tcp.Syn, 100, 0), 1_000_000_000);
            w.Write(Frames.TcpFrame(Vip, 80, C, 40500, Frames.Tcp.Syn | Frames.Tcp.Ack, 900, 101), 1_001_000_000);
            w.Write(Frames.TcpFrame(C, 40500, Vip, 80, Frames.Tcp.Ack, 101, 901), 1_002_000_000);
        }
        var (s, lines) = Replay(path);
        Assert.Equal("ct-invalid", (string?)lines[2]["reason"]);
        Assert.Equal(1, s.FromServiceAddress);
        string note = Assert.Single(ReplayNotes.Lines(s));
        Assert.StartsWith("capture point: 1 frame comes from a service address (first: tcp 10.96.0.10:80)", note);
        Assert.Contains("explains the 1 ct-invalid drop", note);

        // The same connection captured where the data plane sits (the backend answers) has no such note.
        string nodeSide = Path.Combine(_tmp.Path, "node-side.pcap");
        using (var w = new CaptureWriter(nodeSide))
        {
            w.Write(Frames.TcpFrame(C, 40500, Vip, 80, Frames.Tcp.Syn, 100, 0), 1_000_000_000);
            w.Write(Frames.TcpFrame("10.244.2.7", 8080, C, 40500, Frames.Tcp.Syn | Frames.Tcp.Ack, 900, 101), 1_001_000_000);
            w.Write(Frames.TcpFrame(C, 40500, Vip, 80, Frames.Tcp.Ack, 101, 901), 1_002_000_000);
        }
        var (s2, _) = Replay(nodeSide);
        Assert.Equal(0, s2.FromServiceAddress);
        Assert.Empty(ReplayNotes.Lines(s2));
    }
}
