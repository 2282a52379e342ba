using DataPlane.Pipeline;
using static DataPlane.FixtureBuilder.Frames;

namespace DataPlane.FixtureBuilder;

/// <summary>
/// The regression cases, against the cluster in pcaps/cluster (node-1 = 192.168.0.2, pods 10.244.1.0/24, cluster CIDR
/// 10.244.0.0/16). Expected frames are the inputs rebuilt from scratch with translated addresses and TTL - 1 (the data
/// plane forwards, so it decrements TTL like the kernel; MACs are left as they came: no neighbour table yet).
/// </summary>
public static partial class Cases
{
    static readonly System.Net.NetworkInformation.PhysicalAddress UplinkMac =
        System.Net.NetworkInformation.PhysicalAddress.Parse("02-00-00-00-00-03");

    public static IReadOnlyList<Case> All() =>
        [ClusterIpTcp(), ClusterIpUdp(), NodePortTcp(), NoEndpointsReject(), BadInput(), SessionAffinity(), LocalPolicy(), Hairpin(), IcmpFromBackend(), FragmentedUdp(), ConntrackLifecycle(),
         UdpTimeout(), ConntrackFull(), NatPortExhaustion(), EndpointChange(),
         SllAny(), Sll2Any(), RawIp(), VlanQinQ(), .. Sctp(), NodeAnswers(), .. Robustness(),
         ClusterDns()];

    // ---- 001: pod -> ClusterIP, TCP: handshake, data both ways, FIN both ways. DNAT only (pod source: no masquerade).
    static Case ClusterIpTcp()
    {
        const string C = "10.244.1.5", VIP = "10.96.0.10", B = "10.244.2.7";
        const ushort CP = 40000;
        string req = "GET / HTTP/1.1\r\nHost: web\r\n\r\n", resp = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        uint cs = 1000, ss = 5000;
        var steps = new List<Step>();
        void Out(Tcp f, uint seq, uint ack, string data = "", ushort id = 1) => steps.Add(new Step(
            TcpFrame(C, CP, VIP, 80, f, seq, ack, data, 64, id),
            V.Line("forward", null, V.T("tcp", $"{C}:{CP}", $"{VIP}:80"), V.T("tcp", $"{C}:{CP}", $"{B}:8080"), "default/web:http", $"{B}:8080"),
            TcpFrame(C, CP, B, 8080, f, seq, ack, data, 63, id)));
        void Back(Tcp f, uint seq, uint ack, string data = "", ushort id = 1) => steps.Add(new Step(
            TcpFrame(B, 8080, C, CP, f, seq, ack, data, 64, id, UplinkMac, NodeMac),
            V.Line("forward", null, V.T("tcp", $"{B}:8080", $"{C}:{CP}"), V.T("tcp", $"{VIP}:80", $"{C}:{CP}"), "default/web:http", $"{B}:8080"),
            TcpFrame(VIP, 80, C, CP, f, seq, ack, data, 63, id, UplinkMac, NodeMac)));
        Out(Tcp.Syn, cs, 0, id: 11);
        Back(Tcp.Syn | Tcp.Ack, ss, cs + 1, id: 21);
        Out(Tcp.Ack, cs + 1, ss + 1, id: 12);
        Out(Tcp.Psh | Tcp.Ack, cs + 1, ss + 1, req, id: 13);
        Back(Tcp.Psh | Tcp.Ack, ss + 1, cs + 1 + (uint)req.Length, resp, id: 22);
        Out(Tcp.Fin | Tcp.Ack, cs + 1 + (uint)req.Length, ss + 1 + (uint)resp.Length, id: 14);
        Back(Tcp.Fin | Tcp.Ack, ss + 1 + (uint)resp.Length, cs + 2 + (uint)req.Length, id: 23);
        Out(Tcp.Ack, cs + 2 + (uint)req.Length, ss + 2 + (uint)resp.Length, id: 15);
        return new Case("001-clusterip-tcp", "ClusterIP TCP connection from a pod",
            "A pod (10.244.1.5) opens a TCP connection to default/web's ClusterIP 10.96.0.10:80: handshake, one request and " +
            "response, FIN both ways. Every client frame is DNATed to the only endpoint 10.244.2.7:8080 and every reply is " +
            "reverse-translated to come from 10.96.0.10:80. The source is a pod inside the cluster CIDR, so there is no " +
            "masquerade (kube-proxy marks only off-cluster sources for ClusterIP). TTL is decremented by one.", steps);
    }

