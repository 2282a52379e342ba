using DataPlane.Pipeline;
using static DataPlane.FixtureBuilder.Frames;

namespace DataPlane.FixtureBuilder;

/// <summary>Cases 012-015: conntrack and NAT under timeouts, a full table, an exhausted port range, endpoint changes.</summary>
public static partial class Cases
{
    const long Ms = 1_000_000, Sec = 1_000_000_000;
    static readonly byte[] Statsd = "hits:1|c"u8.ToArray();

    // ---- 012: a UDP flow idles past its (configured) timeout: the next datagram is a new flow, balanced again.
    static Case UdpTimeout()
    {
        const string C = "10.244.1.5", VIP = "10.96.0.110";
        string[] slots = ["10.244.2.41", "10.244.2.42", "10.244.2.43"]; // default/syslog's endpoints, slice order
        byte[] msg = "<14>dataplane: hello"u8.ToArray();
        string Pick(ushort port, long at) => slots[Draws.Backend(C, port, VIP, 514, 17, at, 3)];
        var steps = new List<Step>();
        void Out(ushort port, string backend, long at) => steps.Add(new Step(
            UdpFrame(C, port, VIP, 514, msg, 64, 3),
            V.Line("forward", null, V.T("udp", $"{C}:{port}", $"{VIP}:514"), V.T("udp", $"{C}:{port}", $"{backend}:514"), "default/syslog:syslog", $"{backend}:514"),
            UdpFrame(C, port, backend, 514, msg, 63, 3), at));
        void Back(ushort port, string backend, long at) => steps.Add(new Step(
            UdpFrame(backend, 514, C, port, msg, 64, 4, false, UplinkMac, NodeMac),
            V.Line("forward", null, V.T("udp", $"{backend}:514", $"{C}:{port}"), V.T("udp", $"{VIP}:514", $"{C}:{port}"), "default/syslog:syslog", $"{backend}:514"),
            UdpFrame(VIP, 514, C, port, msg, 63, 4, false, UplinkMac, NodeMac), at));

        // The client port: the first from 42000 whose new flow after the timeout draws another endpoint than its first,
        // so the re-balancing shows as a change of backend. Another pod's flow comes first.
        ushort port = 42000;
        while (Pick(port, 0) == Pick(port, 51 * Sec)) port += 2;
        Out(42100, Pick(42100, 0), 0);
        string b1 = Pick(port, 0);
        Out(port, b1, 0);
        Back(port, b1, 1 * Ms);
        Out(port, b1, 20 * Sec);                     // within 30 s of the last packet: same flow, lifetime refreshed
        string b2 = Pick(port, 51 * Sec);
        Out(port, b2, 51 * Sec);                     // 31 s of silence: the entry expired at 50 s, a new flow
        steps.Add(new Step(                       // the old backend's late answer matches nothing any more: not ours
            UdpFrame(b1, 514, C, port, msg, 64, 5, false, UplinkMac, NodeMac),
            V.Line("pass", null, V.T("udp", $"{b1}:514", $"{C}:{port}"), null, null, null), null, 51 * Sec + 1 * Ms));
        Back(port, b2, 51 * Sec + 2 * Ms);
        return new Case("012-udp-timeout", "UDP flow timeout and re-selection",
            "A pod sends syslog datagrams to default/syslog (10.96.0.110:514/UDP, three endpoints) with the UDP conntrack " +
            "timeout set to 30 s (--ct-timeout-any 30; cilium's default is 60 s). A datagram 20 s after the last one stays " +
            "on its flow and refreshes it; one 31 s after that finds the entry expired and is a new flow, balanced again " +
            "(here onto another endpoint: each new flow is a seeded draw keyed by its first datagram, tuple and time, and " +
            "the client port is one whose two draws differ). The old endpoint's late answer no longer matches any " +
            "connection and passes untranslated.", steps)
        { Args = ["--ct-timeout-any", "30"] };
    }

