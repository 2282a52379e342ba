using DataPlane.FixtureBuilder;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;
using static DataPlane.Tests.Infrastructure.TestWorld;

namespace DataPlane.Tests.Pipeline;

/// <summary>
/// State that must not leak or misroute: the fragment map expires on the packet clock, an out-of-window RST cannot
/// close a connection, an ICMP error with a bad checksum is not translated, and TTL 0/1 gets the kernel's ICMP time
/// exceeded from the right address.
/// </summary>
public class RobustnessTests
{
    const long S = 1_000_000_000;

    static byte[] FirstFragment(ushort id, string src = "10.244.1.5", ushort sport = 50000)
    {
        byte[] f = Frames.UdpFrame(src, sport, "10.96.0.10", 80, new byte[64], id: id);
        f[20] = 0x20; // more fragments, offset 0
        Fix(f);
        return f;
    }

    static byte[] LaterFragment(ushort id, string src = "10.244.1.5")
    {
        byte[] f = Frames.UdpFrame(src, 50000, "10.96.0.10", 80, new byte[64], id: id);
        f[20] = 0x00; f[21] = 0x09; // offset 72 bytes, last fragment: no ports in it
        Fix(f);
        return f;
    }

    static void Fix(byte[] f)
    {
        f[24] = f[25] = 0;
        ushort c = Frames.InternetChecksum(f.AsSpan(14, (f[14] & 0xF) * 4));
        f[24] = (byte)(c >> 8); f[25] = (byte)c;
    }

    // ---- fragment map expiry (ipfrag_time)

    [Fact]
    public void A_full_fragment_map_is_swept_on_the_packet_clock_and_fragments_work_again()
    {
        var p = NewPipeline(backends: 1);
        int cap = p.Options.FragmentCapacity;
        Assert.Equal(8192, cap);
        // 8192 datagrams whose last fragment never comes.
        for (int i = 0; i < cap; i++)
            Assert.Equal(Verdict.Forward, Run(p, FirstFragment((ushort)i), nowNs: 1 * S).V);
        Assert.Equal(cap, p.State.Fragments.Count);
        // Full of live datagrams: a new one is not remembered (the kernel's ipfrag_high_thresh), its tail dropped.
        Assert.Equal(Verdict.Forward, Run(p, FirstFragment(60000), nowNs: 2 * S).V);
        var (v, r, _) = Run(p, LaterFragment(60000), nowNs: 2 * S);
        Assert.Equal((Verdict.Drop, DropReason.FragFirstNotSeen), (v, r.Reason));
        // 30 s (ipfrag_time) after they were remembered, the stale datagrams go and new ones are tracked again.
        Assert.Equal(Verdict.Forward, Run(p, FirstFragment(60001), nowNs: 31 * S).V);
        Assert.Equal(1, p.State.Fragments.Count);
        Assert.Equal(Verdict.Forward, Run(p, LaterFragment(60001), nowNs: 31 * S).V);
        Assert.Equal(0, p.State.Fragments.Count);
        // A stale datagram's own tail is no longer matched either.
        Assert.Equal(DropReason.FragFirstNotSeen, Run(p, LaterFragment(5), nowNs: 31 * S).R.Reason);
    }

    [Fact]
    public void Fragment_map_keeps_live_entries_through_a_sweep()
    {
        var map = new FragmentMap(4);
        for (ushort id = 0; id < 4; id++)
            map.Remember(new FragmentKey(1, 2, id, 17), id, id + 1u, CtDirection.Original, id < 2 ? 0 : 20 * S);
        // At 40 s the first two (remembered at 0) have expired, the other two (at 20 s) have not.
        map.Remember(new FragmentKey(1, 2, 99, 17), 9, 10, CtDirection.Reply, 40 * S);
        Assert.Equal(3, map.Count);
        Assert.False(map.TryGet(new FragmentKey(1, 2, 0, 17), 40 * S, out _));
        Assert.True(map.TryGet(new FragmentKey(1, 2, 2, 17), 40 * S, out var e2));
        Assert.Equal((2, 3u), (e2.CtIndex, e2.FlowId));
        Assert.True(map.TryGet(new FragmentKey(1, 2, 3, 17), 40 * S, out var e3));
        Assert.Equal(3, e3.CtIndex);
        Assert.True(map.TryGet(new FragmentKey(1, 2, 99, 17), 40 * S, out var e99));
        Assert.Equal(CtDirection.Reply, e99.Direction);
        // Forgetting in any order keeps the rest findable.
        map.Forget(new FragmentKey(1, 2, 2, 17));
        Assert.True(map.TryGet(new FragmentKey(1, 2, 3, 17), 40 * S, out _));
        Assert.True(map.TryGet(new FragmentKey(1, 2, 99, 17), 40 * S, out _));
        Assert.Equal(2, map.Count);
    }

