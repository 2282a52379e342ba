using System.Buffers.Binary;
using DataPlane.Dns;
using DataPlane.IO.Text;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Explain;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;
using PacketDotNet;

namespace DataPlane.Tests.Dns;

/// <summary>
/// DNS over TCP as RFC 7766 asks (issue 18, items 4 and 5): a handshake the server checks (SYN cookie), every
/// pipelined message answered in order, never an acknowledgement of bytes not consumed. Each test is one client's
/// connection, written segment by segment as the client sends them; answers are decoded by ARSoft.Tools.Net too.
/// </summary>
public class DnsTcpTests
{
    const ushort Sport = 43000;
    const uint ClientIsn = 5000;

    /// <summary>One client connection to the cluster DNS over a fresh pipeline.</summary>
    sealed class Client(DnsWorld w, ushort sport = Sport)
    {
        public readonly DnsWorld World = w;
        public uint ServerIsn;
        public uint Seq = ClientIsn + 1;

        public (Verdict V, byte[] Out, PacketResult R) Send(byte[] frame, int len)
        {
            var reply = new byte[1536];
            Verdict v = World.Pipeline.Process(frame.AsSpan(0, len), 1_000_000_000, reply, out PacketResult r);
            byte[] o = v is Verdict.Answer or Verdict.Reject ? reply[..r.OutLength] : [];
            if (o.Length > 0) Oracle.AssertChecksums(o);
            return (v, o, r);
        }

        /// <summary>SYN (MSS 1460) → SYN-ACK; returns the SYN-ACK.</summary>
        public TcpPacket Open()
        {
            var frame = new byte[128];
            var (v, o, _) = Send(frame, DnsFrames.Syn(frame, DnsWorld.Client, sport, DnsWorld.DnsIp, ClientIsn));
            Assert.Equal(Verdict.Answer, v);
            var synAck = (TcpPacket)Oracle.Ip(o).PayloadPacket;
            ServerIsn = synAck.SequenceNumber;
            return synAck;
        }

        /// <summary>One segment (ACK|PSH unless told) carrying <paramref name="data"/> as is.</summary>
        public (Verdict V, byte[] Out, PacketResult R) Data(byte[] data, uint? seq = null, uint? ack = null, byte flags = L4.TcpAck | L4.TcpPsh)
        {
            var frame = new byte[64 + data.Length];
            int len = FrameBuilder.Write(frame, IpProto.Tcp, DnsWorld.Client, sport, DnsWorld.DnsIp, 53, flags, data.Length, seq ?? Seq);
            Span<byte> seg = frame.AsSpan(34, len - 34);
            BinaryPrimitives.WriteUInt32BigEndian(seg[L4.TcpAckOffset..], ack ?? ServerIsn + 1);
            data.CopyTo(seg[20..]);
            L4.WriteU16(seg, L4.TcpChecksumOffset, 0);
            L4.WriteU16(seg, L4.TcpChecksumOffset, Checksum.Compute(seg, Checksum.PseudoHeaderSum(DnsWorld.Client, DnsWorld.DnsIp, IpProto.Tcp, seg.Length)));
            return Send(frame, len);
        }
    }

    static byte[] Prefixed(params byte[][] messages)
    {
        var b = new List<byte>();
        foreach (byte[] m in messages) { b.Add((byte)(m.Length >> 8)); b.Add((byte)m.Length); b.AddRange(m); }
        return [.. b];
    }

