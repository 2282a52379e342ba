using DataPlane.Pipeline;
using static DataPlane.FixtureBuilder.Frames;

namespace DataPlane.FixtureBuilder;

/// <summary>
/// Cases for state that must not leak or misroute and for the kernel's answers around forwarding: an out-of-window RST,
/// ICMP errors with bad or unverifiable checksums, TTL 0/1 answered with ICMP time exceeded.
/// </summary>
public static partial class Cases
{
    /// <summary>
    /// ICMP time exceeded (type 11, code 0) as the kernel's icmp_send builds it for ip_forward (kernel-behaviour.md),
    /// written by hand: TOS (orig &amp; 0x1e) | 0xc0, TTL 64, DF clear, id <paramref name="ipId"/>, from
    /// <paramref name="from"/> to the offending datagram's source, quoting that datagram as it arrived (TTL unchanged)
    /// up to 576 bytes in all.
    /// </summary>
    public static byte[] IcmpTimeExceeded(byte[] offending, string from, ushort ipId)
    {
        byte[] f = IcmpPortUnreachable(offending, from, ipId, decrementQuotedTtl: false);
        Span<byte> icmp = f.AsSpan(14 + 20);
        icmp[0] = 11; icmp[1] = 0;
        icmp[2] = icmp[3] = 0;
        ushort c = InternetChecksum(icmp);
        icmp[2] = (byte)(c >> 8); icmp[3] = (byte)c;
        return f;
    }

    public static IReadOnlyList<Case> Robustness() => [RstOutOfWindow(), IcmpErrorChecksums(), TtlExceeded(), SnatPrivilegedPorts(), IcmpErrorOuterDestination()];

    // ---- 025: an RST whose sequence number is outside the window is INVALID and dropped; the connection goes on.
    static Case RstOutOfWindow()
    {
        const string C = "10.244.1.5", VIP = "10.96.0.40";
        string[] slots = ["10.244.1.21", "10.244.2.22", "10.244.2.23"]; // default/api's ready endpoints, slice order
        const long Ms = 1_000_000, S = 1_000_000_000;
        const ushort P = 46500;
        string b = slots[Draws.Backend(C, P, VIP, 443, 6, 0, 3)]; // the one new connection's draw, keyed by its SYN
        uint cs = 100_000, ss = 900_000;
        var steps = new List<Step>();
        void Out(Tcp f, uint seq, uint ack, long at, string data = "") => steps.Add(new Step(
            TcpFrame(C, P, VIP, 443, f, seq, ack, data, 64, 5),
            V.Line("forward", null, V.T("tcp", $"{C}:{P}", $"{VIP}:443"), V.T("tcp", $"{C}:{P}", $"{b}:8443"), "default/api:https", $"{b}:8443"),
            TcpFrame(C, P, b, 8443, f, seq, ack, data, 63, 5), at));
        void Back(Tcp f, uint seq, uint ack, long at, string data = "") => steps.Add(new Step(
            TcpFrame(b, 8443, C, P, f, seq, ack, data, 64, 6, UplinkMac, NodeMac),
            V.Line("forward", null, V.T("tcp", $"{b}:8443", $"{C}:{P}"), V.T("tcp", $"{VIP}:443", $"{C}:{P}"), "default/api:https", $"{b}:8443"),
            TcpFrame(VIP, 443, C, P, f, seq, ack, data, 63, 6, UplinkMac, NodeMac), at));
        void Invalid(Tcp f, uint seq, long at) => steps.Add(new Step(
            TcpFrame(C, P, VIP, 443, f, seq, 0, "", 64, 7),
            V.Line("drop", "ct-invalid", V.T("tcp", $"{C}:{P}", $"{VIP}:443"), null, null, null), null, at));

        Out(Tcp.Syn, cs, 0, 0);
        Back(Tcp.Syn | Tcp.Ack, ss, cs + 1, 1 * Ms);
        Out(Tcp.Ack, cs + 1, ss + 1, 2 * Ms);
        Out(Tcp.Psh | Tcp.Ack, cs + 1, ss + 1, 3 * Ms, "ping");
        Invalid(Tcp.Rst, cs + 5 + 0x8000_0000u, 4 * Ms);   // half the sequence space away
        Invalid(Tcp.Rst, cs + 5 + 1_000_000, 5 * Ms);       // a megabyte past the 64 KiB window
        // Past the 10 s a closed connection would have lived: still the same connection and backend.
        Back(Tcp.Psh | Tcp.Ack, ss + 1, cs + 5, 20 * S, "pong");
        Out(Tcp.Psh | Tcp.Ack, cs + 5, ss + 5, 20 * S + 1 * Ms, "ping");
        Out(Tcp.Rst, cs + 9, 0, 20 * S + 2 * Ms);           // in window: closes it, as before
        return new Case("025-rst-out-of-window", "An out-of-window RST does not close a connection",
            "A pod talks to default/api (three endpoints) through its ClusterIP. Two RSTs with the client's tuple but a " +
            "sequence number far outside the window (half the sequence space away; 1 MB past a 64 KiB window) are INVALID " +
            "to Linux conntrack (nf_conntrack_proto_tcp.c, tcp_in_window) and kube-proxy drops INVALID: both are dropped as " +
            "ct-invalid and the connection is untouched. 20 s later (past the 10 s a reset connection would have lived) " +
            "the data goes on to the same backend without a new draw; an RST at the next expected sequence number then " +
            "closes the connection as before.", steps);
    }