    // ---- RST window check (tcp_in_window)

    static (PacketPipeline P, uint Backend) Handshake(uint clientSeq = 1000, uint serverSeq = 5000)
    {
        var p = NewPipeline(backends: 3);
        var (v, r, o) = Run(p, Frames.TcpFrame("10.244.1.5", 40000, "10.96.0.10", 80, Frames.Tcp.Syn, clientSeq, 0), 1 * S);
        Assert.Equal(Verdict.Forward, v);
        uint be = r.OutDstIp;
        Assert.Equal(Verdict.Forward, Run(p, Frames.TcpFrame(Ip4.Format(be), 8080, "10.244.1.5", 40000, Frames.Tcp.Syn | Frames.Tcp.Ack, serverSeq, clientSeq + 1), 1 * S).V);
        Assert.Equal(Verdict.Forward, Run(p, Frames.TcpFrame("10.244.1.5", 40000, "10.96.0.10", 80, Frames.Tcp.Ack, clientSeq + 1, serverSeq + 1), 1 * S).V);
        return (p, be);
    }

    static byte[] Client(Frames.Tcp f, uint seq, uint ack, string data = "") => Frames.TcpFrame("10.244.1.5", 40000, "10.96.0.10", 80, f, seq, ack, data);

    [Theory]
    [InlineData(1000u + 1 + (1u << 31))] // half the sequence space away
    [InlineData(1000u + 1 + 300_000)]     // past the right edge (window 64 KiB, no scaling)
    [InlineData(4294667297u)]            // 1001 - 300 000 (mod 2^32): far below the left edge
    public void An_out_of_window_rst_from_the_client_is_invalid_and_leaves_the_connection_alone(uint seq)
    {
        var (p, be) = Handshake();
        var (v, r, _) = Run(p, Client(Frames.Tcp.Rst, seq, 0), 2 * S);
        Assert.Equal((Verdict.Drop, DropReason.CtInvalid), (v, r.Reason));
        int i = Enumerable.Range(0, p.Conntrack.Capacity).First(k => (p.Conntrack[k].Flags & CtFlags.Live) != 0);
        Assert.Equal(0, p.Conntrack[i].TcpFlagsOriginal & L4.TcpRst);
        // Past the close timeout (10 s), the connection is still there and the next segment goes to the same backend.
        var (v2, r2, _) = Run(p, Client(Frames.Tcp.Psh | Frames.Tcp.Ack, 1001, 5001, "hello"), 20 * S);
        Assert.Equal(Verdict.Forward, v2);
        Assert.False(r2.NewFlow);
        Assert.Equal(be, r2.OutDstIp);
        Assert.Equal(1, p.Conntrack.Count);
    }

    [Fact]
    public void An_out_of_window_rst_from_the_backend_is_invalid()
    {
        var (p, be) = Handshake();
        var (v, r, _) = Run(p, Frames.TcpFrame(Ip4.Format(be), 8080, "10.244.1.5", 40000, Frames.Tcp.Rst, 5001 + (1u << 30), 0), 2 * S);
        Assert.Equal((Verdict.Drop, DropReason.CtInvalid), (v, r.Reason));
    }

    [Theory]
    [InlineData(1001u, true)]  // exactly td_end: what a stack sends
    [InlineData(1006u, true)]  // after the 5-byte request
    [InlineData(1001u + 40_000, true)] // inside the 64 KiB window
    [InlineData(5006u, false)] // from the backend, at its td_end
    public void An_in_window_rst_closes_the_connection_as_before(uint seq, bool fromClient)
    {
        var (p, be) = Handshake();
        Assert.Equal(Verdict.Forward, Run(p, Client(Frames.Tcp.Psh | Frames.Tcp.Ack, 1001, 5001, "hello"), 2 * S).V);
        Assert.Equal(Verdict.Forward, Run(p, Frames.TcpFrame(Ip4.Format(be), 8080, "10.244.1.5", 40000, Frames.Tcp.Psh | Frames.Tcp.Ack, 5001, 1006, "world"), 2 * S).V);
        byte[] rst = fromClient ? Client(Frames.Tcp.Rst, seq, 0)
            : Frames.TcpFrame(Ip4.Format(be), 8080, "10.244.1.5", 40000, Frames.Tcp.Rst, seq, 0);
        Assert.Equal(Verdict.Forward, Run(p, rst, 3 * S).V);
        int i = Enumerable.Range(0, p.Conntrack.Capacity).First(k => (p.Conntrack[k].Flags & CtFlags.Live) != 0);
        Assert.Equal(L4.TcpRst, (fromClient ? p.Conntrack[i].TcpFlagsOriginal : p.Conntrack[i].TcpFlagsReply) & L4.TcpRst);
        Assert.Equal(3 * S + 10 * S, p.Conntrack[i].ExpiresNs); // the close timeout, as today
    }

