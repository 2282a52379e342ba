using DataPlane.FixtureBuilder;
using DataPlane.IO.Pcap;
using DataPlane.IO.Replay;
using DataPlane.IO.Text;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Maps;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.IO;

/// <summary>
/// Issue 18 item 11: a capture taken with a snap length (<c>tcpdump -s 96</c>) used to mark every cut frame
/// <c>drop invalid-ipv4-length</c>, "proving" drops that never happened. A record whose captured length is below its
/// original length is decided from the headers it holds; where a header (or a payload the verdict reads) was cut, it
/// is <c>capture-truncated</c>, and the summary says how many frames the capture cut.
/// </summary>
public sealed class CaptureTruncationTests : IDisposable
{
    readonly TempDir _tmp = new("cut");

    public void Dispose() => _tmp.Dispose();

    static PacketPipeline NewPipeline() =>
        new(new MapSetHolder(ControlPlane.LoadAndCompile(Repo.Cluster, "node-1")), new PipelineOptions { Seed = 1 });

    /// <summary>A TCP segment with 300 bytes of data to default/api's cluster IP and a 200-byte UDP datagram to the DNS service (DNAT-ed to CoreDNS: it has endpoints).</summary>
    static readonly byte[][] Wire =
    [
        Frames.TcpFrame("10.244.1.5", 40000, "10.96.0.40", 443, Frames.Tcp.Syn, 1000, 0, new string('x', 300)),
        Frames.UdpFrame("10.244.1.6", 40001, "10.96.0.53", 53, new byte[200]),
    ];

    string Write(string name, int snap)
    {
        string path = Path.Combine(_tmp.Path, name);
        using var w = new CaptureWriter(path, snapLength: snap);
        for (int i = 0; i < Wire.Length; i++) w.Write(Wire[i], 1_000_000_000L + i * 1_000_000L);
        return path;
    }

    static List<(byte[] Data, int Original)> Read(string path)
    {
        var frames = new List<(byte[], int)>();
        using var r = new CaptureReader(path);
        while (r.TryRead(out CaptureFrame f)) frames.Add((f.Data.ToArray(), f.OriginalLength));
        return frames;
    }

    [Fact]
    public void Frames_cut_after_their_headers_get_the_verdicts_and_translation_of_the_whole_frames()
    {
        string whole = Write("whole.pcap", 65535), cut = Write("cut.pcap", 96);
        string wholeOut = Path.Combine(_tmp.Path, "whole-out.pcap"), cutOut = Path.Combine(_tmp.Path, "cut-out.pcap");
        string wholeV = Path.Combine(_tmp.Path, "whole.jsonl"), cutV = Path.Combine(_tmp.Path, "cut.jsonl");
        ReplaySummary ws = ReplaySession.Run(whole, wholeOut, wholeV, NewPipeline());
        ReplaySummary cs = ReplaySession.Run(cut, cutOut, cutV, NewPipeline());

        Assert.Equal(2, ws.ByVerdict.GetValueOrDefault(Verdict.Forward));
        Assert.Equal(2, cs.ByVerdict.GetValueOrDefault(Verdict.Forward));
        Assert.Empty(cs.ByReason);
        Assert.Equal(File.ReadAllLines(wholeV), File.ReadAllLines(cutV));

        // The output holds what the node sent, as cut as the capture holds it: the whole replay's frames, cut to the
        // same number of missing bytes, with their original lengths.
        var w = Read(wholeOut);
        var c = Read(cutOut);
        Assert.Equal(2, c.Count);
        for (int i = 0; i < 2; i++)
        {
            int missing = Wire[i].Length - 96;
            Assert.Equal(w[i].Data.Length, c[i].Original);
            Assert.Equal(w[i].Data.AsSpan(0, w[i].Data.Length - missing).ToArray(), c[i].Data);
        }
        // DNAT-ed to one of default/api's pod endpoints (an independent read of the cut output's IPv4 destination).
        string dst = new System.Net.IPAddress(c[0].Data.AsSpan(14 + 16, 4)).ToString();
        Assert.StartsWith("10.244.", dst);

        Assert.Equal(2, cs.CutFrames);
        string note = Assert.Single(ReplayNotes.Lines(cs), l => l.StartsWith("capture: ", StringComparison.Ordinal));
        Assert.Contains("the capture cut 2 frames short (snap length); all were decided from their headers", note);
        Assert.Equal(0, ws.CutFrames);
    }

    [Fact]
    public void Frames_cut_inside_their_L4_header_are_capture_truncated_and_counted()
    {
        // 40 bytes: Ethernet (14), IPv4 (20) and 6 bytes of the TCP or UDP header.
        string cut = Write("cut40.pcap", 40);
        string verdicts = Path.Combine(_tmp.Path, "cut40.jsonl");
        ReplaySummary s = ReplaySession.Run(cut, Path.Combine(_tmp.Path, "cut40-out.pcap"), verdicts, NewPipeline());
        Assert.Equal(2, s.ByReason.GetValueOrDefault(DropReason.CaptureTruncated));
        Assert.DoesNotContain(DropReason.InvalidIpv4Length, s.ByReason.Keys);
        Assert.All(File.ReadAllLines(verdicts), l => Assert.Contains("\"reason\":\"capture-truncated\"", l));
        string note = Assert.Single(ReplayNotes.Lines(s), l => l.StartsWith("capture: ", StringComparison.Ordinal));
        Assert.Contains("cut 2 frames short (snap length); 0 decided from their headers, 2 dropped capture-truncated", note);
    }

    [Fact]
    public void A_frame_cut_inside_its_IPv4_header_is_capture_truncated_not_a_bad_checksum()
    {
        string cut = Write("cut30.pcap", 30);
        ReplaySummary s = ReplaySession.Run(cut, Path.Combine(_tmp.Path, "cut30-out.pcap"), Path.Combine(_tmp.Path, "cut30.jsonl"), NewPipeline());
        Assert.Equal(2, s.ByReason.GetValueOrDefault(DropReason.CaptureTruncated));
        Assert.Single(s.ByReason);
    }

    [Fact]
    public void A_query_the_data_plane_answers_needs_its_whole_message()
    {
        // The DNS stage answers (--dns answer): it reads the query, which a cut record does not hold.
        var maps = ControlPlane.LoadAndCompile(Repo.Cluster, "node-1", new CompileOptions { Dns = new DnsOptions { Mode = DataPlane.Dns.DnsMode.Answer, ClusterDns = 0x0A600035 /* 10.96.0.53 */ } });
        using var p = new PacketPipeline(new MapSetHolder(maps));
        byte[] frame = Frames.UdpFrame("10.244.1.6", 40001, "10.96.0.53", 53, [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, (byte)'a', (byte)'p', (byte)'i', 0, 0, 1, 0, 1]);
        var reply = new byte[2048];
        Assert.Equal(Verdict.Answer, p.Process(frame.ToArray(), 1, reply, out PacketResult _));
        Assert.Equal(Verdict.Drop, p.Process(frame.ToArray(), 2, reply, out PacketResult r, capturedEnd: frame.Length - 4));
        Assert.Equal(DropReason.CaptureTruncated, r.Reason);
    }
}