    // ---- 026: ICMP errors about a connection: a bad ICMP checksum is INVALID; a fragmented error is translated.
    static Case IcmpErrorChecksums()
    {
        const string E = "203.0.113.2", N = "192.168.0.2", B = "10.244.2.7";
        byte[] syn = TcpFrame(E, 50700, N, 30080, Tcp.Syn, 1, 0, "", 64, 300, UplinkMac, NodeMac);
        byte[] synOut = TcpFrame(N, 50700, B, 8080, Tcp.Syn, 1, 0, "", 63, 300, UplinkMac, NodeMac);
        var steps = new List<Step>
        {
            new(syn, V.Line("forward", null, V.T("tcp", $"{E}:50700", $"{N}:30080"), V.T("tcp", $"{N}:50700", $"{B}:8080"), "default/web:http", $"{B}:8080"), synOut),
        };
        byte[] bad = IcmpPortUnreachable(synOut, B, 78, decrementQuotedTtl: false);
        bad[14 + 20 + 2] ^= 0x01;
        steps.Add(new Step(bad, V.Line("drop", "icmp-bad-checksum", V.T("icmp", B, N), null, null, null), null));

        steps.Add(new Step(TcpFrame(B, 8080, N, 50700, Tcp.Syn | Tcp.Ack, 8, 2, "", 64, 400, UplinkMac, NodeMac),
            V.Line("forward", null, V.T("tcp", $"{B}:8080", $"{N}:50700"), V.T("tcp", $"{N}:30080", $"{E}:50700"), "default/web:http", $"{B}:8080"),
            TcpFrame(N, 30080, E, 50700, Tcp.Syn | Tcp.Ack, 8, 2, "", 63, 400, UplinkMac, NodeMac)));
        // A data segment of 1000 bytes; the backend's error quotes all of it and is split in fragments on its way.
        string data = new string('d', 1000);
        byte[] seg = TcpFrame(E, 50700, N, 30080, Tcp.Psh | Tcp.Ack, 2, 9, data, 64, 301, UplinkMac, NodeMac);
        byte[] segOut = TcpFrame(N, 50700, B, 8080, Tcp.Psh | Tcp.Ack, 2, 9, data, 63, 301, UplinkMac, NodeMac);
        steps.Add(new Step(seg, V.Line("forward", null, V.T("tcp", $"{E}:50700", $"{N}:30080"), V.T("tcp", $"{N}:50700", $"{B}:8080"), "default/web:http", $"{B}:8080"), segOut));
        byte[] err = WholeQuoteIcmpError(segOut, B, N, 79, 64);
        byte[] errOut = WholeQuoteIcmpError(TcpFrame(E, 50700, N, 30080, Tcp.Psh | Tcp.Ack, 2, 9, data, 63, 301, UplinkMac, NodeMac), N, E, 79, 63);
        List<byte[]> inFrags = Fragment(err, 512), outFrags = Fragment(errOut, 512);
        for (int i = 0; i < inFrags.Count; i++)
            steps.Add(new Step(inFrags[i], V.Line("forward", null, V.T("icmp", B, N), V.T("icmp", N, E), "default/web:http", $"{B}:8080"), outFrags[i]));
        return new Case("026-icmp-error-checksums", "ICMP errors: a bad checksum is INVALID, a fragmented error is translated",
            "203.0.113.2 connects to NodePort 192.168.0.2:30080 (DNAT to 10.244.2.7:8080, masquerade to the node). The " +
            "backend's ICMP port unreachable about the SYN arrives with a corrupted ICMP checksum: Linux conntrack's " +
            "icmp_error marks it INVALID (nf_conntrack_checksum=1) and kube-proxy drops it, so it is dropped as " +
            "icmp-bad-checksum instead of leaving with a fresh valid checksum. Then an error quoting a whole 1000-byte " +
            "segment arrives in three fragments (512 + 512 + 44 bytes of IP payload, IP id 79): the checksum cannot be verified " +
            "over the first fragment, so it is translated (outer and quoted headers) with its ICMP checksum updated " +
            "incrementally, which keeps the reassembled message's checksum valid, and the later fragments follow it " +
            "through the fragment map with the same outer addresses. The kernel would reassemble first and emit the same " +
            "bytes once the last fragment is in.", steps);
    }