    [Fact]
    public void A_connection_picked_up_mid_stream_is_not_window_checked()
    {
        // tcp_new marks a picked-up connection BE_LIBERAL: its RSTs are not window-checked.
        var p = NewPipeline(backends: 1);
        Assert.Equal(Verdict.Forward, Run(p, Client(Frames.Tcp.Ack, 7, 9), 1 * S).V);
        Assert.Equal(Verdict.Forward, Run(p, Client(Frames.Tcp.Rst, 7 + (1u << 31), 0), 2 * S).V);
    }

    [Fact]
    public void The_rst_window_grows_with_the_window_scale_both_sides_offered()
    {
        // SYN and SYN-ACK with window scale 7: the receiver's window may reach 65535 << 7 (8 MiB).
        var p = NewPipeline(backends: 1);
        Assert.Equal(Verdict.Forward, Run(p, WithWindowScale(Client(Frames.Tcp.Syn, 1000, 0), 7), 1 * S).V);
        Assert.Equal(Verdict.Forward, Run(p, WithWindowScale(Frames.TcpFrame(Ip4.Format(Backend(0)), 8080, "10.244.1.5", 40000, Frames.Tcp.Syn | Frames.Tcp.Ack, 5000, 1001), 7), 1 * S).V);
        Assert.Equal(Verdict.Drop, Run(p, Client(Frames.Tcp.Rst, 1001 + 20_000_000, 0), 2 * S).V);
        Assert.Equal(Verdict.Forward, Run(p, Client(Frames.Tcp.Rst, 1001 + 4_000_000, 0), 2 * S).V);
    }

    // ---- TTL 0/1: ICMP time exceeded (ip_forward), one rule

    static void AssertTimeExceeded(byte[] sent, byte[] icmpFrame, string from)
    {
        var ip = Oracle.Ip(icmpFrame);
        Assert.Equal(from, ip.SourceAddress.ToString());
        Assert.Equal(Oracle.Ip(sent).SourceAddress, ip.DestinationAddress);
        Assert.Equal(64, ip.TimeToLive);
        Assert.Equal(0xC0, ip.TypeOfService);
        byte[] icmp = icmpFrame[34..];
        Assert.Equal((11, 0), (icmp[0], icmp[1]));
        Assert.Equal(0, Frames.InternetChecksum(icmp));
        // The quote is the datagram exactly as it arrived: un-DNATed, TTL not decremented.
        Assert.Equal(sent[14..], icmp[8..]);
        Assert.Equal(0, Frames.InternetChecksum(ip.HeaderData));
    }

    [Theory]
    [InlineData((byte)1)]
    [InlineData((byte)0)]
    public void Ttl_expiring_towards_a_ClusterIp_with_endpoints_is_answered_from_the_ClusterIp(byte ttl)
    {
        var p = NewPipeline(backends: 3);
        byte[] syn = Frames.TcpFrame("10.244.1.5", 40000, "10.96.0.10", 80, Frames.Tcp.Syn, 1, 0, ttl: ttl);
        var (v, r, o) = Run(p, syn);
        Assert.Equal((Verdict.Reject, DropReason.TtlExceeded), (v, r.Reason));
        AssertTimeExceeded(syn, o, "10.96.0.10");
        Assert.Equal(0, p.Conntrack.Count); // dropped before POSTROUTING: the connection was never confirmed
    }

