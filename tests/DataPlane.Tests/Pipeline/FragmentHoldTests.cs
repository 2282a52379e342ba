using System.Text.Json.Nodes;
using DataPlane.Dns;
using DataPlane.FixtureBuilder;
using DataPlane.IO.Pcap;
using DataPlane.IO.Replay;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Dns;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Pipeline;

/// <summary>
/// Fragments as the kernel's defrag (nf_defrag_ipv4 → ip_defrag) handles them, issue 18 items 6 and 10: a fragmented
/// DNS query is reassembled and answered like the unfragmented one, fragments that arrive before their first
/// fragment are held and translated once it comes (whatever the worker count), and the hold is bounded in frames,
/// bytes and time, with the kernel's rules for duplicates and overlaps.
/// </summary>
public class FragmentHoldTests
{
    const long S = 1_000_000_000;
    const long T0 = 5 * S;

    /// <summary>Splits an Ethernet + IPv4 frame into fragments carrying <paramref name="chunk"/> payload bytes each (a multiple of 8).</summary>
    static List<byte[]> Fragment(byte[] frame, int chunk)
    {
        int ihl = (frame[14] & 0xF) * 4;
        int total = (frame[16] << 8) | frame[17];
        byte[] payload = frame[(14 + ihl)..(14 + total)];
        var list = new List<byte[]>();
        for (int off = 0; off < payload.Length; off += chunk)
        {
            int len = Math.Min(chunk, payload.Length - off);
            byte[] f = [.. frame[..(14 + ihl)], .. payload.AsSpan(off, len)];
            Ip(f, off, len, more: off + len < payload.Length);
            list.Add(f);
        }
        return list;
    }

    /// <summary>A fragment header: payload length, offset in bytes, MF; the header checksum recomputed.</summary>
    static void Ip(byte[] f, int offset, int length, bool more)
    {
        int ihl = (f[14] & 0xF) * 4;
        int total = ihl + length;
        f[16] = (byte)(total >> 8); f[17] = (byte)total;
        ushort word = (ushort)((more ? 0x2000 : 0) | (offset / 8));
        f[20] = (byte)(word >> 8); f[21] = (byte)word;
        f[24] = f[25] = 0;
        ushort c = Frames.InternetChecksum(f.AsSpan(14, ihl));
        f[24] = (byte)(c >> 8); f[25] = (byte)c;
    }

    /// <summary>A fragment of <paramref name="length"/> payload bytes at <paramref name="offset"/> of datagram <paramref name="id"/> to the ClusterIP.</summary>
    static byte[] Piece(ushort id, int offset, int length, bool more, string dst = "10.96.0.10")
    {
        byte[] f = Frames.UdpFrame("10.244.1.5", 5000, dst, 80, new byte[Math.Max(0, length - 8)], 64, id);
        Array.Resize(ref f, 14 + 20 + length);
        Ip(f, offset, length, more);
        return f;
    }

    sealed record Replayed(JsonObject[] Lines, List<(byte[] Bytes, long Ns)> Out);

    /// <summary>Replays <paramref name="frames"/> (at their times) on <paramref name="workers"/> workers over <paramref name="maps"/>.</summary>
    static Replayed Replay(MapSet maps, IEnumerable<(byte[] Frame, long Ns)> frames, int workers = 1, PipelineOptions? options = null)
    {
        using var dir = new TempDir("frag");
        string input = Path.Combine(dir.Path, "in.pcap"), output = Path.Combine(dir.Path, "out.pcap"), verdicts = Path.Combine(dir.Path, "out.jsonl");
        using (var w = new CaptureWriter(input))
            foreach (var (f, ns) in frames) w.Write(f, ns);
        using (var set = new WorkerSet(new MapSetHolder(maps), options ?? new PipelineOptions { CtCapacity = 1 << 12 }, workers))
            ReplaySession.Run(input, output, verdicts, set);
        var outs = new List<(byte[], long)>();
        using (var r = new CaptureReader(output))
            while (r.TryRead(out CaptureFrame cf)) outs.Add((cf.Data.ToArray(), cf.TimestampNs));
        return new Replayed([.. File.ReadAllLines(verdicts).Select(l => JsonNode.Parse(l)!.AsObject())], outs);
    }