    // ---- 035: an ICMP error quoting a tracked connection but sent elsewhere is INVALID (nf_conntrack_inet_error).
    static Case IcmpErrorOuterDestination()
    {
        const string E = "203.0.113.2", N = "192.168.0.2", B = "10.244.2.7", OtherPod = "10.244.1.9", OtherNode = "192.168.0.3";
        byte[] syn = TcpFrame(E, 50800, N, 30080, Tcp.Syn, 1, 0, "", 64, 500, UplinkMac, NodeMac);
        byte[] synOut = TcpFrame(N, 50800, B, 8080, Tcp.Syn, 1, 0, "", 63, 500, UplinkMac, NodeMac);
        var steps = new List<Step>
        {
            new(syn, V.Line("forward", null, V.T("tcp", $"{E}:50800", $"{N}:30080"), V.T("tcp", $"{N}:50800", $"{B}:8080"), "default/web:http", $"{B}:8080"), synOut),
        };
        // The same port unreachable about the SYN as it left (masqueraded to the node), sent to a pod and to another
        // node: outer daddr != the quoted source, so conntrack relates it to nothing and kube-proxy drops INVALID.
        foreach (string to in new[] { OtherPod, OtherNode })
            steps.Add(new Step(WholeQuoteIcmpError(synOut, B, to, 81, 64), V.Line("drop", "ct-invalid", V.T("icmp", B, to), null, null, null), null));
        // Sent to the node, the quoted source: related, translated back to the client (outer and quoted headers).
        byte[] err = WholeQuoteIcmpError(synOut, B, N, 82, 64);
        byte[] errOut = WholeQuoteIcmpError(TcpFrame(E, 50800, N, 30080, Tcp.Syn, 1, 0, "", 63, 500, UplinkMac, NodeMac), N, E, 82, 63);
        steps.Add(new Step(err, V.Line("forward", null, V.T("icmp", B, N), V.T("icmp", N, E), "default/web:http", $"{B}:8080"), errOut));
        return new Case("035-icmp-error-outer-destination", "ICMP errors sent elsewhere than the connection's endpoint are INVALID",
            "203.0.113.2 connects to NodePort 192.168.0.2:30080 (DNAT to 10.244.2.7:8080, masquerade to the node). A port " +
            "unreachable quoting the SYN as it left (192.168.0.2:50800 -> 10.244.2.7:8080) arrives addressed to another pod " +
            "(10.244.1.9), then to another node (192.168.0.3). Linux conntrack's nf_conntrack_inet_error " +
            "(net/netfilter/nf_conntrack_proto_icmp.c) finds the connection from the quoted tuple but requires the error's " +
            "outer destination to be the quoted datagram's source (\"outer daddr != inner\"): both are INVALID and " +
            "kube-proxy's KUBE-FORWARD rule drops them, so neither is translated to the client (ct-invalid). The same error " +
            "sent to the node, where the SYN came from, is RELATED and translated back to 203.0.113.2 as before.", steps);
    }