    [Theory]
    [InlineData("10.244.1.5", "10.244.1.1")]   // a pod on this node: the pod gateway
    [InlineData("203.0.113.7", "192.168.0.2")] // from outside: the node IP
    public void Ttl_expiring_towards_a_ClusterIp_without_endpoints_is_time_exceeded_not_reject(string client, string from)
    {
        var p = NewPipeline();
        foreach (byte ttl in new byte[] { 1, 0 })
        {
            byte[] syn = Frames.TcpFrame(client, 40000, "10.96.0.30", 80, Frames.Tcp.Syn, 1, 0, ttl: ttl);
            var (v, r, o) = Run(p, syn);
            Assert.Equal((Verdict.Reject, DropReason.TtlExceeded), (v, r.Reason));
            AssertTimeExceeded(syn, o, from);
        }
        // TTL 2 is forwarded by the kernel and meets REJECT: port unreachable as before.
        var (v2, r2, o2) = Run(p, Frames.TcpFrame(client, 40000, "10.96.0.30", 80, Frames.Tcp.Syn, 1, 0, ttl: 2));
        Assert.Equal((Verdict.Reject, DropReason.None), (v2, r2.Reason));
        Assert.Equal(3, o2[34]);
    }

    [Fact]
    public void Ttl_expiring_towards_a_NodePort_is_answered_from_the_node_address()
    {
        var p = NewPipeline();
        byte[] syn = Frames.TcpFrame("203.0.113.7", 40000, "192.168.0.2", NodePort, Frames.Tcp.Syn, 1, 0, ttl: 1);
        var (v, _, o) = Run(p, syn);
        Assert.Equal(Verdict.Reject, v);
        AssertTimeExceeded(syn, o, "192.168.0.2");
    }

    [Fact]
    public void Ttl_expiring_on_an_established_connection_leaves_it_alone()
    {
        var (p, be) = Handshake();
        byte[] data = Frames.TcpFrame("10.244.1.5", 40000, "10.96.0.10", 80, Frames.Tcp.Psh | Frames.Tcp.Ack, 1001, 5001, "x", ttl: 1);
        var (v, r, o) = Run(p, data, 2 * S);
        Assert.Equal((Verdict.Reject, DropReason.TtlExceeded), (v, r.Reason));
        AssertTimeExceeded(data, o, "10.96.0.10");
        // A reply with TTL 1 is answered towards the backend, from the interface towards it (the node IP here).
        byte[] back = Frames.TcpFrame(Ip4.Format(be), 8080, "10.244.1.5", 40000, Frames.Tcp.Ack, 5001, 1001, ttl: 1);
        var (vb, _, ob) = Run(p, back, 2 * S);
        Assert.Equal(Verdict.Reject, vb);
        AssertTimeExceeded(back, ob, "192.168.0.2");
        Assert.Equal(Verdict.Forward, Run(p, Frames.TcpFrame("10.244.1.5", 40000, "10.96.0.10", 80, Frames.Tcp.Ack, 1001, 5001), 3 * S).V);
    }

    [Fact]
    public void Ttl_expiring_on_a_later_fragment_or_an_icmp_error_is_dropped_without_an_answer()
    {
        var p = NewPipeline(backends: 1);
        Assert.Equal(Verdict.Forward, Run(p, FirstFragment(7)).V);
        byte[] later = LaterFragment(7);
        later[22] = 1; Fix(later);
        var (v, r, o) = Run(p, later);
        Assert.Equal((Verdict.Drop, DropReason.TtlExceeded, 0), (v, r.Reason, o.Length));

        var (_, _, fwd) = Run(p, Frames.UdpFrame("10.244.1.5", 50001, "10.96.0.10", 80, new byte[8]));
        byte[] err = Frames.IcmpPortUnreachable(fwd, Ip4.Format(Backend(0)), 9, false, ttl: 1);
        var (ve, re, oe) = Run(p, err);
        Assert.Equal((Verdict.Drop, DropReason.TtlExceeded, 0), (ve, re.Reason, oe.Length));
    }

    // ---- ICMP error checksums (icmp_error)

    [Fact]
    public void An_icmp_error_with_a_bad_checksum_is_dropped_not_translated()
    {
        var p = NewPipeline(backends: 1);
        var (_, _, fwd) = Run(p, Frames.UdpFrame("10.244.1.5", 50001, "10.96.0.10", 80, new byte[8]));
        byte[] err = Frames.IcmpPortUnreachable(fwd, Ip4.Format(Backend(0)), 9, false);
        byte[] bad = (byte[])err.Clone();
        bad[14 + 20 + 2] ^= 0x5A;
        var (v, r, o) = Run(p, bad);
        Assert.Equal((Verdict.Drop, DropReason.IcmpBadChecksum, 0), (v, r.Reason, o.Length));
        Assert.Equal("icmp-bad-checksum", DropReason.IcmpBadChecksum.Name());
        var (v2, _, o2) = Run(p, err);
        Assert.Equal(Verdict.Forward, v2);
        Assert.Equal(0, Frames.InternetChecksum(o2.AsSpan(34)));
    }