    // ---- 013: the conntrack table is full: new flows drop with ct-full, established ones are not disturbed.
    static Case ConntrackFull()
    {
        const string C = "10.244.1.5", Web = "10.96.0.10", WebB = "10.244.2.7", Dns = "10.96.0.53", DnsB = "10.244.2.8";
        byte[] query = [0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1];
        var steps = new List<Step>();
        void Web1(Tcp f, bool back, uint seq, uint ack) => steps.Add(back
            ? new Step(TcpFrame(WebB, 8080, C, 43000, f, seq, ack, "", 64, 2, UplinkMac, NodeMac),
                V.Line("forward", null, V.T("tcp", $"{WebB}:8080", $"{C}:43000"), V.T("tcp", $"{Web}:80", $"{C}:43000"), "default/web:http", $"{WebB}:8080"),
                TcpFrame(Web, 80, C, 43000, f, seq, ack, "", 63, 2, UplinkMac, NodeMac))
            : new Step(TcpFrame(C, 43000, Web, 80, f, seq, ack, "", 64, 1),
                V.Line("forward", null, V.T("tcp", $"{C}:43000", $"{Web}:80"), V.T("tcp", $"{C}:43000", $"{WebB}:8080"), "default/web:http", $"{WebB}:8080"),
                TcpFrame(C, 43000, WebB, 8080, f, seq, ack, "", 63, 1)));
        Web1(Tcp.Syn, false, 100, 0);                                      // connection 1 of 2
        steps.Add(new Step(UdpFrame(C, 43001, Dns, 53, query, 64, 3),       // connection 2 of 2: the table is full
            V.Line("forward", null, V.T("udp", $"{C}:43001", $"{Dns}:53"), V.T("udp", $"{C}:43001", $"{DnsB}:5353"), "kube-system/dns:dns", $"{DnsB}:5353"),
            UdpFrame(C, 43001, DnsB, 5353, query, 63, 3)));
        byte[] third = TcpFrame(C, 43002, Web, 80, Tcp.Syn, 500, 0, "", 64, 4);
        steps.Add(new Step(third, V.Line("drop", "ct-full", V.T("tcp", $"{C}:43002", $"{Web}:80"), null, "default/web:http", null), null));
        Web1(Tcp.Syn | Tcp.Ack, true, 900, 101);                           // the established flows carry on
        Web1(Tcp.Ack, false, 101, 901);
        steps.Add(new Step(UdpFrame(DnsB, 5353, C, 43001, query, 64, 5, false, UplinkMac, NodeMac),
            V.Line("forward", null, V.T("udp", $"{DnsB}:5353", $"{C}:43001"), V.T("udp", $"{Dns}:53", $"{C}:43001"), "kube-system/dns:dns", $"{DnsB}:5353"),
            UdpFrame(Dns, 53, C, 43001, query, 63, 5, false, UplinkMac, NodeMac)));
        steps.Add(new Step(third, V.Line("drop", "ct-full", V.T("tcp", $"{C}:43002", $"{Web}:80"), null, "default/web:http", null), null));
        return new Case("013-ct-full", "Conntrack table full",
            "The conntrack table holds two connections (--ct-max 2). A TCP connection to default/web and a UDP query to " +
            "kube-system/dns fill it; a third connection's SYN is dropped with reason ct-full, and so is its " +
            "retransmission. The two live connections are not disturbed: their replies and next packets are translated " +
            "as before. DataPlane drops new flows rather than evicting (cilium's CT map is an LRU; Linux's " +
            "nf_conntrack drops new connections when nf_conntrack_max is reached unless it can early-drop an unreplied " +
            "one): an established flow never loses its state to a newcomer.", steps)
        { Args = ["--ct-max", "2"] };
    }

