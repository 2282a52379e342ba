using System.Buffers.Binary;
using DataPlane.Dns;
using DataPlane.Packets;

namespace DataPlane.Fuzz;

/// <summary>
/// Pipeline seeds that reach the DNS stage over TCP and UDP: whole client conversations (handshake, the third ACK with
/// A and AAAA pipelined as glibc sends them, a message split across segments, a short length prefix, FIN and the last
/// ACK), plus a bogus ACK with no handshake. The server's ISN is the cookie the harness's pipeline computes (its seed
/// and the records' clock), so the third ACK is accepted and the mutator starts from connections that are open.
/// Conversations to the bundled cluster's emulated kube-dns (10.96.0.2, answered in auto mode: no CoreDNS endpoints)
/// run against the harness's default maps; those to kube-system/dns (10.96.0.53) start with an odd clock step, which
/// makes the harness use its answering maps (<see cref="PipelineHarness"/>).
/// </summary>
public static class DnsSeeds
{
    const uint Client = 0x0AF40105;   // 10.244.1.5, a pod on node-1
    const uint KubeDns = 0x0A600002;  // 10.96.0.2, the emulated kube-dns of pcaps/cluster
    const uint DnsSvc = 0x0A600035;   // 10.96.0.53, kube-system/dns of pcaps/cluster

    /// <summary>Writes the seeds into <paramref name="dir"/>; returns how many.</summary>
    public static int Write(string dir)
    {
        int n = 0;
        foreach ((uint dns, byte firstStep) in new[] { (KubeDns, (byte)0), (DnsSvc, (byte)1) })
        {
            Save(dir, ref n, Conversation(dns, firstStep, 41000));
            Save(dir, ref n, BogusAck(dns, firstStep));
            Save(dir, ref n, Udp(dns, firstStep));
        }
        return n;
    }

    /// <summary>An untagged IPv4 TCP or UDP frame to port 53.</summary>
    public static bool ToPort53(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 14 + 20 || BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != 0x0800) return false;
        int ihl = (frame[14] & 0xF) * 4;
        return frame[14 + 9] is IpProto.Tcp or IpProto.Udp && frame.Length >= 14 + ihl + 4
               && BinaryPrimitives.ReadUInt16BigEndian(frame[(14 + ihl + 2)..]) == 53;
    }

    static void Save(string dir, ref int n, byte[] seed) => File.WriteAllBytes(Path.Combine(dir, $"dns-{n++:D2}"), seed);

    static byte[] Query(string name, ushort type, ushort id) => DnsMessage.BuildQuery(name, type, id);

    static byte[] Prefixed(params byte[][] messages)
    {
        var b = new List<byte>();
        foreach (byte[] m in messages) { b.Add((byte)(m.Length >> 8)); b.Add((byte)m.Length); b.AddRange(m); }
        return [.. b];
    }

    static byte[] Conversation(uint dns, byte firstStep, ushort sport)
    {
        using var s = new MemoryStream();
        var frame = new byte[512];
        long now = FrameRecords.StartNs + firstStep * FrameRecords.StepNs;
        const uint isn = 7000;
        FrameRecords.Write(s, frame.AsSpan(0, DnsFrames.Syn(frame, Client, sport, dns, isn)), firstStep);
        // The harness's pipeline runs with seed 7 (PipelineHarness): the SYN-ACK's ISN is this cookie.
        uint server = DnsTcpCookie.Isn(Client, dns, sport, 53, isn, 1460, now, PipelineHarness.Seed, out _) + 1;
        uint seq = isn + 1;
        byte[] a = Query("web.default.svc.cluster.local", DnsType.A, 1), aaaa = Query("web.default.svc.cluster.local", DnsType.AAAA, 2);
        byte[] both = Prefixed(a, aaaa);
        Segment(s, frame, dns, sport, seq, server, both, L4.TcpAck | L4.TcpPsh);
        seq += (uint)both.Length;
        // The server's answer is not known here; acknowledging only its SYN keeps the ack acceptable (an old one).
        byte[] srv = Prefixed(Query("_dns._udp.dns.kube-system.svc.cluster.local", DnsType.SRV, 3));
        Segment(s, frame, dns, sport, seq, server, srv.AsSpan(0, 5), L4.TcpAck | L4.TcpPsh);        // a partial message
        Segment(s, frame, dns, sport, seq, server, srv, L4.TcpAck | L4.TcpPsh);             // sent again whole
        seq += (uint)srv.Length;
        byte[] shortPrefix = [0, 12, .. Query("sticky.default.svc.cluster.local", DnsType.A, 4)];
        Segment(s, frame, dns, sport, seq, server, shortPrefix, L4.TcpAck | L4.TcpPsh);
        seq += 14;
        Segment(s, frame, dns, sport, seq, server, [], L4.TcpAck | L4.TcpFin);
        return s.ToArray();
    }

    static byte[] BogusAck(uint dns, byte firstStep)
    {
        using var s = new MemoryStream();
        var frame = new byte[512];
        Segment(s, frame, dns, 42000, 1001, 2000, Prefixed(Query("web.default.svc.cluster.local", DnsType.A, 5)), L4.TcpAck | L4.TcpPsh, firstStep);
        return s.ToArray();
    }

    static byte[] Udp(uint dns, byte firstStep)
    {
        using var s = new MemoryStream();
        var frame = new byte[512];
        FrameRecords.Write(s, frame.AsSpan(0, DnsFrames.Udp(frame, Client, 43000, dns, Query("web.default.svc.cluster.local", DnsType.A, 6))), firstStep);
        FrameRecords.Write(s, frame.AsSpan(0, DnsFrames.Udp(frame, Client, 43001, dns, DnsMessage.BuildQuery("big.example", DnsType.TXT, 7, 1232))), 0);
        return s.ToArray();
    }

    /// <summary>One TCP segment carrying <paramref name="data"/> as is (no length prefix added).</summary>
    static void Segment(Stream s, byte[] frame, uint dns, ushort sport, uint seq, uint ack, ReadOnlySpan<byte> data, byte flags, byte step = 0)
    {
        int len = FrameBuilder.Write(frame, IpProto.Tcp, Client, sport, dns, 53, flags, data.Length, seq);
        Span<byte> seg = frame.AsSpan(Ethernet.HeaderLength + Ipv4Header.MinLength, len - Ethernet.HeaderLength - Ipv4Header.MinLength);
        BinaryPrimitives.WriteUInt32BigEndian(seg[L4.TcpAckOffset..], ack);
        data.CopyTo(seg[L4.TcpMinLength..]);
        L4.WriteU16(seg, L4.TcpChecksumOffset, 0);
        L4.WriteU16(seg, L4.TcpChecksumOffset, Checksum.Compute(seg, Checksum.PseudoHeaderSum(Client, dns, IpProto.Tcp, seg.Length)));
        FrameRecords.Write(s, frame.AsSpan(0, len), step);
    }
}