    /// <summary>The length-prefixed messages of a segment's payload, each checked with ARSoft as well.</summary>
    static List<DnsMessage> Responses(byte[] payload)
    {
        var list = new List<DnsMessage>();
        for (int i = 0; i < payload.Length;)
        {
            Assert.True(i + 2 <= payload.Length, "a partial length prefix in the answer");
            int n = BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(i));
            Assert.True(i + 2 + n <= payload.Length, "a partial message in the answer");
            byte[] msg = payload[(i + 2)..(i + 2 + n)];
            DnsMessage m = DnsMessage.Decode(msg)!;
            var oracle = ARSoft.Tools.Net.Dns.DnsMessage.Parse(new ArraySegment<byte>(msg));
            Assert.Equal(m.Id, oracle.TransactionID);
            Assert.Equal(m.Answer, oracle.AnswerRecords.Select(DnsZoneTableTests.Text));
            Assert.Equal(m.Truncated, oracle.IsTruncated);
            list.Add(m);
            i += 2 + n;
        }
        return list;
    }

    [Fact]
    public void A_proper_handshake_gets_its_query_answered_and_the_close_is_clean()
    {
        var w = new DnsWorld();
        var c = new Client(w);
        TcpPacket synAck = c.Open();
        Assert.True(synAck.Synchronize && synAck.Acknowledgment);
        Assert.Equal(ClientIsn + 1, synAck.AcknowledgmentNumber);
        Assert.Equal(24, synAck.DataOffset * 4); // the MSS option

        // The third ACK alone: consumed, and the connection exists from now on.
        Assert.Equal(Verdict.Local, c.Data([]).V);
        Assert.Equal(1, w.Pipeline.State.DnsTcp.Count(1_000_000_000));

        byte[] q = DnsMessage.BuildQuery("nginx.default.svc.cluster.local", DnsType.A, 77);
        var (v, o, _) = c.Data(Prefixed(q));
        Assert.Equal(Verdict.Answer, v);
        var seg = (TcpPacket)Oracle.Ip(o).PayloadPacket;
        Assert.Equal(c.ServerIsn + 1, seg.SequenceNumber);
        Assert.Equal(c.Seq + 2 + (uint)q.Length, seg.AcknowledgmentNumber);
        DnsMessage m = Assert.Single(Responses(seg.PayloadData));
        Assert.Equal(77, m.Id);
        Assert.Equal(["nginx.default.svc.cluster.local. 5 IN A 10.244.1.10", "nginx.default.svc.cluster.local. 5 IN A 10.244.1.11"], m.Answer.Order());
        c.Seq += 2 + (uint)q.Length;
        uint serverNext = c.ServerIsn + 1 + (uint)seg.PayloadData.Length;

        // FIN (acknowledging the answer) → FIN-ACK; the last ACK closes the connection.
        (v, o, _) = c.Data([], ack: serverNext, flags: L4.TcpAck | L4.TcpFin);
        var fin = (TcpPacket)Oracle.Ip(o).PayloadPacket;
        Assert.True(fin.Finished && fin.Acknowledgment);
        Assert.Equal(c.Seq + 1, fin.AcknowledgmentNumber);
        Assert.Equal(serverNext, fin.SequenceNumber);
        Assert.Equal(Verdict.Local, c.Data([], seq: c.Seq + 1, ack: serverNext + 1).V);
        Assert.Equal(0, w.Pipeline.State.DnsTcp.Count(1_000_000_000));
    }

    [Fact]
    public void A_query_with_ack_set_but_no_handshake_is_not_answered_it_gets_a_reset()
    {
        // Issue 18 item 5: one segment with ACK and any acknowledgement number used to be answered, the answer's
        // sequence number the client's bogus ack. A listener answers a bogus ACK with a RST, seq = its ack.
        var c = new Client(new DnsWorld());
        byte[] q = Prefixed(DnsMessage.BuildQuery("web.default.svc.cluster.local", DnsType.A, 5));
        var (v, o, r) = c.Data(q, seq: 1001, ack: 2000);
        Assert.Equal(Verdict.Reject, v);
        Assert.Equal(DropReason.DnsTcpNoConnection, r.Reason);
        var rst = (TcpPacket)Oracle.Ip(o).PayloadPacket;
        Assert.True(rst.Reset);
        Assert.False(rst.Acknowledgment);
        Assert.Equal(2000u, rst.SequenceNumber);
        Assert.Empty(rst.PayloadData);

        // Without ACK: dropped, nothing sent.
        (v, o, r) = c.Data(q, seq: 1001, ack: 0, flags: L4.TcpPsh);
        Assert.Equal(Verdict.Drop, v);
        Assert.Equal(DropReason.DnsTcpNoConnection, r.Reason);
    }

    [Theory]
    [InlineData(1u)]            // one past: the low 24 bits decode to MSS index 4, not in the table
    [InlineData(0xFFFFFFFCu)]   // four before (one to three before decode to a smaller MSS index: Linux's cookie takes them too)
    [InlineData(0x01000000u)]   // another minute's counter
    [InlineData(0x00123456u)]   // anything else
    public void A_third_ack_that_is_not_our_cookie_is_reset_and_not_answered(uint offset)
    {
        var c = new Client(new DnsWorld());
        c.Open();
        byte[] q = Prefixed(DnsMessage.BuildQuery("web.default.svc.cluster.local", DnsType.A, 6));
        var (v, o, r) = c.Data(q, ack: c.ServerIsn + 1 + offset);
        Assert.Equal(Verdict.Reject, v);
        Assert.Equal(DropReason.DnsTcpNoConnection, r.Reason);
        Assert.True(((TcpPacket)Oracle.Ip(o).PayloadPacket).Reset);
        // The right acknowledgement still opens the connection (the SYN kept no state to spoil).
        Assert.Equal(Verdict.Answer, c.Data(q).V);
    }

    [Fact]
    public void A_cookie_is_good_for_two_minutes_and_another_clients_ack_does_not_pass()
    {
        const ulong key = 1;
        uint isn = DnsTcpCookie.Isn(1, 2, 3, 53, 100, 1460, 0, key, out ushort mss);
        Assert.Equal(1460, mss);
        Assert.Equal(1460, DnsTcpCookie.Check(1, 2, 3, 53, 101, isn + 1, 119_000_000_000, key));
        Assert.Equal(0, DnsTcpCookie.Check(1, 2, 3, 53, 101, isn + 1, 120_000_000_000, key)); // MAX_SYNCOOKIE_AGE
        Assert.Equal(0, DnsTcpCookie.Check(1, 2, 4, 53, 101, isn + 1, 0, key));              // another port
        Assert.Equal(0, DnsTcpCookie.Check(1, 2, 3, 53, 117, isn + 1, 0, key));              // another client ISN
        // The MSS index lives in the low bits (hash + index, masked): three acknowledgements below ours decode to the
        // smaller table entries, as in Linux (a blind guess passes with odds 4 in 2^24).
        Assert.Equal(1440, DnsTcpCookie.Check(1, 2, 3, 53, 101, isn, 0, key));
        Assert.Equal(0, DnsTcpCookie.Check(1, 2, 3, 53, 101, isn + 1, 0, key + 1));          // another secret
        DnsTcpCookie.Isn(1, 2, 3, 53, 100, 1000, 0, key, out mss);
        Assert.Equal(536, mss); // msstab rounds down
    }

    [Fact]
    public void A_and_AAAA_in_one_segment_are_both_answered_in_order_and_both_acknowledged()
    {
        // Issue 18 item 4: glibc sends A and AAAA in one segment; both were acknowledged, only the first answered.
        var c = new Client(new DnsWorld());
        c.Open();
        byte[] a = DnsMessage.BuildQuery("web.default.svc.cluster.local", DnsType.A, 0x1111);
        byte[] aaaa = DnsMessage.BuildQuery("web.default.svc.cluster.local", DnsType.AAAA, 0x2222);
        var (v, o, _) = c.Data(Prefixed(a, aaaa));
        Assert.Equal(Verdict.Answer, v);
        var seg = (TcpPacket)Oracle.Ip(o).PayloadPacket;
        Assert.Equal(c.Seq + 4 + (uint)(a.Length + aaaa.Length), seg.AcknowledgmentNumber);
        List<DnsMessage> rs = Responses(seg.PayloadData);
        Assert.Equal([0x1111, 0x2222], rs.Select(m => (int)m.Id));
        Assert.Equal(["web.default.svc.cluster.local. 5 IN A 10.96.0.20"], rs[0].Answer);
        Assert.Equal(DnsType.AAAA, rs[1].QuestionType);
        Assert.Empty(rs[1].Answer); // NODATA: no IPv6 records
        Assert.Equal("NOERROR", rs[1].RcodeName);
    }

    [Fact]
    public void A_short_length_prefix_never_acknowledges_bytes_past_what_was_read()
    {
        var c = new Client(new DnsWorld());
        c.Open();
        // A length prefix of 12 before a 47-byte query: the 12-byte message (a header promising a question it lacks)
        // is read and answered FORMERR; what follows, read as the next prefix (0x03 'w' = 887), announces more than
        // the segment holds: not consumed, so not acknowledged.
        byte[] q = DnsMessage.BuildQuery("web.default.svc.cluster.local", DnsType.A, 0x3333);
        byte[] data = [0, 12, .. q];
        var (v, o, _) = c.Data(data);
        Assert.Equal(Verdict.Answer, v);
        var seg = (TcpPacket)Oracle.Ip(o).PayloadPacket;
        Assert.Equal(c.Seq + 14, seg.AcknowledgmentNumber);
        Assert.Equal("FORMERR", Assert.Single(Responses(seg.PayloadData)).RcodeName);

        // A whole query followed by half a length prefix: the query only.
        c.Seq += 14;
        uint serverNext = c.ServerIsn + 1 + (uint)seg.PayloadData.Length;
        byte[] whole = Prefixed(q);
        (v, o, _) = c.Data([.. whole, 0], ack: serverNext);
        seg = (TcpPacket)Oracle.Ip(o).PayloadPacket;
        Assert.Equal(c.Seq + (uint)whole.Length, seg.AcknowledgmentNumber);
        Assert.Equal(0x3333, Assert.Single(Responses(seg.PayloadData)).Id);
        c.Seq += (uint)whole.Length;
        serverNext += (uint)seg.PayloadData.Length;

        // Only part of a message: nothing read, nothing acknowledged, dropped with its reason.
        var (hv, _, hr) = c.Data(whole[..10], ack: serverNext);
        Assert.Equal(Verdict.Drop, hv);
        Assert.Equal(DropReason.DnsTcpIncomplete, hr.Reason);
        // The client sends it again whole, from where the server's ACK left it: answered.
        (v, o, _) = c.Data(whole, ack: serverNext);
        Assert.Equal(c.Seq + (uint)whole.Length, ((TcpPacket)Oracle.Ip(o).PayloadPacket).AcknowledgmentNumber);
    }

    [Fact]
    public void Segments_that_do_not_fit_the_connection_are_dropped_and_retransmissions_get_a_duplicate_ack()
    {
        var c = new Client(new DnsWorld());
        c.Open();
        byte[] q = Prefixed(DnsMessage.BuildQuery("web.default.svc.cluster.local", DnsType.A, 7));
        Assert.Equal(Verdict.Answer, c.Data(q).V);
        uint answered = c.Seq + (uint)q.Length;

        // An acknowledgement of data never sent (tcp_ack: TCP_ACK_UNSENT_DATA): dropped, not answered.
        var (v, _, r) = c.Data(q, seq: answered, ack: c.ServerIsn + 1 + 5000);
        Assert.Equal(Verdict.Drop, v);
        Assert.Equal(DropReason.DnsTcpUnacceptable, r.Reason);
        // A gap before the segment (out of order: no queue here): dropped.
        (v, _, r) = c.Data(q, seq: answered + 100);
        Assert.Equal(Verdict.Drop, v);
        Assert.Equal(DropReason.DnsTcpUnacceptable, r.Reason);
        // The first query again (a retransmission): a duplicate ACK, no second answer.
        var (dv, o, _) = c.Data(q);
        Assert.Equal(Verdict.Answer, dv);
        var dup = (TcpPacket)Oracle.Ip(o).PayloadPacket;
        Assert.Empty(dup.PayloadData);
        Assert.Equal(answered, dup.AcknowledgmentNumber);
        // A SYN on the open connection: a challenge ACK (RFC 5961 §4.2), the connection stays.
        var frame = new byte[128];
        (v, o, _) = c.Send(frame, DnsFrames.Syn(frame, DnsWorld.Client, Sport, DnsWorld.DnsIp, 9999));
        var challenge = (TcpPacket)Oracle.Ip(o).PayloadPacket;
        Assert.False(challenge.Synchronize);
        Assert.Equal(answered, challenge.AcknowledgmentNumber);
        // The next query in sequence is still answered.
        Assert.Equal(Verdict.Answer, c.Data(q, seq: answered).V);
    }

    [Fact]
    public void Answers_that_do_not_fit_one_segment_together_leave_the_later_query_unacknowledged()
    {
        // Two queries whose answers (60 addresses, ~1 KB each) do not fit one 1460-byte segment together: the first
        // is answered and acknowledged, the second left for the client to send again, then answered whole.
        using TempDir cluster = DnsStageTests.BigHeadless(60);
        var c = new Client(new DnsWorld(new DnsOptions { Mode = DnsMode.Answer }, cluster.Path));
        c.Open();
        byte[] q1 = Prefixed(DnsMessage.BuildQuery("big.default.svc.cluster.local", DnsType.A, 1));
        byte[] q2 = Prefixed(DnsMessage.BuildQuery("big.default.svc.cluster.local", DnsType.A, 2));
        var (_, o, _) = c.Data([.. q1, .. q2]);
        var seg = (TcpPacket)Oracle.Ip(o).PayloadPacket;
        Assert.Equal(c.Seq + (uint)q1.Length, seg.AcknowledgmentNumber);
        DnsMessage first = Assert.Single(Responses(seg.PayloadData));
        Assert.Equal(60, first.Answer.Count);
        Assert.False(first.Truncated);
        (_, o, _) = c.Data(q2, seq: c.Seq + (uint)q1.Length, ack: c.ServerIsn + 1 + (uint)seg.PayloadData.Length);
        seg = (TcpPacket)Oracle.Ip(o).PayloadPacket;
        DnsMessage second = Assert.Single(Responses(seg.PayloadData));
        Assert.Equal(2, second.Id);
        Assert.Equal(60, second.Answer.Count);
    }

    [Fact]
    public void The_send_mss_is_the_clients_as_the_cookie_rounds_it()
    {
        // A SYN without an MSS option: 536 (RFC 9293 §3.7.1): the 60-address answer is truncated to fit 534 bytes.
        using TempDir cluster = DnsStageTests.BigHeadless(60);
        var c = new Client(new DnsWorld(new DnsOptions { Mode = DnsMode.Answer }, cluster.Path));
        var frame = new byte[128];
        var (_, o, _) = c.Send(frame, FrameBuilder.Write(frame, IpProto.Tcp, DnsWorld.Client, Sport, DnsWorld.DnsIp, 53, L4.TcpSyn, seq: ClientIsn));
        c.ServerIsn = ((TcpPacket)Oracle.Ip(o).PayloadPacket).SequenceNumber;
        (_, o, _) = c.Data(Prefixed(DnsMessage.BuildQuery("big.default.svc.cluster.local", DnsType.A, 1)));
        var seg = (TcpPacket)Oracle.Ip(o).PayloadPacket;
        Assert.True(seg.PayloadData.Length <= 536);
        DnsMessage m = Assert.Single(Responses(seg.PayloadData));
        Assert.True(m.Truncated);
        Assert.InRange(m.Answer.Count, 1, 59);
    }

    [Fact]
    public void Trace_and_explain_say_why_a_bogus_ack_is_reset()
    {
        // The bundled cluster answers DNS at its emulated kube-dns (10.96.0.2, auto mode: no CoreDNS endpoints).
        MapSet maps = ControlPlane.LoadAndCompile(Repo.Cluster, "node-1");
        var explainer = new Explainer(ControlPlane.Resolve(ManifestLoader.Load(Repo.Cluster)), "node-1", maps);
        var p = new PacketPipeline(new MapSetHolder(maps), new PipelineOptions { CtCapacity = 16 }) { Log = new StageLog() };
        var frame = new byte[128];
        int len = DnsFrames.Tcp(frame, 0x0AF40105, 40000, maps.Dns!.Address, DnsMessage.BuildQuery("web.default.svc.cluster.local", DnsType.A, 1), 1001, 2000);
        Assert.Equal(Verdict.Reject, p.Process(frame.AsSpan(0, len), 1_000_000_000, new byte[1536], out PacketResult r));
        Assert.Equal(DropReason.DnsTcpNoConnection, r.Reason);
        StageRecord[] log = p.Log!.Records.ToArray();
        Assert.Contains("no SYN cookie", explainer.Why(log));
        Assert.Contains(TraceText.Lines(log, maps), l => l.Label == "dns" && l.Text.Contains("on no connection"));
    }

    [Fact]
    public void The_tcp_path_allocates_nothing_per_segment()
    {
        var w = new DnsWorld();
        var pipeline = w.Pipeline;
        byte[] a = DnsMessage.BuildQuery("web.default.svc.cluster.local", DnsType.A, 1), aaaa = DnsMessage.BuildQuery("web.default.svc.cluster.local", DnsType.AAAA, 2);
        byte[] both = Prefixed(a, aaaa);
        var frame = new byte[256];
        var reply = new byte[1536];
        int answered = 0;
        void Conversation(ushort sport)
        {
            int len = DnsFrames.Syn(frame, DnsWorld.Client, sport, DnsWorld.DnsIp, ClientIsn);
            pipeline.Process(frame.AsSpan(0, len), 1_000_000_000, reply, out PacketResult r);
            uint server = DnsFrames.TcpSeq(reply.AsSpan(0, r.OutLength)) + 1;
            len = FrameBuilder.Write(frame, IpProto.Tcp, DnsWorld.Client, sport, DnsWorld.DnsIp, 53, L4.TcpAck | L4.TcpPsh, both.Length, ClientIsn + 1);
            Span<byte> seg = frame.AsSpan(34, len - 34);
            BinaryPrimitives.WriteUInt32BigEndian(seg[L4.TcpAckOffset..], server);
            both.CopyTo(seg[20..]);
            L4.WriteU16(seg, L4.TcpChecksumOffset, 0);
            L4.WriteU16(seg, L4.TcpChecksumOffset, Checksum.Compute(seg, Checksum.PseudoHeaderSum(DnsWorld.Client, DnsWorld.DnsIp, IpProto.Tcp, seg.Length)));
            if (pipeline.Process(frame.AsSpan(0, len), 1_000_000_000, reply, out r) == Verdict.Answer) answered++;
        }
        for (ushort p = 0; p < 64; p++) Conversation((ushort)(30000 + p)); // warm up (JIT, tiering)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (ushort p = 0; p < 2000; p++) Conversation((ushort)(31000 + p));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(2064, answered);
        Assert.Equal(0, allocated);
    }
}