    // ---- 002: pod -> ClusterIP, UDP request/response, targetPort != port; then a flow with a zero UDP checksum.
    static Case ClusterIpUdp()
    {
        const string C = "10.244.1.5", VIP = "10.96.0.53", B = "10.244.2.8";
        byte[] query = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, (byte)'w', (byte)'e', (byte)'b', 0, 0, 1, 0, 1];
        byte[] answer = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 3, (byte)'w', (byte)'e', (byte)'b', 0, 0, 1, 0, 1,
            0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 96, 0, 10];
        var steps = new List<Step>();
        foreach (var (port, zero) in new[] { ((ushort)50000, false), ((ushort)50001, true) })
        {
            steps.Add(new Step(UdpFrame(C, port, VIP, 53, query, 64, 7, zero),
                V.Line("forward", null, V.T("udp", $"{C}:{port}", $"{VIP}:53"), V.T("udp", $"{C}:{port}", $"{B}:5353"), "kube-system/dns:dns", $"{B}:5353"),
                UdpFrame(C, port, B, 5353, query, 63, 7, zero)));
            steps.Add(new Step(UdpFrame(B, 5353, C, port, answer, 64, 9, zero, UplinkMac, NodeMac),
                V.Line("forward", null, V.T("udp", $"{B}:5353", $"{C}:{port}"), V.T("udp", $"{VIP}:53", $"{C}:{port}"), "kube-system/dns:dns", $"{B}:5353"),
                UdpFrame(VIP, 53, C, port, answer, 63, 9, zero, UplinkMac, NodeMac)));
        }
        return new Case("002-clusterip-udp", "ClusterIP UDP request and response",
            "A pod sends a DNS-shaped UDP datagram to kube-system/dns at 10.96.0.53:53; it is DNATed to 10.244.2.8:5353 " +
            "(targetPort differs from port) and the answer comes back from 10.96.0.53:53. A second flow from port 50001 " +
            "carries a zero UDP checksum (\"no checksum\", RFC 768): it must stay zero after translation.", steps);
    }

    // ---- 003: external client -> NodePort, TCP: DNAT + masquerade to the node IP (client port kept: free, in range).
    static Case NodePortTcp()
    {
        const string E = "203.0.113.2", N = "192.168.0.2", B = "10.244.2.7";
        const ushort EP = 40001, NP = 30080;
        string req = "GET /healthz HTTP/1.1\r\n\r\n", resp = "HTTP/1.1 200 OK\r\n\r\n";
        uint cs = 7000, ss = 9000;
        var steps = new List<Step>();
        void Out(Tcp f, uint seq, uint ack, string data = "") => steps.Add(new Step(
            TcpFrame(E, EP, N, NP, f, seq, ack, data, 64, 100, UplinkMac, NodeMac),
            V.Line("forward", null, V.T("tcp", $"{E}:{EP}", $"{N}:{NP}"), V.T("tcp", $"{N}:{EP}", $"{B}:8080"), "default/web:http", $"{B}:8080"),
            TcpFrame(N, EP, B, 8080, f, seq, ack, data, 63, 100, UplinkMac, NodeMac)));
        void Back(Tcp f, uint seq, uint ack, string data = "") => steps.Add(new Step(
            TcpFrame(B, 8080, N, EP, f, seq, ack, data, 64, 200, UplinkMac, NodeMac),
            V.Line("forward", null, V.T("tcp", $"{B}:8080", $"{N}:{EP}"), V.T("tcp", $"{N}:{NP}", $"{E}:{EP}"), "default/web:http", $"{B}:8080"),
            TcpFrame(N, NP, E, EP, f, seq, ack, data, 63, 200, UplinkMac, NodeMac)));
        Out(Tcp.Syn, cs, 0);
        Back(Tcp.Syn | Tcp.Ack, ss, cs + 1);
        Out(Tcp.Ack, cs + 1, ss + 1);
        Out(Tcp.Psh | Tcp.Ack, cs + 1, ss + 1, req);
        Back(Tcp.Psh | Tcp.Ack, ss + 1, cs + 1 + (uint)req.Length, resp);
        Out(Tcp.Fin | Tcp.Ack, cs + 1 + (uint)req.Length, ss + 1 + (uint)resp.Length);
        Back(Tcp.Fin | Tcp.Ack, ss + 1 + (uint)resp.Length, cs + 2 + (uint)req.Length);
        Out(Tcp.Ack, cs + 2 + (uint)req.Length, ss + 2 + (uint)resp.Length);
        return new Case("003-nodeport-tcp", "NodePort TCP connection from an external client",
            "203.0.113.2:40001 connects to node-1's NodePort 192.168.0.2:30080 (default/web, externalTrafficPolicy " +
            "Cluster). The SYN is DNATed to 10.244.2.7:8080 and masqueraded to the node IP; the client's port 40001 lies " +
            "in the SNAT range 32768-65535 and is free, so it is kept (as Linux does without --random-fully). Replies to " +
            "192.168.0.2:40001 are un-SNATed and un-DNATed back to 192.168.0.2:30080 -> 203.0.113.2:40001.", steps);
    }

    // ---- 004: a service without endpoints: ICMP port unreachable back to the sender, for each attempt.
    static Case NoEndpointsReject()
    {
        const string C = "10.244.1.5", VIP = "10.96.0.30";
        var steps = new List<Step>();
        for (int i = 0; i < 2; i++)
        {
            byte[] syn = TcpFrame(C, 40002, VIP, 80, Tcp.Syn, 3000, 0, "", 64, (ushort)(40 + i));
            steps.Add(new Step(syn,
                V.Line("reject", null, V.T("tcp", $"{C}:40002", $"{VIP}:80"), V.T("icmp", "10.244.1.1", C), "default/empty:http", null),
                IcmpPortUnreachable(syn, "10.244.1.1", Draws.IcmpId(C, 40002, VIP, 80, 6, (ushort)(40 + i), i * 1_000_000L), decrementQuotedTtl: true)));
        }
        return new Case("004-no-endpoints-reject", "Connection to a service with no endpoints",
            "A pod sends a SYN (and a retransmission) to default/empty at 10.96.0.30:80, whose selector matches no pod. " +
            "kube-proxy REJECTs: each SYN is answered with ICMP destination unreachable / port unreachable (never a TCP " +
            "RST). As Linux builds it on the FORWARD path: source 10.244.1.1 (the pod-side gateway, first address of " +
            "node-1's podCIDR), TOS 0xc0, TTL 64, the quoted SYN with TTL already decremented; the IP id is a seeded " +
            "draw keyed by the SYN it answers (the kernel's is a random per-destination counter).", steps);
    }

    // ---- 005: malformed, truncated and foreign frames: every one gets a verdict and a named reason; nothing crashes.
    static Case BadInput()
    {
        var steps = new List<Step>();
        byte[] good = TcpFrame("10.244.1.5", 41000, "10.96.0.10", 80, Tcp.Syn, 1, 0);
        void Drop(byte[] f, string reason, System.Text.Json.Nodes.JsonObject? @in = null, string? svc = null) =>
            steps.Add(new Step(f, V.Line("drop", reason, @in, null, svc, null), null));
        void Pass(byte[] f, System.Text.Json.Nodes.JsonObject? @in = null) => steps.Add(new Step(f, V.Line("pass", null, @in, null, null, null), null));

        Drop(good[..10], "truncated-ethernet");
        byte[] arp = new byte[42];
        good.AsSpan(0, 12).CopyTo(arp);
        arp[12] = 0x08; arp[13] = 0x06;
        Pass(arp);
        byte[] v6 = new byte[14 + 40];
        good.AsSpan(0, 12).CopyTo(v6);
        v6[12] = 0x86; v6[13] = 0xDD; v6[14] = 0x60;
        Pass(v6);
        Drop(good[..20], "truncated-ipv4");
        byte[] ihl = (byte[])good.Clone(); ihl[14] = 0x44; Drop(ihl, "invalid-ipv4-header");
        byte[] tot = (byte[])good.Clone(); tot[16] = 0x01; tot[17] = 0x00; Fix(tot); Drop(tot, "invalid-ipv4-length");
        byte[] csum = (byte[])good.Clone(); csum[24] ^= 0xFF; Drop(csum, "bad-ip-checksum");
        byte[] gre = (byte[])good.Clone(); gre[23] = 47; Fix(gre); Drop(gre, "unsupported-l4");
        // The same foreign protocol (IGMP here) to an address that is no service frontend is not ours: passed untouched.
        byte[] igmp = (byte[])good.Clone(); igmp[23] = 2; igmp[30] = 224; igmp[31] = 0; igmp[32] = 0; igmp[33] = 22; Fix(igmp); Pass(igmp);
        byte[] shortTcp = good[..(14 + 20 + 10)]; shortTcp[16] = 0; shortTcp[17] = 30; Fix(shortTcp); Drop(shortTcp, "truncated-l4");
        // An ICMP port unreachable whose quote stops inside the quoted IPv4 header: no tuple can be read from it.
        byte[] icmpErr = IcmpPortUnreachable(TcpFrame("10.244.1.5", 41003, "10.96.0.10", 80, Tcp.Syn, 1, 0), "192.168.0.3", 5, false)[..(14 + 20 + 8 + 12)];
        icmpErr[16] = 0; icmpErr[17] = 40; Fix(icmpErr);
        Drop(icmpErr, "truncated-icmp-error");
        Pass(TcpFrame("10.244.1.5", 41001, "10.244.2.99", 22, Tcp.Syn, 1, 0), V.T("tcp", "10.244.1.5:41001", "10.244.2.99:22"));
        byte[] ttl1 = TcpFrame("10.244.1.5", 41002, "10.96.0.10", 80, Tcp.Syn, 1, 0, "", ttl: 1);
        steps.Add(new Step(ttl1, V.Line("reject", "ttl-exceeded", V.T("tcp", "10.244.1.5:41002", "10.96.0.10:80"),
            V.T("icmp", "10.96.0.10", "10.244.1.5"), "default/web:http", null), IcmpTimeExceeded(ttl1, "10.96.0.10", Draws.IcmpIdFor(ttl1, steps.Count * 1_000_000L))));
        // Last: a later fragment to a service address is held for its first fragment (nf_defrag reassembles in any
        // order), which never comes; when the capture ends nothing can complete it, and it is dropped as ip_expire
        // drops it. Its line is written then, so it is the last frame here to keep the lines in frame order.
        byte[] frag = UdpFrame("10.244.1.5", 50000, "10.96.0.53", 53, new byte[16]);
        frag[20] = 0x00; frag[21] = 0x10; Fix(frag); Drop(frag, "frag-reassembly-timeout");
        return new Case("005-bad-input", "Malformed, truncated and foreign frames",
            "Each frame is broken in one way (truncated Ethernet, truncated IPv4, IHL 4, total length beyond the frame, " +
            "bad header checksum, an L4 protocol we do not handle (GRE) sent to a service address, a TCP header cut short, an " +
            "ICMP error whose quoted header is cut short) or " +
            "is not ours (ARP, IPv6, IGMP, TCP to an address that is no service). Each gets a verdict and a named reason; " +
            "nothing is emitted. The last frame reaches a service with TTL 1: it is not forwarded (ttl-exceeded) and is " +
            "answered with ICMP time exceeded from the ClusterIP, quoting the SYN as it arrived, as the kernel's ip_forward " +
            "and conntrack's NAT of the related error do. The very last frame, a non-first fragment to a service address whose " +
            "first fragment never comes, waits in the fragment hold until the capture ends and is dropped as " +
            "frag-reassembly-timeout (its line is written when it leaves the hold, so it is placed last).", steps);
    }

    /// <summary>
    /// A short TCP connection through a translation: SYN, SYN-ACK, ACK, FIN-ACK, FIN-ACK, ACK. The client sends
    /// (client -> frontend), which leaves as (nat -> backend); the backend answers (backend -> nat), which leaves as
    /// (frontend -> client). Each expected frame is built from scratch with TTL - 1.
    /// </summary>
    static void Connection(List<Step> steps, string client, ushort cport, string frontend, ushort fport, string backend, ushort bport,
        string nat, ushort natPort, string service, uint seq = 100)
    {
        var inOut = (V.T("tcp", $"{client}:{cport}", $"{frontend}:{fport}"), V.T("tcp", $"{nat}:{natPort}", $"{backend}:{bport}"));
        var inBack = (V.T("tcp", $"{backend}:{bport}", $"{nat}:{natPort}"), V.T("tcp", $"{frontend}:{fport}", $"{client}:{cport}"));
        void Out(Tcp f, uint s, uint a) => steps.Add(new Step(TcpFrame(client, cport, frontend, fport, f, s, a, "", 64, 3),
            V.Line("forward", null, inOut.Item1.DeepClone().AsObject(), inOut.Item2.DeepClone().AsObject(), service, $"{backend}:{bport}"),
            TcpFrame(nat, natPort, backend, bport, f, s, a, "", 63, 3)));
        void Back(Tcp f, uint s, uint a) => steps.Add(new Step(TcpFrame(backend, bport, nat, natPort, f, s, a, "", 64, 4, UplinkMac, NodeMac),
            V.Line("forward", null, inBack.Item1.DeepClone().AsObject(), inBack.Item2.DeepClone().AsObject(), service, $"{backend}:{bport}"),
            TcpFrame(frontend, fport, client, cport, f, s, a, "", 63, 4, UplinkMac, NodeMac)));
        Out(Tcp.Syn, seq, 0);
        Back(Tcp.Syn | Tcp.Ack, 9000, seq + 1);
        Out(Tcp.Ack, seq + 1, 9001);
        Out(Tcp.Fin | Tcp.Ack, seq + 1, 9001);
        Back(Tcp.Fin | Tcp.Ack, 9001, seq + 2);
        Out(Tcp.Ack, seq + 2, 9002);
    }

    // ---- 006: sessionAffinity ClientIP: four connections from one pod all reach the backend the first one got.
    static Case SessionAffinity()
    {
        const string C = "10.244.1.5", VIP = "10.96.0.70";
        // The only draw: the client's first pick for the service port (timeout 600 s), keyed by client, service port
        // and affinity period; the first connection's SYN is the case's first frame.
        string backend = $"10.244.2.{31 + Draws.Affinity(C, VIP, 80, 6, 0, 600, 3)}";
        var steps = new List<Step>();
        for (int i = 0; i < 4; i++)
            Connection(steps, C, (ushort)(45000 + i), VIP, 80, backend, 8080, C, (ushort)(45000 + i), "default/sticky:http", (uint)(1000 * i));
        return new Case("006-session-affinity", "Session affinity: one client, four connections, one backend",
            "default/sticky (sessionAffinity ClientIP, timeout 600 s) has three endpoints. A pod opens four connections " +
            "from four source ports, one after another, each a full handshake and close. The first is balanced " +
            "(a seeded draw keyed by client, service port and affinity period picks the slot); the next three find the client's affinity entry and go " +
            "to the same backend without a new draw, as kube-proxy's recent-list rules and cilium's affinity map do.", steps);
    }

    // ---- 007: externalTrafficPolicy Local: the external client's address reaches the local endpoint unchanged.
    static Case LocalPolicy()
    {
        var steps = new List<Step>();
        Connection(steps, "203.0.113.7", 41000, "192.168.0.2", 30090, "10.244.1.10", 8080, "203.0.113.7", 41000, "default/local-web:http");
        return new Case("007-local-policy", "externalTrafficPolicy Local keeps the client address",
            "203.0.113.7:41000 connects to node-1's NodePort 30090 of default/local-web (externalTrafficPolicy Local, " +
            "one endpoint 10.244.1.10 on node-1). Only the destination is translated: the endpoint sees the real client " +
            "address, and the replies are un-DNATed back to 192.168.0.2:30090.", steps);
    }

    // ---- 008: hairpin: an endpoint reaching itself through its ClusterIP is masqueraded to the pod gateway.
    static Case Hairpin()
    {
        var steps = new List<Step>();
        Connection(steps, "10.244.1.10", 42000, "10.96.0.80", 80, "10.244.1.10", 8080, "10.244.1.1", 42000, "default/local-web:http");
        return new Case("008-hairpin", "Hairpin: a pod reaching itself through its service",
            "The only endpoint of default/local-web, 10.244.1.10, connects to its own ClusterIP 10.96.0.80:80 and is " +
            "DNATed back to itself. kube-proxy masquerades hairpin traffic, and MASQUERADE picks the address of the " +
            "interface towards the pod: the pod gateway 10.244.1.1 (the first address of node-1's podCIDR), keeping port " +
            "42000 (free and in the SNAT range). Without it the pod would answer itself directly and the client side " +
            "would never see the reply from the service address.", steps);
    }

    // ---- 009: an ICMP error from a backend about a NodePort connection is translated back, outer and quoted headers.
    static Case IcmpFromBackend()
    {
        const string E = "203.0.113.2", N = "192.168.0.2", B = "10.244.2.7";
        byte[] syn = TcpFrame(E, 50500, N, 30080, Tcp.Syn, 1, 0, "", 64, 300, UplinkMac, NodeMac);
        byte[] synOut = TcpFrame(N, 50500, B, 8080, Tcp.Syn, 1, 0, "", 63, 300, UplinkMac, NodeMac);
        byte[] synAsClientSentItTtl63 = TcpFrame(E, 50500, N, 30080, Tcp.Syn, 1, 0, "", 63, 300, UplinkMac, NodeMac);
        var steps = new List<Step>
        {
            new(syn, V.Line("forward", null, V.T("tcp", $"{E}:50500", $"{N}:30080"), V.T("tcp", $"{N}:50500", $"{B}:8080"), "default/web:http", $"{B}:8080"), synOut),
            new(IcmpPortUnreachable(synOut, B, 77, decrementQuotedTtl: false),
                V.Line("forward", null, V.T("icmp", B, N), V.T("icmp", N, E), "default/web:http", $"{B}:8080"),
                IcmpPortUnreachable(synAsClientSentItTtl63, N, 77, decrementQuotedTtl: false, ttl: 63)),
        };
        return new Case("009-icmp-from-backend", "ICMP port unreachable from a backend, translated back",
            "An external client's SYN to NodePort 192.168.0.2:30080 is DNATed to 10.244.2.7:8080 and masqueraded " +
            "(192.168.0.2:50500). The backend answers with ICMP port unreachable quoting the packet it received. Like " +
            "Linux conntrack's RELATED handling, the error is translated with its connection: the outer header now goes " +
            "from the service address 192.168.0.2 to the client (TTL - 1), and the quoted header is restored to what the " +
            "client sent (203.0.113.2:50500 -> 192.168.0.2:30080; its TTL stays as quoted), with the quoted IP and TCP " +
            "checksums patched and the ICMP checksum recomputed.", steps);
    }

    // ---- 010: a fragmented UDP datagram through a NodePort: later fragments follow the first one's translation.
    static Case FragmentedUdp()
    {
        const string E = "203.0.113.2", N = "192.168.0.2", B = "10.244.2.9";
        byte[] payload = Enumerable.Range(0, 3000).Select(i => (byte)(i * 7)).ToArray();
        const ushort Id = 0x1111;
        // The whole datagram as sent, and as it must leave (DNAT + masquerade, TTL - 1), each fragmented the same way.
        List<byte[]> inFrags = Fragment(UdpFrame(E, 50600, N, 30007, payload, 64, Id, false, UplinkMac, NodeMac), 1480);
        List<byte[]> outFrags = Fragment(UdpFrame(N, 50600, B, 7007, payload, 63, Id, false, UplinkMac, NodeMac), 1480);
        var steps = new List<Step>();
        for (int i = 0; i < inFrags.Count; i++)
            steps.Add(new Step(inFrags[i],
                V.Line("forward", null, V.T("udp", $"{E}:50600", $"{N}:30007"), V.T("udp", $"{N}:50600", $"{B}:7007"), "default/echo:echo", $"{B}:7007"),
                outFrags[i]));
        byte[] answer = [1, 2, 3, 4];
        steps.Add(new Step(UdpFrame(B, 7007, N, 50600, answer, 64, 9, false, UplinkMac, NodeMac),
            V.Line("forward", null, V.T("udp", $"{B}:7007", $"{N}:50600"), V.T("udp", $"{N}:30007", $"{E}:50600"), "default/echo:echo", $"{B}:7007"),
            UdpFrame(N, 30007, E, 50600, answer, 63, 9, false, UplinkMac, NodeMac)));
        // A second datagram whose first fragment never arrives: its middle fragment waits in the fragment hold until
        // the capture ends, then is dropped as the reassembly timer (ip_expire) drops it.
        List<byte[]> lost = Fragment(UdpFrame(E, 50600, N, 30007, payload, 64, 0x2222, false, UplinkMac, NodeMac), 1480);
        steps.Add(new Step(lost[1], V.Line("drop", "frag-reassembly-timeout", null, null, null, null), null));
        return new Case("010-fragmented-udp", "A fragmented UDP datagram through a NodePort",
            "203.0.113.2 sends a 3008-byte UDP datagram to NodePort 192.168.0.2:30007 (default/echo) in three fragments " +
            "(1480 + 1480 + 48 bytes of IP payload, IP id 0x1111). The first fragment carries the UDP header and is " +
            "translated like any packet (DNAT to 10.244.2.9:7007, masquerade to 192.168.0.2:50600; its UDP checksum, which " +
            "covers the whole datagram, patched incrementally); the later fragments, which have no ports, follow it through " +
            "the fragment map keyed by (src, dst, proto, id). The backend's answer is reverse-translated. A middle fragment " +
            "of another datagram (id 0x2222) whose first fragment never comes is held for it (the kernel's defrag reassembles " +
            "in any order) and, when the capture ends with nothing that could complete it, dropped as " +
            "frag-reassembly-timeout.", steps);
    }

    // ---- 011: conntrack lifecycle: RST then SYN reuse, an established flow idle past 6 h, a SYN-only flow past 60 s.
    static Case ConntrackLifecycle()
    {
        const string C = "10.244.1.5", VIP = "10.96.0.40";
        string[] slots = ["10.244.1.21", "10.244.2.22", "10.244.2.23"]; // default/api's ready endpoints, slice order
        // One draw per new connection, keyed by its first packet (port and time).
        string Pick(ushort port, long at) => slots[Draws.Backend(C, port, VIP, 443, 6, at, 3)];
        const long Ms = 1_000_000, S = 1_000_000_000;
        long t0 = 7 * 3600 * S;
        // The client ports: the first from 46000 whose new connections (at 0, after the reset, after 6 h idle) each
        // draw another backend than the one before, and the first from 46001 whose SYN-timeout restart does, so every
        // re-balancing shows as a change of backend (checked in CaseReplayTests).
        ushort port = 46000, synPort = 46001;
        while (Pick(port, 0) == Pick(port, 4 * Ms) || Pick(port, 4 * Ms) == Pick(port, 6 * Ms + (6 * 3600 + 1) * S)) port += 2;
        while (Pick(synPort, t0) == Pick(synPort, t0 + 59 * S + 61 * S)) synPort += 2;
        var steps = new List<Step>();
        void Out(ushort port, Tcp f, string backend, long at) => steps.Add(new Step(
            TcpFrame(C, port, VIP, 443, f, 1, 1, "", 64, 5),
            V.Line("forward", null, V.T("tcp", $"{C}:{port}", $"{VIP}:443"), V.T("tcp", $"{C}:{port}", $"{backend}:8443"), "default/api:https", $"{backend}:8443"),
            TcpFrame(C, port, backend, 8443, f, 1, 1, "", 63, 5), at));
        void Back(ushort port, Tcp f, string backend, long at) => steps.Add(new Step(
            TcpFrame(backend, 8443, C, port, f, 7, 2, "", 64, 6, UplinkMac, NodeMac),
            V.Line("forward", null, V.T("tcp", $"{backend}:8443", $"{C}:{port}"), V.T("tcp", $"{VIP}:443", $"{C}:{port}"), "default/api:https", $"{backend}:8443"),
            TcpFrame(VIP, 443, C, port, f, 7, 2, "", 63, 6, UplinkMac, NodeMac), at));

        // Five other connections first, as other pods' traffic would be.
        for (ushort p = 46100; p < 46105; p++)
            Out(p, Tcp.Syn, Pick(p, 0), 0);
        string b1 = Pick(port, 0);
        Out(port, Tcp.Syn, b1, 0);
        Back(port, Tcp.Syn | Tcp.Ack, b1, 1 * Ms);
        Out(port, Tcp.Ack, b1, 2 * Ms);
        Out(port, Tcp.Rst, b1, 3 * Ms);                      // reset: the connection is closed
        string b2 = Pick(port, 4 * Ms);                      // a new SYN on the closed tuple is a new connection
        Out(port, Tcp.Syn, b2, 4 * Ms);
        Back(port, Tcp.Syn | Tcp.Ack, b2, 5 * Ms);
        Out(port, Tcp.Ack, b2, 6 * Ms);
        string b3 = Pick(port, 6 * Ms + (6 * 3600 + 1) * S); // 6 h + 1 s idle: the established entry has expired
        Out(port, Tcp.Ack, b3, 6 * Ms + (6 * 3600 + 1) * S);
        string b4 = Pick(synPort, t0);
        Out(synPort, Tcp.Syn, b4, t0);                          // a SYN nobody answers...
        Out(synPort, Tcp.Syn, b4, t0 + 59 * S);                 // ...retransmitted within the 60 s SYN timeout: same entry
        string b5 = Pick(synPort, t0 + 59 * S + 61 * S);
        Out(synPort, Tcp.Syn, b5, t0 + 59 * S + 61 * S);        // ...and after it: a new connection, balanced again
        return new Case("011-ct-lifecycle", "Conntrack lifecycle: reset, reuse and timeouts on the packet clock",
            "A pod talks to default/api (three endpoints) with frame timestamps spaced to cross cilium's conntrack " +
            "timeouts. A connection is reset (RST) and its tuple reused by a new SYN: a new connection, balanced again. " +
            "Its established entry then idles 6 h + 1 s: the next ACK finds it expired and is picked up as a new " +
            "connection (nf_conntrack_tcp_loose). A SYN retransmitted after 59 s stays on its entry; one after another " +
            "61 s of silence (SYN-only timeout 60 s) starts over. Each new connection is one seeded draw keyed by its " +
            "first packet (tuple and time), so the expected backends are computed from those packets.", steps);
    }

    /// <summary>Splits an Ethernet+IPv4 frame into fragments of at most <paramref name="chunk"/> payload bytes (a multiple of 8).</summary>
    static List<byte[]> Fragment(byte[] frame, int chunk)
    {
        int ihl = (frame[14] & 0xF) * 4;
        byte[] payload = frame[(14 + ihl)..];
        var list = new List<byte[]>();
        for (int off = 0; off < payload.Length; off += chunk)
        {
            int len = Math.Min(chunk, payload.Length - off);
            byte[] f = [.. frame[..(14 + ihl)], .. payload.AsSpan(off, len)];
            int total = ihl + len;
            f[16] = (byte)(total >> 8); f[17] = (byte)total;
            ushort flags = (ushort)((off + len < payload.Length ? 0x2000 : 0) | (off / 8));
            f[20] = (byte)(flags >> 8); f[21] = (byte)flags;
            Fix(f);
            list.Add(f);
        }
        return list;
    }

    /// <summary>Recompute the IPv4 header checksum after corrupting another field.</summary>
    static void Fix(byte[] f)
    {
        f[24] = f[25] = 0;
        ushort c = InternetChecksum(f.AsSpan(14, (f[14] & 0xF) * 4));
        f[24] = (byte)(c >> 8); f[25] = (byte)c;
    }
}