    // ---- 014: masquerade with a two-port SNAT range: the third client is dropped, never given a colliding tuple.
    static Case NatPortExhaustion()
    {
        const string N = "192.168.0.2", B = "10.244.2.7";
        const ushort NP = 30080;
        var steps = new List<Step>();
        void Syn(string client, ushort port, ushort natPort, long at) => steps.Add(new Step(
            TcpFrame(client, port, N, NP, Tcp.Syn, 1, 0, "", 64, 10, UplinkMac, NodeMac),
            V.Line("forward", null, V.T("tcp", $"{client}:{port}", $"{N}:{NP}"), V.T("tcp", $"{N}:{natPort}", $"{B}:8080"), "default/web:http", $"{B}:8080"),
            TcpFrame(N, natPort, B, 8080, Tcp.Syn, 1, 0, "", 63, 10, UplinkMac, NodeMac), at));
        void Exhausted(string client, ushort port, long at) => steps.Add(new Step(
            TcpFrame(client, port, N, NP, Tcp.Syn, 1, 0, "", 64, 10, UplinkMac, NodeMac),
            V.Line("drop", "nat-port-exhausted", V.T("tcp", $"{client}:{port}", $"{N}:{NP}"), null, "default/web:http", null), null, at));
        Syn("203.0.113.10", 40000, 40000, 0);                 // its port is in the range and free: kept
        Syn("203.0.113.11", 50001, 40001, 1 * Ms);            // outside the range: the only other port
        Exhausted("203.0.113.12", 50002, 2 * Ms);             // both tried: none free
        steps.Add(new Step(
            TcpFrame(B, 8080, N, 40000, Tcp.Syn | Tcp.Ack, 7, 2, "", 64, 20, UplinkMac, NodeMac),
            V.Line("forward", null, V.T("tcp", $"{B}:8080", $"{N}:40000"), V.T("tcp", $"{N}:{NP}", "203.0.113.10:40000"), "default/web:http", $"{B}:8080"),
            TcpFrame(N, NP, "203.0.113.10", 40000, Tcp.Syn | Tcp.Ack, 7, 2, "", 63, 20, UplinkMac, NodeMac), 3 * Ms));
        steps.Add(new Step(                                   // the first client resets: closing, 10 s
            TcpFrame("203.0.113.10", 40000, N, NP, Tcp.Rst, 2, 0, "", 64, 11, UplinkMac, NodeMac),
            V.Line("forward", null, V.T("tcp", $"203.0.113.10:40000", $"{N}:{NP}"), V.T("tcp", $"{N}:40000", $"{B}:8080"), "default/web:http", $"{B}:8080"),
            TcpFrame(N, 40000, B, 8080, Tcp.Rst, 2, 0, "", 63, 11, UplinkMac, NodeMac), 1 * Sec));
        Exhausted("203.0.113.12", 50002, 5 * Sec);            // still closing: its port is still taken
        Syn("203.0.113.12", 50002, 40000, 12 * Sec);          // expired at 11 s: the port is free again
        return new Case("014-nat-port-exhaustion", "SNAT port exhaustion with a two-port range",
            "External clients connect to NodePort 192.168.0.2:30080 (default/web, one endpoint, masqueraded) with the " +
            "SNAT range cut to 40000-40001 (--snat-port-range). The first client's own port 40000 is in the range and " +
            "free, so it is kept; the second gets 40001; the third finds both taken and is dropped with reason " +
            "nat-port-exhausted: never a translated tuple shared with a live flow. The first connection is reset; " +
            "while it is closing (10 s) its port stays taken; after that the third client's retransmitted SYN gets it " +
            "(an expired connection's tuple is free even before the collector reaches it, as in the kernel's " +
            "nf_conntrack_tuple_taken).", steps)
        { Args = ["--snat-port-range", "40000-40001"] };
    }

