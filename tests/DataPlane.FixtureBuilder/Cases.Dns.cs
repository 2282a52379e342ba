using System.Text;
using static DataPlane.FixtureBuilder.Frames;

namespace DataPlane.FixtureBuilder;

/// <summary>Case 020: the data plane answers cluster DNS itself (responses encoded here by hand, byte by byte).</summary>
public static partial class Cases
{
    // ---- 020: queries to the cluster DNS address answered by the data plane, as CoreDNS's kubernetes plugin would.
    static Case ClusterDns()
    {
        const string C = "10.244.1.5", DNS = "10.96.0.53";
        var steps = new List<Step>();
        void Ask(ushort port, byte[] query, byte[] response) => steps.Add(new Step(
            UdpFrame(C, port, DNS, 53, query, 64, 11),
            V.Line("answer", null, V.T("udp", $"{C}:{port}", $"{DNS}:53"), V.T("udp", $"{DNS}:53", $"{C}:{port}"), null, null),
            DnsAnswerFrame(DNS, C, port, response)));

        byte[] web = Name("web", "default", "svc", "cluster", "local");
        byte[] nope = Name("nope", "default", "svc", "cluster", "local");
        byte[] srv = Name("_http", "_tcp", "web", "default", "svc", "cluster", "local");
        byte[] typeA = [0, 1], typeAaaa = [0, 28], typeSrv = [0, 33], typeSoa = [0, 6], classIn = [0, 1], ttl5 = [0, 0, 0, 5];
        // The zone SOA, its owner and names compressed against "cluster.local" in the question at offset `at`.
        byte[] Soa(int at) => [0xC0, (byte)at, .. typeSoa, .. classIn, .. ttl5, 0, 42,
            2, (byte)'n', (byte)'s', 3, (byte)'d', (byte)'n', (byte)'s', 0xC0, (byte)at,
            10, .. "hostmaster"u8, 0xC0, (byte)at,
            0, 0, 0, 1, 0, 0, 0x1C, 0x20, 0, 0, 0x07, 0x08, 0, 1, 0x51, 0x80, 0, 0, 0, 5];
        static byte[] Header(ushort id, ushort flags, int qd, int an, int ns, int ar) =>
            [(byte)(id >> 8), (byte)id, (byte)(flags >> 8), (byte)flags, 0, (byte)qd, 0, (byte)an, 0, (byte)ns, 0, (byte)ar];

        // 1. A for a ClusterIP service: its cluster IP, the owner a pointer to the question (0xC00C), TTL 5, AA.
        Ask(50100, [.. Header(0x0101, 0x0100, 1, 0, 0, 0), .. web, .. typeA, .. classIn],
            [.. Header(0x0101, 0x8500, 1, 1, 0, 0), .. web, .. typeA, .. classIn, 0xC0, 0x0C, .. typeA, .. classIn, .. ttl5, 0, 4, 10, 96, 0, 10]);
        // 2. A name that does not exist: NXDOMAIN, the SOA in authority ("cluster.local" at offset 12+5+8+4 = 29).
        Ask(50101, [.. Header(0x0102, 0x0100, 1, 0, 0, 0), .. nope, .. typeA, .. classIn],
            [.. Header(0x0102, 0x8503, 1, 0, 1, 0), .. nope, .. typeA, .. classIn, .. Soa(29)]);
        // 3. AAAA for an IPv4-only service: NODATA (NOERROR, no answer, SOA; "cluster.local" at 12+4+8+4 = 28).
        Ask(50102, [.. Header(0x0103, 0x0100, 1, 0, 0, 0), .. web, .. typeAaaa, .. classIn],
            [.. Header(0x0103, 0x8500, 1, 0, 1, 0), .. web, .. typeAaaa, .. classIn, .. Soa(28)]);
        // 4. Outside the cluster zone: REFUSED, not authoritative (no recursion).
        byte[] example = Name("example", "com");
        Ask(50103, [.. Header(0x0104, 0x0100, 1, 0, 0, 0), .. example, .. typeA, .. classIn],
            [.. Header(0x0104, 0x8105, 1, 0, 0, 0), .. example, .. typeA, .. classIn]);
        // 5. Two questions: FORMERR, header only.
        Ask(50104, [.. Header(0x0105, 0x0100, 2, 0, 0, 0), .. web, .. typeA, .. classIn, .. web, .. typeA, .. classIn],
            [.. Header(0x0105, 0x8101, 0, 0, 0, 0)]);
        // 6. SRV of a named port: target the service name (a pointer to "web" at 12+6+5 = 23), its A in additional.
        Ask(50105, [.. Header(0x0106, 0x0100, 1, 0, 0, 0), .. srv, .. typeSrv, .. classIn],
            [.. Header(0x0106, 0x8500, 1, 1, 0, 1), .. srv, .. typeSrv, .. classIn,
                0xC0, 0x0C, .. typeSrv, .. classIn, .. ttl5, 0, 8, 0, 0, 0, 100, 0, 80, 0xC0, 23,
                0xC0, 23, .. typeA, .. classIn, .. ttl5, 0, 4, 10, 96, 0, 10]);

        return new Case("020-cluster-dns", "Cluster DNS answered by the data plane",
            "With --cluster-dns 10.96.0.53 (kube-system/dns's cluster IP in pcaps/cluster) the data plane answers DNS " +
            "queries to that address itself, as CoreDNS's kubernetes plugin would, instead of DNATing them to the CoreDNS " +
            "pod (case 002 shows the DNAT without the option). A pod asks: the A record of default/web (its cluster IP, " +
            "TTL 5, authoritative), a name that does not exist (NXDOMAIN with the zone SOA), AAAA of an IPv4-only service " +
            "(NODATA: NOERROR, no answer, SOA), a name outside the cluster zone (REFUSED: no recursion), a message with two " +
            "questions (FORMERR) and the SRV record of the named port http (target the service, its A record in the " +
            "additional section). Each answer is a new datagram from 10.96.0.53:53 back to the pod: Ethernet addresses " +
            "swapped, TTL 64, DF, IP id 0, names compressed against the question.", steps)
        { Args = ["--cluster-dns", "10.96.0.53"] };
    }

    static byte[] Name(params string[] labels)
    {
        var b = new List<byte>();
        foreach (string l in labels) { b.Add((byte)l.Length); b.AddRange(Encoding.ASCII.GetBytes(l)); }
        b.Add(0);
        return [.. b];
    }

    /// <summary>The answer datagram: from the DNS address, MACs swapped, TTL 64, id 0, DF set (header checksum redone).</summary>
    static byte[] DnsAnswerFrame(string dns, string client, ushort port, byte[] response)
    {
        byte[] f = UdpFrame(dns, 53, client, port, response, 64, 0, false, NodeMac, ClientMac);
        f[14 + 6] = 0x40;
        f[14 + 10] = f[14 + 11] = 0;
        ushort c = InternetChecksum(f.AsSpan(14, 20));
        f[14 + 10] = (byte)(c >> 8);
        f[14 + 11] = (byte)c;
        return f;
    }
}