    [Fact]
    public void A_fragmented_icmp_error_is_translated_with_an_incremental_checksum_and_its_tail_follows()
    {
        var p = NewPipeline(backends: 1);
        var (_, _, fwd) = Run(p, Frames.UdpFrame("10.244.1.5", 50001, "10.96.0.10", 80, new byte[1200]));
        // A backend behind a small MTU quotes the whole datagram (1228 bytes) and its error is fragmented.
        byte[] err = BigIcmpError(fwd, Ip4.Format(Backend(0)));
        byte[] first = [.. err[..(14 + 20 + 512)]];
        byte[] rest = [.. err[..(14 + 20)], .. err.AsSpan(14 + 20 + 512)];
        SetFragment(first, 0x2000);
        SetFragment(rest, 512 / 8);

        var (v1, _, o1) = Run(p, first);
        Assert.Equal(Verdict.Forward, v1);
        var (v2, _, o2) = Run(p, rest);
        Assert.Equal(Verdict.Forward, v2);
        Assert.Equal(o1[26..34], o2[26..34]); // both fragments leave with the same outer addresses
        // Reassembled, the ICMP message verifies and quotes the datagram as the client sent it.
        byte[] icmp = [.. o1.AsSpan(34), .. o2.AsSpan(34)];
        Assert.Equal(0, Frames.InternetChecksum(icmp));
        Assert.Equal("10.96.0.10", new System.Net.IPAddress(icmp.AsSpan(8 + 16, 4)).ToString());
        Assert.Equal("10.244.1.5", Oracle.Ip(o1).DestinationAddress.ToString());
        Assert.Equal("10.96.0.10", Oracle.Ip(o1).SourceAddress.ToString());
        Assert.Equal(0, Frames.InternetChecksum(o1.AsSpan(14, 20)));
        Assert.Equal(0, Frames.InternetChecksum(o2.AsSpan(14, 20)));

        // A bad checksum cannot be seen in a first fragment: it stays bad through the incremental update.
        var p2 = NewPipeline(backends: 1);
        var (_, _, fwd2) = Run(p2, Frames.UdpFrame("10.244.1.5", 50001, "10.96.0.10", 80, new byte[1200]));
        byte[] bad = BigIcmpError(fwd2, Ip4.Format(Backend(0)));
        bad[14 + 20 + 2] ^= 0x11;
        byte[] bfirst = [.. bad[..(14 + 20 + 512)]];
        SetFragment(bfirst, 0x2000);
        var (_, _, ob) = Run(p2, bfirst);
        Assert.NotEqual(0, Frames.InternetChecksum([.. ob.AsSpan(34), .. rest.AsSpan(34)]));
    }

    static byte[] BigIcmpError(byte[] offending, string from)
    {
        byte[] quoted = offending[14..];
        byte[] f = [.. offending[..14], .. new byte[20 + 8], .. quoted];
        (f[0], f[6]) = (f[6], f[0]);
        Span<byte> ip = f.AsSpan(14);
        ip[0] = 0x45; ip[8] = 64; ip[9] = 1;
        ip[2] = (byte)((f.Length - 14) >> 8); ip[3] = (byte)(f.Length - 14);
        System.Net.IPAddress.Parse(from).GetAddressBytes().CopyTo(ip.Slice(12));
        quoted.AsSpan(12, 4).CopyTo(ip.Slice(16));
        Span<byte> icmp = ip.Slice(20);
        icmp[0] = 3; icmp[1] = 3;
        ushort c = Frames.InternetChecksum(icmp);
        icmp[2] = (byte)(c >> 8); icmp[3] = (byte)c;
        Fix(f);
        return f;
    }

    static void SetFragment(byte[] f, int flagsOffset)
    {
        int total = f.Length - 14;
        f[16] = (byte)(total >> 8); f[17] = (byte)total;
        f[20] = (byte)(flagsOffset >> 8); f[21] = (byte)flagsOffset;
        Fix(f);
    }

    // ---- SNAT port classes of privileged client ports (nf_nat_l4proto_unique_tuple)