    static long FrameOf(JsonObject line) => (long)line["frame"]!;
    static string VerdictOf(JsonObject line) => (string)line["verdict"]!;
    static string? ReasonOf(JsonObject line) => (string?)line["reason"];

    // ---- item 6: a fragmented query to the DNS address

    public static TheoryData<int[], int> DnsOrders() => new()
    {
        { [0, 1, 2], 1 }, // in order: the last fragment completes it
        { [2, 1, 0], 1 }, // last first: the first fragment completes it
        { [1, 2, 0], 3 }, // the first fragment last, on three workers
        { [2, 0, 1], 2 }, // the middle one completes it, on two workers
    };

    [Theory]
    [MemberData(nameof(DnsOrders))]
    public void A_fragmented_query_to_the_DNS_address_is_answered_once_like_the_unfragmented_query(int[] order, int workers)
    {
        // Issue 18 item 6: the first fragment was REJECTed (port unreachable) and the second dropped
        // frag-first-not-seen, while the same query unfragmented is answered. Here the query, split in three
        // fragments and sent in any order, is reassembled and gets the unfragmented query's answer, byte for byte.
        var world = new DnsWorld();
        byte[] query = new byte[256];
        int len = DnsFrames.Udp(query, DnsWorld.Client, 40000, world.Zone.Address, DnsMessage.BuildQuery("web.default.svc.cluster.local", DnsType.A, 0x4242, 1232));
        query = query[..len];
        Replayed whole = Replay(world.Maps, [(query, T0)]);
        Assert.Equal("answer", VerdictOf(whole.Lines[0]));
        byte[] answer = Assert.Single(whole.Out).Bytes;

        List<byte[]> pieces = Fragment(query, 24);
        Assert.Equal(3, pieces.Count);
        Replayed split = Replay(world.Maps, order.Select(i => (pieces[i], T0)), workers);
        var (bytes, ns) = Assert.Single(split.Out);
        Assert.Equal(answer, bytes);
        Assert.Equal(T0, ns);
        // One line per fragment: the one that completed the datagram carries the answer, the others point to it.
        Assert.Equal(3, split.Lines.Length);
        JsonObject answered = Assert.Single(split.Lines, l => VerdictOf(l) == "answer");
        Assert.Equal(3, FrameOf(answered)); // the third to arrive completes it
        // ... and reads as the unfragmented query's line.
        answered.Remove("frame");
        whole.Lines[0].Remove("frame");
        Assert.Equal(whole.Lines[0].ToJsonString(), answered.ToJsonString());
        Assert.Equal([1, 2], split.Lines.Where(l => VerdictOf(l) == "reassembled").Select(FrameOf).Order());
        Assert.All(split.Lines.Where(l => VerdictOf(l) == "reassembled"), l => Assert.Equal(3, (long)l["reassembled_into"]!));
    }

    [Fact]
    public void A_fragmented_datagram_to_the_DNS_address_on_another_port_is_translated_as_any_datagram()
    {
        // Held whole only while it may be a query: its first fragment names port 5353, so it is released as any
        // datagram to a service address is (here no frontend listens there: the pipeline decides as for any packet).
        var world = new DnsWorld();
        byte[] frame = new byte[256];
        int len = DnsFrames.Udp(frame, DnsWorld.Client, 40000, world.Zone.Address, new byte[40], dport: 5353);
        List<byte[]> pieces = Fragment(frame[..len], 24);
        Replayed r = Replay(world.Maps, [(pieces[1], T0), (pieces[0], T0 + 1)]);
        Assert.Equal([2, 1], r.Lines.Select(FrameOf));
        Assert.Equal(2, (long)r.Lines[1]["released_by"]!);
        Assert.DoesNotContain(r.Lines, l => VerdictOf(l) == "reassembled");
    }

