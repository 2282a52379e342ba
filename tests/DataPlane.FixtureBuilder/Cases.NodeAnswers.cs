using DataPlane.Pipeline;
using static DataPlane.FixtureBuilder.Frames;

namespace DataPlane.FixtureBuilder;

/// <summary>Case 034: what the node's own kernel does: closed ports on its address, IP options on forwarded datagrams.</summary>
public static partial class Cases
{
    /// <summary>tcp_v4_send_reset's answer, by hand: RST (seq = the segment's ack) or RST|ACK (seq 0, ack = seq + len).</summary>
    static byte[] NodeReset(byte[] segment, bool hadAck, uint seqOrAck)
    {
        byte[] f = new byte[14 + 40];
        segment.AsSpan(6, 6).CopyTo(f.AsSpan(0));
        segment.AsSpan(0, 6).CopyTo(f.AsSpan(6));
        f[12] = 0x08;
        Span<byte> ip = f.AsSpan(14);
        ip[0] = 0x45; ip[1] = (byte)(segment[15] & 0xFC); ip[3] = 40; ip[6] = 0x40; ip[8] = 64; ip[9] = 6;
        segment.AsSpan(14 + 16, 4).CopyTo(ip.Slice(12));   // from the address it was sent to
        segment.AsSpan(14 + 12, 4).CopyTo(ip.Slice(16));
        ushort c = InternetChecksum(ip.Slice(0, 20)); ip[10] = (byte)(c >> 8); ip[11] = (byte)c;
        Span<byte> t = ip.Slice(20);
        segment.AsSpan(14 + 20 + 2, 2).CopyTo(t);          // ports swapped
        segment.AsSpan(14 + 20, 2).CopyTo(t.Slice(2));
        int at = hadAck ? 4 : 8;
        t[at] = (byte)(seqOrAck >> 24); t[at + 1] = (byte)(seqOrAck >> 16); t[at + 2] = (byte)(seqOrAck >> 8); t[at + 3] = (byte)seqOrAck;
        t[12] = 0x50; t[13] = (byte)(hadAck ? 0x04 : 0x14);
        byte[] pseudo = [.. ip.Slice(12, 8).ToArray(), 0, 6, 0, 20, .. t.ToArray()];
        ushort tc = InternetChecksum(pseudo); t[16] = (byte)(tc >> 8); t[17] = (byte)tc;
        return f;
    }

    /// <summary>Inserts IPv4 options after the 20-byte header of an Ethernet frame; IHL, length and checksum rewritten.</summary>
    static byte[] WithIpOptions(byte[] frame, byte[] options)
    {
        byte[] f = [.. frame[..34], .. options, .. frame[34..]];
        f[14] = (byte)(0x40 | (20 + options.Length) / 4);
        int total = f.Length - 14;
        f[16] = (byte)(total >> 8); f[17] = (byte)total;
        f[24] = f[25] = 0;
        ushort c = InternetChecksum(f.AsSpan(14, 20 + options.Length)); f[24] = (byte)(c >> 8); f[25] = (byte)c;
        return f;
    }

    static Case NodeAnswers()
    {
        const string E = "203.0.113.2", N = "192.168.0.2", C = "10.244.1.5", Dns = "10.96.0.53", DnsB = "10.244.2.8";
        var steps = new List<Step>();

        byte[] syn = TcpFrame(E, 41000, N, 31999, Tcp.Syn, 5000, 0, "", 64, 1, UplinkMac, NodeMac);
        steps.Add(new Step(syn, V.Line("reject", null, V.T("tcp", $"{E}:41000", $"{N}:31999"), V.T("tcp", $"{N}:31999", $"{E}:41000"), null, null),
            NodeReset(syn, false, 5001)));
        byte[] ack = TcpFrame(E, 41001, N, 31999, Tcp.Ack | Tcp.Psh, 6000, 90_000, "data", 64, 2, UplinkMac, NodeMac);
        steps.Add(new Step(ack, V.Line("reject", null, V.T("tcp", $"{E}:41001", $"{N}:31999"), V.T("tcp", $"{N}:31999", $"{E}:41001"), null, null),
            NodeReset(ack, true, 90_000)));
        byte[] ssh = TcpFrame(E, 41002, N, 22, Tcp.Syn, 7000, 0, "", 64, 3, UplinkMac, NodeMac);
        steps.Add(new Step(ssh, V.Line("pass", null, V.T("tcp", $"{E}:41002", $"{N}:22"), null, null, null), null));
        byte[] udp = UdpFrame(E, 41003, N, 9999, [1, 2, 3], 64, 4, false, UplinkMac, NodeMac);
        steps.Add(new Step(udp, V.Line("reject", null, V.T("udp", $"{E}:41003", $"{N}:9999"), V.T("icmp", N, E), null, null),
            IcmpPortUnreachable(udp, N, Draws.IcmpIdFor(udp, steps.Count * 1_000_000L), decrementQuotedTtl: false)));

        // A pod's DNS query to the ClusterIP carrying Record Route (room for two) and Timestamp (timestamps only).
        byte[] query = [0x55, 0x66, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1];
        byte[] RrTs(byte rrPtr, byte[] rrSlot1, byte tsPtr, byte[] tsSlot1) =>
            [7, 11, rrPtr, .. rrSlot1, 0, 0, 0, 0, /* NOP */ 1, 68, 12, tsPtr, 0, .. tsSlot1, 0, 0, 0, 0];
        int index = steps.Count;
        uint ms = (uint)((ulong)((Case.StartNs + index * 1_000_000L) / 1_000_000) % 86_400_000UL);
        byte[] Be(uint v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];
        byte[] inOpts = RrTs(4, [0, 0, 0, 0], 5, [0, 0, 0, 0]);
        byte[] outOpts = RrTs(8, [192, 168, 0, 2], 9, Be(ms));  // the node's uplink address: the backend is on node-2
        steps.Add(new Step(WithIpOptions(UdpFrame(C, 41004, Dns, 53, query, 64, 5), inOpts),
            V.Line("forward", null, V.T("udp", $"{C}:41004", $"{Dns}:53"), V.T("udp", $"{C}:41004", $"{DnsB}:5353"), "kube-system/dns:dns", $"{DnsB}:5353"),
            WithIpOptions(UdpFrame(C, 41004, DnsB, 5353, query, 63, 5), outOpts)));
        return new Case("034-node-answers", "The node's own answers: closed ports, IP options",
            "Traffic to node-1's address 192.168.0.2 on ports no service and no host process serves gets the kernel's " +
            "own answer instead of passing: a SYN to 31999 gets RST|ACK with seq 0 and ack = its seq + 1, a data " +
            "segment with ACK gets a bare RST whose seq is its ack number (tcp_v4_send_reset: TTL 64, ID 0, DF, window " +
            "0), and a UDP datagram to 9999 gets ICMP port unreachable from the node address, quoting it with its TTL " +
            "unchanged (INPUT path). A SYN to 22 (sshd, one of the default --host-ports 22/tcp,10250/tcp,10256/tcp) " +
            "passes to the host. Last, a pod's DNS query to the ClusterIP carries the Record Route and Timestamp " +
            "options: forwarded, it records the node's egress address 192.168.0.2 and the time in ms since midnight UT " +
            "of the capture clock, both pointers advanced, the header checksum recomputed (RFC 791, ip_forward_options).", steps);
    }
}