    /// <summary>An ICMP port unreachable quoting the whole datagram (no 576-byte limit: a router on a small-MTU path), by hand.</summary>
    static byte[] WholeQuoteIcmpError(byte[] offending, string from, string to, ushort ipId, byte ttl)
    {
        byte[] quoted = offending[14..];
        int total = 20 + 8 + quoted.Length;
        byte[] f = new byte[14 + total];
        offending.AsSpan(6, 6).CopyTo(f.AsSpan(0));
        offending.AsSpan(0, 6).CopyTo(f.AsSpan(6));
        f[12] = 0x08;
        Span<byte> ip = f.AsSpan(14);
        ip[0] = 0x45; ip[1] = 0xC0;
        ip[2] = (byte)(total >> 8); ip[3] = (byte)total;
        ip[4] = (byte)(ipId >> 8); ip[5] = (byte)ipId;
        ip[8] = ttl; ip[9] = 1;
        System.Net.IPAddress.Parse(from).GetAddressBytes().CopyTo(ip.Slice(12));
        System.Net.IPAddress.Parse(to).GetAddressBytes().CopyTo(ip.Slice(16));
        ushort ipc = InternetChecksum(ip.Slice(0, 20));
        ip[10] = (byte)(ipc >> 8); ip[11] = (byte)ipc;
        Span<byte> icmp = ip.Slice(20);
        icmp[0] = 3; icmp[1] = 3;
        quoted.CopyTo(icmp.Slice(8));
        ushort ic = InternetChecksum(icmp);
        icmp[2] = (byte)(ic >> 8); icmp[3] = (byte)ic;
        return f;
    }

    // ---- 027: TTL 1 and 0: ICMP time exceeded, from the address the kernel answers from.
    static Case TtlExceeded()
    {
        var steps = new List<Step>();
        void Expect(byte[] f, string svc, string from, System.Text.Json.Nodes.JsonObject @in, string dst) => steps.Add(new Step(f,
            V.Line("reject", "ttl-exceeded", @in, V.T("icmp", from, dst), svc, null), IcmpTimeExceeded(f, from, Draws.IcmpIdFor(f, steps.Count * 1_000_000L))));
        // ClusterIP with an endpoint: the error is NATed back to come from the ClusterIP.
        byte[] a = TcpFrame("10.244.1.5", 41100, "10.96.0.10", 80, Tcp.Syn, 1, 0, "", ttl: 1, id: 50);
        Expect(a, "default/web:http", "10.96.0.10", V.T("tcp", "10.244.1.5:41100", "10.96.0.10:80"), "10.244.1.5");
        byte[] b = UdpFrame("10.244.1.5", 41101, "10.96.0.53", 53, [1, 2, 3, 4], ttl: 0, id: 51);
        Expect(b, "kube-system/dns:dns", "10.96.0.53", V.T("udp", "10.244.1.5:41101", "10.96.0.53:53"), "10.244.1.5");
        // A service without endpoints: time exceeded comes before REJECT, from the interface towards the sender.
        byte[] c = TcpFrame("10.244.1.5", 41102, "10.96.0.30", 80, Tcp.Syn, 1, 0, "", ttl: 1, id: 52);
        Expect(c, "default/empty:http", "10.244.1.1", V.T("tcp", "10.244.1.5:41102", "10.96.0.30:80"), "10.244.1.5");
        byte[] d = TcpFrame("203.0.113.9", 41103, "10.96.0.30", 80, Tcp.Syn, 1, 0, "", 1, 53, UplinkMac, NodeMac);
        Expect(d, "default/empty:http", "192.168.0.2", V.T("tcp", "203.0.113.9:41103", "10.96.0.30:80"), "203.0.113.9");
        // NodePort: from the node address.
        byte[] e = TcpFrame("203.0.113.9", 41104, "192.168.0.2", 30080, Tcp.Syn, 1, 0, "", 1, 54, UplinkMac, NodeMac);
        Expect(e, "default/web:http", "192.168.0.2", V.T("tcp", "203.0.113.9:41104", "192.168.0.2:30080"), "203.0.113.9");
        // TTL 2 to the service without endpoints is forwarded by the kernel and meets REJECT, as before.
        byte[] f = TcpFrame("10.244.1.5", 41105, "10.96.0.30", 80, Tcp.Syn, 1, 0, "", ttl: 2, id: 55);
        steps.Add(new Step(f, V.Line("reject", null, V.T("tcp", "10.244.1.5:41105", "10.96.0.30:80"), V.T("icmp", "10.244.1.1", "10.244.1.5"), "default/empty:http", null),
            IcmpPortUnreachable(f, "10.244.1.1", Draws.IcmpIdFor(f, steps.Count * 1_000_000L), decrementQuotedTtl: true)));
        return new Case("027-ttl-exceeded", "TTL 1 and 0 towards services: ICMP time exceeded",
            "The kernel's ip_forward refuses a datagram that arrives with TTL 0 or 1 after PREROUTING (where kube-proxy's " +
            "DNAT happened) and before the FORWARD hook (where its REJECT is), answering ICMP time exceeded (type 11, " +
            "code 0) built like every icmp_send error (TOS 0xc0, TTL 64, quoting the datagram as it arrived, TTL " +
            "unchanged). To a ClusterIP with endpoints (TCP, and UDP with TTL 0) the error comes from the ClusterIP (the " +
            "conntrack NAT of the related error); to a service without endpoints it comes before REJECT, from the " +
            "interface towards the sender (10.244.1.1 for a pod, the node IP for an outside client); to a NodePort from " +
            "the node address. No connection is created. With TTL 2 the same service without endpoints REJECTs with port " +
            "unreachable, as before. Each IP id is a seeded draw keyed by the datagram answered.", steps);
    }