    // ---- item 10: fragments before their first fragment

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Fragments_of_a_ClusterIP_datagram_arriving_last_first_are_all_translated_once_the_first_arrives(int workers)
    {
        // Issue 18 item 10: fragments before the first were dropped frag-first-not-seen. Now they are held, and when the
        // first comes the three leave together, first fragment then the held ones in offset order (what the kernel
        // sends after reassembly, ip_do_fragment), at the first's time: byte for byte what the in-order datagram gives.
        MapSet maps = TestWorld.Build();
        byte[] datagram = Frames.UdpFrame("10.244.1.5", 5000, "10.96.0.10", 80, [.. Enumerable.Range(0, 3000).Select(i => (byte)i)], 64, 0x3333);
        List<byte[]> pieces = Fragment(datagram, 1480);
        Replayed inOrder = Replay(maps, pieces.Select(p => (p, T0)));
        Assert.Equal(3, inOrder.Out.Count);
        Assert.All(inOrder.Lines, l => Assert.Equal("forward", VerdictOf(l)));

        Replayed lastFirst = Replay(maps, [(pieces[2], T0 - 2 * S), (pieces[1], T0 - S), (pieces[0], T0)], workers);
        Assert.Equal(inOrder.Out.Select(o => o.Bytes), lastFirst.Out.Select(o => o.Bytes));
        Assert.All(lastFirst.Out, o => Assert.Equal(T0, o.Ns));
        // Lines: the first fragment's, then the released ones in the order they left (offset order), each naming it.
        Assert.Equal([3, 2, 1], lastFirst.Lines.Select(FrameOf));
        Assert.All(lastFirst.Lines, l => Assert.Equal("forward", VerdictOf(l)));
        Assert.Null(lastFirst.Lines[0]["released_by"]);
        Assert.All(lastFirst.Lines.Skip(1), l => Assert.Equal(3, (long)l["released_by"]!));
        Assert.All(lastFirst.Lines, l => Assert.Equal(inOrder.Lines[0]["out"]!.ToJsonString(), l["out"]!.ToJsonString()));
    }

    [Fact]
    public void Fragments_to_an_address_that_is_no_service_are_not_held()
    {
        // Not ours: the pipeline passes it on arrival, as before.
        Replayed r = Replay(TestWorld.Build(), [(Piece(7, 1480, 100, more: false, dst: "10.244.2.99"), T0)]);
        Assert.Equal("pass", VerdictOf(Assert.Single(r.Lines)));
    }

    [Fact]
    public void A_held_fragment_is_dropped_when_its_datagram_does_not_complete_within_ipfrag_time()
    {
        // ip_expire, 30 s (net.ipv4.ipfrag_time) after the datagram's first fragment to arrive; the frame that finds
        // the timer run out sees the drop line written before its own.
        MapSet maps = TestWorld.Build();
        byte[] other = Frames.UdpFrame("10.244.1.6", 6000, "10.96.0.10", 80, [1, 2, 3, 4]);
        Replayed r = Replay(maps, [(Piece(9, 1480, 104, more: true), T0), (other, T0 + 29 * S), (other, T0 + 30 * S)]);
        Assert.Equal([2, 1, 3], r.Lines.Select(FrameOf));
        Assert.Equal(("drop", "frag-reassembly-timeout"), (VerdictOf(r.Lines[1]), ReasonOf(r.Lines[1])));

        // Unit level: the hold counts it under its reason.
        var hold = new FragmentHold();
        byte[] f = Piece(9, 1480, 104, more: true);
        Assert.Equal(FragmentAction.Held, hold.Offer(f, FrameKey.Read(f), T0, 1, maps));
        Assert.Equal(0, hold.ExpireDue(T0 + 30 * S - 1));
        Assert.Equal(1, hold.ExpireDue(T0 + 30 * S));
        Assert.Equal(1, hold.DroppedTag(0, out DropReason reason));
        Assert.Equal(DropReason.FragReassemblyTimeout, reason);
        Assert.Equal(1, hold.Counters.Reasons(DropReason.FragReassemblyTimeout));
        Assert.Equal(0, hold.HeldFrames);
    }