    static ushort SnatPortFor(PacketPipeline p, string client, ushort port)
    {
        var (v, r, _) = Run(p, Frames.TcpFrame(client, port, "192.168.0.2", NodePort, Frames.Tcp.Syn, 1, 0));
        Assert.Equal(Verdict.Forward, v);
        Assert.True(r.Masqueraded);
        return r.OutSrcPort;
    }

    [Theory]
    [InlineData((ushort)800, 600, 1023)]
    [InlineData((ushort)550, 600, 1023)]
    [InlineData((ushort)512, 600, 1023)]
    [InlineData((ushort)300, 1, 511)]
    [InlineData((ushort)1, 1, 511)]
    [InlineData((ushort)511, 1, 511)]
    [InlineData((ushort)1024, 32768, 65535)]
    [InlineData((ushort)40001, 32768, 65535)]
    public void A_masqueraded_client_port_stays_in_its_class(ushort clientPort, int min, int max)
    {
        var p = NewPipeline(backends: 1);
        // Many clients with the same port to the same backend: the first keeps it when its class allows, the others
        // get other ports of the same class, all distinct.
        var seen = new HashSet<ushort>();
        for (int i = 1; i <= 40; i++)
        {
            ushort port = SnatPortFor(p, $"203.0.113.{i}", clientPort);
            Assert.InRange(port, min, max);
            Assert.True(seen.Add(port), $"port {port} given twice");
            if (i == 1 && clientPort >= min && clientPort <= max) Assert.Equal(clientPort, port);
        }
    }

    [Fact]
    public void An_explicit_snat_range_applies_to_privileged_ports_too()
    {
        var p = NewPipeline(backends: 1, new PipelineOptions { CtCapacity = 1 << 12, SnatPortMin = 40000, SnatPortMax = 40999, SnatPrivilegedClasses = false });
        Assert.InRange(SnatPortFor(p, "203.0.113.1", 800), 40000, 40999);
        Assert.InRange(SnatPortFor(p, "203.0.113.2", 300), 40000, 40999);
    }

    [Fact]
    public void Replies_to_privileged_snat_ports_reach_their_worker()
    {
        var holder = new MapSetHolder(Build(backends: 5));
        foreach (int w in new[] { 2, 3, 4, 7 })
        {
            var options = new PipelineOptions { CtCapacity = 1 << 10 };
            var workers = Enumerable.Range(0, w).Select(_ => new PacketPipeline(holder, options)).ToArray();
            var steering = new FlowSteering(w, options);
            for (int c = 1; c <= 60; c++)
            {
                ushort port = (ushort)(c * 17);
                byte[] syn = Frames.TcpFrame($"203.0.113.{c}", port, "192.168.0.2", NodePort, Frames.Tcp.Syn, 1, 0);
                int owner = steering.WorkerFor(syn, holder.Current);
                var (v, r, _) = Run(workers[owner], syn);
                Assert.Equal(Verdict.Forward, v);
                var (lo, hi) = DataPlane.Pipeline.Stages.ConntrackStage.SnatRange(port, options);
                Assert.InRange(r.OutSrcPort, lo, hi);
                byte[] reply = Frames.TcpFrame(Ip4.Format(r.OutDstIp), r.OutDstPort, Ip4.Format(r.OutSrcIp), r.OutSrcPort, Frames.Tcp.Syn | Frames.Tcp.Ack, 5, 2);
                Assert.Equal(owner, steering.WorkerFor(reply, holder.Current));
                var (rv, rr, _) = Run(workers[owner], reply);
                Assert.Equal(Verdict.Forward, rv);
                Assert.Equal(port, rr.OutDstPort);
            }
        }
    }

    /// <summary>Appends the options NOP, window scale (kind 3, length 3) to a bare TCP segment (data offset 6).</summary>
    static byte[] WithWindowScale(byte[] frame, byte shift)
    {
        byte[] f = [.. frame[..54], 1, 3, 3, shift, .. frame[54..]];
        int total = f.Length - 14;
        f[16] = (byte)(total >> 8); f[17] = (byte)total;
        f[14 + 20 + 12] = 6 << 4;
        Fix(f);
        f[14 + 20 + 16] = f[14 + 20 + 17] = 0;
        byte[] pseudo = [.. f.AsSpan(26, 8), 0, 6, (byte)((total - 20) >> 8), (byte)(total - 20), .. f.AsSpan(34)];
        ushort c = Frames.InternetChecksum(pseudo);
        f[14 + 20 + 16] = (byte)(c >> 8); f[14 + 20 + 17] = (byte)c;
        return f;
    }
}