    // ---- 028: masquerade keeps a privileged client port privileged (the kernel's port classes).
    static Case SnatPrivilegedPorts()
    {
        const string N = "192.168.0.2", B = "10.244.2.7";
        var steps = new List<Step>();
        // Each client's own port is free, so it is kept: a privileged one is in its class, not moved to 32768-65535.
        foreach (var (client, port) in new[] { ("203.0.113.11", (ushort)800), ("203.0.113.12", (ushort)300), ("203.0.113.13", (ushort)40001) })
        {
            steps.Add(new Step(TcpFrame(client, port, N, 30080, Tcp.Syn, 1, 0, "", 64, 1, UplinkMac, NodeMac),
                V.Line("forward", null, V.T("tcp", $"{client}:{port}", $"{N}:30080"), V.T("tcp", $"{N}:{port}", $"{B}:8080"), "default/web:http", $"{B}:8080"),
                TcpFrame(N, port, B, 8080, Tcp.Syn, 1, 0, "", 63, 1, UplinkMac, NodeMac)));
            steps.Add(new Step(TcpFrame(B, 8080, N, port, Tcp.Syn | Tcp.Ack, 9, 2, "", 64, 2, UplinkMac, NodeMac),
                V.Line("forward", null, V.T("tcp", $"{B}:8080", $"{N}:{port}"), V.T("tcp", $"{N}:30080", $"{client}:{port}"), "default/web:http", $"{B}:8080"),
                TcpFrame(N, 30080, client, port, Tcp.Syn | Tcp.Ack, 9, 2, "", 63, 2, UplinkMac, NodeMac)));
        }
        return new Case("028-snat-privileged-ports", "Masquerade keeps a privileged client port in its class",
            "Three outside clients connect to NodePort 192.168.0.2:30080 (DNAT to 10.244.2.7:8080, masquerade to the node) " +
            "from ports 800, 300 and 40001, each free. Linux's MASQUERADE without a port range keeps a port in its class " +
            "(nf_nat_l4proto_unique_tuple: below 512 within 1-511, 512-1023 within 600-1023), so 800 and 300 are kept " +
            "(before, 800 and 300 were moved into 32768-65535); 40001 is in the SNAT range and kept as before. Each " +
            "SYN-ACK is translated back.", steps);
    }

}