    // ---- 015: an endpoint is replaced under live flows: UDP is cleaned up and re-balanced, TCP stays put.
    static Case EndpointChange()
    {
        const string C = "10.244.1.5", VIP = "10.96.0.120", X = "10.244.2.31", Y = "10.244.2.32";
        var steps = new List<Step>();
        void Udp(ushort port, string backend, long at) => steps.Add(new Step(
            UdpFrame(C, port, VIP, 8125, Statsd, 64, 1),
            V.Line("forward", null, V.T("udp", $"{C}:{port}", $"{VIP}:8125"), V.T("udp", $"{C}:{port}", $"{backend}:8125"), "default/statsd:metrics", $"{backend}:8125"),
            UdpFrame(C, port, backend, 8125, Statsd, 63, 1), at));
        void UdpBack(string backend, long at) => steps.Add(new Step(
            UdpFrame(backend, 8125, C, 41000, Statsd, 64, 2, false, UplinkMac, NodeMac),
            V.Line("forward", null, V.T("udp", $"{backend}:8125", $"{C}:41000"), V.T("udp", $"{VIP}:8125", $"{C}:41000"), "default/statsd:metrics", $"{backend}:8125"),
            UdpFrame(VIP, 8125, C, 41000, Statsd, 63, 2, false, UplinkMac, NodeMac), at));
        void TcpOut(ushort port, Tcp f, string backend, long at) => steps.Add(new Step(
            TcpFrame(C, port, VIP, 8126, f, 1, 1, "", 64, 3),
            V.Line("forward", null, V.T("tcp", $"{C}:{port}", $"{VIP}:8126"), V.T("tcp", $"{C}:{port}", $"{backend}:8126"), "default/statsd:admin", $"{backend}:8126"),
            TcpFrame(C, port, backend, 8126, f, 1, 1, "", 63, 3), at));
        void TcpIn(ushort port, Tcp f, string backend, long at) => steps.Add(new Step(
            TcpFrame(backend, 8126, C, port, f, 1, 2, "", 64, 4, UplinkMac, NodeMac),
            V.Line("forward", null, V.T("tcp", $"{backend}:8126", $"{C}:{port}"), V.T("tcp", $"{VIP}:8126", $"{C}:{port}"), "default/statsd:admin", $"{backend}:8126"),
            TcpFrame(VIP, 8126, C, port, f, 1, 2, "", 63, 4, UplinkMac, NodeMac), at));

        Udp(41000, X, 0);
        UdpBack(X, 1 * Ms);
        TcpOut(41001, Tcp.Syn, X, 2 * Ms);
        TcpIn(41001, Tcp.Syn | Tcp.Ack, X, 3 * Ms);
        TcpOut(41001, Tcp.Ack, X, 4 * Ms);
        // +5 s: apply-5s.yaml replaces the endpoint 10.244.2.31 with 10.244.2.32.
        Udp(41000, Y, 5 * Sec);                               // the UDP connection to X was cleared: balanced again, to Y
        steps.Add(new Step(                                   // X's late answer matches no connection any more
            UdpFrame(X, 8125, C, 41000, Statsd, 64, 2, false, UplinkMac, NodeMac),
            V.Line("pass", null, V.T("udp", $"{X}:8125", $"{C}:41000"), null, null, null), null, 5 * Sec + 1 * Ms));
        TcpOut(41001, Tcp.Psh | Tcp.Ack, X, 5 * Sec + 2 * Ms);  // TCP keeps its backend, gone or not
        TcpIn(41001, Tcp.Ack, X, 5 * Sec + 3 * Ms);
        TcpOut(41002, Tcp.Syn, Y, 5 * Sec + 4 * Ms);      // a new TCP connection goes to the new endpoint
        // +10 s: apply-10s.yaml leaves the service without endpoints.
        Udp(41000, Y, 10 * Sec);                              // no serving endpoint at all: nothing is cleaned up
        byte[] fresh = UdpFrame(C, 41003, VIP, 8125, Statsd, 64, 1);
        steps.Add(new Step(fresh,                             // but a new flow is rejected
            V.Line("reject", null, V.T("udp", $"{C}:41003", $"{VIP}:8125"), V.T("icmp", "10.244.1.1", C), "default/statsd:metrics", null),
            IcmpPortUnreachable(fresh, "10.244.1.1", Draws.IcmpIdFor(fresh, 10 * Sec + 1 * Ms), decrementQuotedTtl: true), 10 * Sec + 1 * Ms));
        TcpOut(41001, Tcp.Rst, X, 10 * Sec + 2 * Ms);
        return new Case("015-endpoint-change", "Endpoints replaced under live flows",
            "default/statsd (10.96.0.120: 8125/UDP and 8126/TCP) starts with one endpoint, 10.244.2.31. A pod has a UDP " +
            "flow and an established TCP connection to it. At +5 s the replay applies apply-5s.yaml (kubectl apply of the " +
            "EndpointSlice with 10.244.2.32 instead, --apply-at): as kube-proxy's conntrack cleanup does, the UDP " +
            "connection to the endpoint that stopped serving is deleted, so the next datagram is balanced again onto " +
            "10.244.2.32 and the old endpoint's late answer passes untranslated; the TCP connection is left alone and " +
            "keeps its backend until it ends (RST), while a new TCP connection goes to the new endpoint. At +10 s " +
            "apply-10s.yaml removes every endpoint: kube-proxy cleans nothing for a service without serving endpoints, " +
            "so the UDP flow keeps going, but a new flow is rejected with ICMP port unreachable.", steps)
        {
            Args = ["--apply-at", "5=apply-5s.yaml", "--apply-at", "10=apply-10s.yaml"],
            Files = new Dictionary<string, string>
            {
                ["apply-5s.yaml"] = StatsdSlice("- addresses: [\"10.244.2.32\"]\n  nodeName: node-2\n"),
                ["apply-10s.yaml"] = StatsdSlice(null),
            },
        };
    }

    static string StatsdSlice(string? endpoints) => $"""
        # Applied by --apply-at during the replay (case 015): replaces pcaps/cluster's EndpointSlice default/statsd-1.
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: statsd-1
          namespace: default
          labels:
            kubernetes.io/service-name: statsd
        addressType: IPv4
        ports:
        - name: metrics
          port: 8125
          protocol: UDP
        - name: admin
          port: 8126
          protocol: TCP
        endpoints:{(endpoints is null ? " []\n" : "\n" + endpoints)}
        """;
}