    [Fact]
    public void A_full_hold_refuses_new_fragments_with_a_named_reason_and_evicts_nothing()
    {
        // ipfrag_high_thresh: room for four frames here. The fifth datagram's fragment is refused (the kernel's rule
        // since 4.17: no eviction), counted; the four held ones are intact and leave with their first fragments.
        MapSet maps = TestWorld.Build();
        var hold = new FragmentHold(4 * FragmentHold.SlotSize);
        for (ushort id = 1; id <= 4; id++)
        {
            byte[] f = Piece(id, 1480, 100, more: false);
            Assert.Equal(FragmentAction.Held, hold.Offer(f, FrameKey.Read(f), T0, id, maps));
        }
        byte[] fifth = Piece(5, 1480, 100, more: false);
        Assert.Equal(FragmentAction.Drop, hold.Offer(fifth, FrameKey.Read(fifth), T0, 5, maps));
        Assert.Equal(DropReason.FragHoldFull, hold.Reason);
        Assert.Equal(1, hold.Counters.Reasons(DropReason.FragHoldFull));
        Assert.Equal(4, hold.HeldFrames);
        byte[] first = Piece(1, 0, 1480, more: true);
        Assert.Equal(FragmentAction.Release, hold.Offer(first, FrameKey.Read(first), T0, 6, maps));
        Assert.Equal(1, hold.ReleasedCount);
        hold.Released(0, out long tag);
        Assert.Equal(1, tag);
        hold.EndRelease();
        Assert.Equal(3, hold.HeldFrames);
        Assert.Equal(0, hold.Datagrams - 3); // datagram 1 is complete: forgotten

        // Through a replay with a small hold: the refused frame's line says why, in frame order.
        var frames = Enumerable.Range(1, 5).Select(i => (Piece((ushort)i, 1480, 100, more: false), T0)).ToList();
        Replayed r = Replay(maps, frames, options: new PipelineOptions { CtCapacity = 1 << 12, FragmentHoldBytes = 4 * FragmentHold.SlotSize });
        Assert.Equal(("drop", "frag-hold-full"), (VerdictOf(r.Lines[0]), ReasonOf(r.Lines[0])));
        Assert.Equal(5, FrameOf(r.Lines[0]));
    }

    [Fact]
    public void Duplicates_are_dropped_alone_and_overlaps_kill_the_datagram_as_the_kernel_does()
    {
        MapSet maps = TestWorld.Build();
        var hold = new FragmentHold();
        FragmentAction Offer(byte[] f, long tag) => hold.Offer(f, FrameKey.Read(f), T0, tag, maps);

        // inet_frag_queue_insert: a fragment within what is held is IPFRAG_DUP, dropped alone.
        Assert.Equal(FragmentAction.Held, Offer(Piece(1, 1480, 1480, more: true), 1));
        Assert.Equal(FragmentAction.Drop, Offer(Piece(1, 1480, 1480, more: true), 2));
        Assert.Equal(DropReason.FragDuplicate, hold.Reason);
        Assert.Equal(0, hold.DroppedCount);
        Assert.Equal(1, hold.HeldFrames);

        // Any other overlap (RFC 5722): the fragment and the whole datagram go (ReasmOverlaps).
        Assert.Equal(FragmentAction.Drop, Offer(Piece(1, 1400, 160, more: true), 3));
        Assert.Equal(DropReason.FragOverlap, hold.Reason);
        Assert.Equal(1, hold.DroppedCount);
        Assert.Equal(1, hold.DroppedTag(0, out DropReason why));
        Assert.Equal(DropReason.FragOverlap, why);
        Assert.Equal((0, 0), (hold.HeldFrames, hold.Datagrams));

        // ip_frag_queue's end rules: bytes beyond the last fragment's end discard the datagram.
        Assert.Equal(FragmentAction.Held, Offer(Piece(2, 1480, 520, more: false), 4));
        Assert.Equal(FragmentAction.Drop, Offer(Piece(2, 2000, 480, more: true), 5));
        Assert.Equal(DropReason.FragInvalid, hold.Reason);
        Assert.Equal(1, hold.DroppedCount);
        Assert.Equal(0, hold.HeldFrames);

        // After the first fragment has run, a duplicate of it is still a duplicate (the datagram's ranges are kept).
        Assert.Equal(FragmentAction.Process, Offer(Piece(3, 0, 1480, more: true), 6));
        Assert.Equal(FragmentAction.Drop, Offer(Piece(3, 0, 1480, more: true), 7));
        Assert.Equal(DropReason.FragDuplicate, hold.Reason);
        Assert.Equal(FragmentAction.Process, Offer(Piece(3, 1480, 100, more: false), 8));
        Assert.Equal(0, hold.Datagrams); // complete: forgotten
    }

    [Fact]
    public void Held_and_dropped_frames_are_counted_once_in_the_summary()
    {
        // Every input frame is counted once, by where it finally went: released ones as forwarded, refused and timed
        // out ones under their reasons (the hold's counters join the workers').
        MapSet maps = TestWorld.Build();
        using var dir = new TempDir("fragsum");
        string input = Path.Combine(dir.Path, "in.pcap");
        using (var w = new CaptureWriter(input))
        {
            w.Write(Piece(1, 1480, 100, more: false), T0);
            w.Write(Piece(1, 0, 1480, more: true), T0);
            w.Write(Piece(2, 1480, 100, more: false), T0);
        }
        using var set = new WorkerSet(new MapSetHolder(maps), new PipelineOptions { CtCapacity = 1 << 12 }, 2);
        ReplaySummary s = ReplaySession.Run(input, null, null, set);
        Assert.Equal(3, s.Frames);
        Assert.Equal(2, s.ByVerdict[Verdict.Forward]);
        Assert.Equal(1, s.ByVerdict[Verdict.Drop]);
        Assert.Equal(1, s.ByReason[DropReason.FragReassemblyTimeout]);
    }
    [Fact]
    public void Replay_explain_of_a_held_fragment_waits_for_its_first_fragment_and_explains_what_became_of_it()
    {
        // Frame 1 beats its first fragment (frame 3): the explanation is of where it went, released after frame 3.
        MapSet maps = TestWorld.Build();
        byte[] datagram = Frames.UdpFrame("10.244.1.5", 5000, "10.96.0.10", 80, new byte[3000], 64, 0x4444);
        List<byte[]> pieces = Fragment(datagram, 1480);
        using var dir = new TempDir("fragexplain");
        string input = Path.Combine(dir.Path, "in.pcap");
        using (var w = new CaptureWriter(input))
        {
            w.Write(pieces[2], T0);
            w.Write(Frames.UdpFrame("10.244.1.6", 6000, "10.96.0.10", 80, [1, 2, 3, 4]), T0);
            w.Write(pieces[0], T0);
            w.Write(pieces[1], T0);
        }
        using var set = new WorkerSet(new MapSetHolder(maps), new PipelineOptions { CtCapacity = 1 << 12 });
        ExplainedFrame? e = ReplayExplain.Run(input, 1, set);
        Assert.NotNull(e);
        Assert.Equal(Verdict.Forward, e.Verdict);
        Assert.Contains(e.Log, r => r.Stage == PipelineStage.Fragment);

        // A fragment that never leaves the hold before the capture ends: explained as the timeout.
        using var set2 = new WorkerSet(new MapSetHolder(maps), new PipelineOptions { CtCapacity = 1 << 12 });
        string lone = Path.Combine(dir.Path, "lone.pcap");
        using (var w = new CaptureWriter(lone)) w.Write(pieces[1], T0);
        ExplainedFrame? t = ReplayExplain.Run(lone, 1, set2);
        Assert.NotNull(t);
        Assert.Equal((Verdict.Drop, DropReason.FragReassemblyTimeout), (t.Verdict, t.Result.Reason));
        var explainer = new DataPlane.Kubernetes.Explain.Explainer(DataPlane.Kubernetes.ControlPlane.Resolve(DataPlane.Kubernetes.Manifests.ManifestLoader.Load(Repo.Cluster)), Case.Node, maps);
        Assert.Contains("ipfrag_time", explainer.Why(t.Log), StringComparison.Ordinal);
    }
}
