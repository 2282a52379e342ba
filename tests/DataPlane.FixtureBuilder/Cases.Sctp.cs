using DataPlane.Pipeline;
using static DataPlane.FixtureBuilder.SctpFrames;

namespace DataPlane.FixtureBuilder;

/// <summary>
/// Cases 030-033: SCTP services (pcaps/cluster/sctp.yaml). Expected frames are rebuilt from scratch with the translated
/// addresses and ports, TTL - 1 and a CRC32c computed bit by bit (<see cref="SctpFrames"/>).
/// </summary>
public static partial class Cases
{
    public static IReadOnlyList<Case> Sctp() => [SctpClusterIp(), SctpNodePort(), SctpInvalid(), SctpNoEndpoints()];

    const string SctpSvc = "default/diameter:diameter", SctpB = "10.244.2.32";
    const uint ClientTag = 0x1C0FFEE1, ServerTag = 0x5EA7BEEF;

    // ---- 030: pod -> ClusterIP, an SCTP association from INIT to SHUTDOWN_COMPLETE. DNAT only.
    static Case SctpClusterIp()
    {
        const string C = "10.244.1.5", VIP = "10.96.0.132";
        const ushort CP = 5000;
        var steps = new List<Step>();
        ushort id = 300;
        void Out(uint vtag, byte[] chunks)
        {
            id++;
            steps.Add(new Step(
                Frame(C, CP, VIP, 3868, vtag, chunks, 64, id),
                V.Line("forward", null, V.T("sctp", $"{C}:{CP}", $"{VIP}:3868"), V.T("sctp", $"{C}:{CP}", $"{SctpB}:3869"), SctpSvc, $"{SctpB}:3869"),
                Frame(C, CP, SctpB, 3869, vtag, chunks, 63, id)));
        }
        void Back(uint vtag, byte[] chunks)
        {
            id++;
            steps.Add(new Step(
                Frame(SctpB, 3869, C, CP, vtag, chunks, 64, id, UplinkMac, Frames.NodeMac),
                V.Line("forward", null, V.T("sctp", $"{SctpB}:3869", $"{C}:{CP}"), V.T("sctp", $"{VIP}:3868", $"{C}:{CP}"), SctpSvc, $"{SctpB}:3869"),
                Frame(VIP, 3868, C, CP, vtag, chunks, 63, id, UplinkMac, Frames.NodeMac)));
        }
        Out(0, Init(ClientTag, 100));                          // NONE -> CLOSED (the kernel's table: INIT opens in CLOSED)
        Back(ClientTag, InitAck(ServerTag, 900));              // -> COOKIE_WAIT
        Out(ServerTag, CookieEcho());                          // -> COOKIE_ECHOED
        Back(ClientTag, CookieAck());                          // -> ESTABLISHED, ASSURED
        Out(ServerTag, Data(100, "CER diameter capabilities-exchange"));
        Back(ClientTag, SackChunk(100));
        Back(ClientTag, Data(900, "CEA ok"));
        Out(ServerTag, SackChunk(900));
        Out(ServerTag, Shutdown(900));                         // -> SHUTDOWN_SENT
        Back(ClientTag, ShutdownAck());                        // -> SHUTDOWN_ACK_SENT
        Out(ServerTag, ShutdownComplete());                    // -> CLOSED
        return new Case("030-sctp-clusterip", "ClusterIP SCTP association from a pod, INIT to SHUTDOWN_COMPLETE",
            "A pod (10.244.1.5:5000) opens an SCTP association to default/diameter's ClusterIP 10.96.0.132:3868/SCTP: " +
            "INIT, INIT_ACK, COOKIE_ECHO, COOKIE_ACK, DATA and SACK both ways, SHUTDOWN, SHUTDOWN_ACK, SHUTDOWN_COMPLETE. " +
            "Every client packet is DNATed to the endpoint 10.244.2.32:3869 and every reply comes back from " +
            "10.96.0.132:3868; the port changes, so the CRC32c is recomputed over the whole SCTP packet (expected values " +
            "computed bit by bit by the fixture builder). The conntrack entry goes CLOSED, COOKIE_WAIT, COOKIE_ECHOED, " +
            "ESTABLISHED, SHUTDOWN_SENT, SHUTDOWN_ACK_SENT, CLOSED as in the kernel's nf_conntrack_proto_sctp table. " +
            "Pod source: no masquerade. TTL - 1.", steps);
    }

    // ---- 031: external client -> NodePort, SCTP: DNAT + masquerade to the node IP; bundled chunks; ABORT.
    static Case SctpNodePort()
    {
        const string E = "203.0.113.2", N = "192.168.0.2";
        const ushort EP = 40010, NP = 30132;
        var steps = new List<Step>();
        void Out(uint vtag, byte[] chunks) => steps.Add(new Step(
            Frame(E, EP, N, NP, vtag, chunks, 64, 110, UplinkMac, Frames.NodeMac),
            V.Line("forward", null, V.T("sctp", $"{E}:{EP}", $"{N}:{NP}"), V.T("sctp", $"{N}:{EP}", $"{SctpB}:3869"), SctpSvc, $"{SctpB}:3869"),
            Frame(N, EP, SctpB, 3869, vtag, chunks, 63, 110, UplinkMac, Frames.NodeMac)));
        void Back(uint vtag, byte[] chunks) => steps.Add(new Step(
            Frame(SctpB, 3869, N, EP, vtag, chunks, 64, 210, UplinkMac, Frames.NodeMac),
            V.Line("forward", null, V.T("sctp", $"{SctpB}:3869", $"{N}:{EP}"), V.T("sctp", $"{N}:{NP}", $"{E}:{EP}"), SctpSvc, $"{SctpB}:3869"),
            Frame(N, NP, E, EP, vtag, chunks, 63, 210, UplinkMac, Frames.NodeMac)));
        Out(0, Init(ClientTag, 1));
        Back(ClientTag, InitAck(ServerTag, 7));
        Out(ServerTag, Concat(CookieEcho(), Data(1, "CER")));  // DATA may be bundled after COOKIE_ECHO (RFC 9260 §5.1)
        Back(ClientTag, Concat(CookieAck(), SackChunk(1)));
        Back(ClientTag, Data(7, "CEA"));
        Out(ServerTag, Abort());                               // -> CLOSED
        return new Case("031-sctp-nodeport", "NodePort SCTP association from an external client, with SNAT",
            "203.0.113.2:40010 associates with node-1's NodePort 192.168.0.2:30132/SCTP (default/diameter, " +
            "externalTrafficPolicy Cluster). The INIT is DNATed to 10.244.2.32:3869 and masqueraded to the node IP, " +
            "keeping the client's port 40010 (in the SNAT range and free). COOKIE_ECHO travels bundled with DATA and " +
            "COOKIE_ACK with a SACK; the client ends with an ABORT. Replies to 192.168.0.2:40010 are translated back to " +
            "192.168.0.2:30132 -> 203.0.113.2:40010. SCTP has no pseudo-header: the CRC32c changes only because the " +
            "ports do (recomputed over the whole packet; expected values computed bit by bit).", steps);
    }

    // ---- 032: what SCTP conntrack refuses: a bad CRC32c, out-of-the-blue chunks, INIT with a tag, a short header.
    static Case SctpInvalid()
    {
        const string C = "10.244.1.5", VIP = "10.96.0.132";
        var steps = new List<Step>();
        void Dropped(ushort port, string reason, byte[] frame) => steps.Add(new Step(frame,
            V.Line("drop", reason, V.T("sctp", $"{C}:{port}", $"{VIP}:3868"), null, SctpSvc, null), null));
        Dropped(5100, "sctp-bad-checksum", Frame(C, 5100, VIP, 3868, 0, Init(ClientTag, 1), badCrc: true));
        Dropped(5101, "ct-invalid", Frame(C, 5101, VIP, 3868, ServerTag, Data(1, "out of the blue")));
        Dropped(5102, "ct-invalid", Frame(C, 5102, VIP, 3868, ServerTag, Abort()));
        Dropped(5103, "ct-invalid", Frame(C, 5103, VIP, 3868, 0x1234, Init(ClientTag, 1)));       // RFC 9260 §8.5.1 (A): tag must be 0
        Dropped(5104, "ct-invalid", Frame(C, 5104, VIP, 3868, 0, Concat(Init(ClientTag, 1), Data(1, "x")))); // INIT not alone
        // A tracked association: its packet with a bad CRC is dropped too, the next good one goes through.
        steps.Add(new Step(Frame(C, 5105, VIP, 3868, 0, Init(ClientTag, 1), 64, 7),
            V.Line("forward", null, V.T("sctp", $"{C}:5105", $"{VIP}:3868"), V.T("sctp", $"{C}:5105", $"{SctpB}:3869"), SctpSvc, $"{SctpB}:3869"),
            Frame(C, 5105, SctpB, 3869, 0, Init(ClientTag, 1), 63, 7)));
        steps.Add(new Step(Frame(SctpB, 3869, C, 5105, ClientTag, InitAck(ServerTag, 5), 64, 8, UplinkMac, Frames.NodeMac, badCrc: true),
            V.Line("drop", "sctp-bad-checksum", V.T("sctp", $"{SctpB}:3869", $"{C}:5105"), null, null, null), null));
        steps.Add(new Step(Frame(SctpB, 3869, C, 5105, ClientTag, InitAck(ServerTag, 5), 64, 9, UplinkMac, Frames.NodeMac),
            V.Line("forward", null, V.T("sctp", $"{SctpB}:3869", $"{C}:5105"), V.T("sctp", $"{VIP}:3868", $"{C}:5105"), SctpSvc, $"{SctpB}:3869"),
            Frame(VIP, 3868, C, 5105, ClientTag, InitAck(ServerTag, 5), 63, 9, UplinkMac, Frames.NodeMac)));
        // A common header with no chunk header after it is malformed before conntrack sees it.
        byte[] shortFrame = Frame(C, 5106, VIP, 3868, 0, Init(ClientTag, 1));
        Array.Resize(ref shortFrame, 14 + 20 + 12); // common header only, no chunk
        shortFrame[16] = 0; shortFrame[17] = 32;    // IPv4 total length 32
        shortFrame[24] = shortFrame[25] = 0;
        ushort ipc = Frames.InternetChecksum(shortFrame.AsSpan(14, 20));
        shortFrame[24] = (byte)(ipc >> 8); shortFrame[25] = (byte)ipc;
        steps.Add(new Step(shortFrame, V.Line("drop", "truncated-l4", null, null, null, null), null));
        return new Case("032-sctp-invalid", "SCTP packets conntrack refuses",
            "SCTP packets to default/diameter (10.96.0.132:3868) that Linux conntrack classes INVALID, which kube-proxy's " +
            "INVALID rule drops: an INIT with a wrong CRC32c (nf_conntrack_checksum=1), DATA and ABORT with no " +
            "association (nf_conntrack_proto_sctp creates a connection only for chunks that can open one; ABORT, " +
            "SHUTDOWN_COMPLETE and COOKIE_ACK out of the blue are refused, RFC 9260 §8.4), an INIT whose verification " +
            "tag is not 0 (§8.5.1), an INIT bundled with DATA (INIT must be alone). Then a good INIT is tracked; the " +
            "backend's INIT_ACK arrives once with a bad CRC (dropped, the association untouched) and once intact " +
            "(translated back). Last, a packet with only the 12-byte common header and no chunk: truncated.", steps);
    }

    // ---- 033: an SCTP service without endpoints: REJECT, ICMP port unreachable from the pod gateway.
    static Case SctpNoEndpoints()
    {
        const string C = "10.244.1.5", VIP = "10.96.0.133";
        byte[] init = Frame(C, 5200, VIP, 2905, 0, Init(ClientTag, 1), 64, 44);
        var steps = new List<Step>
        {
            new(init, V.Line("reject", null, V.T("sctp", $"{C}:5200", $"{VIP}:2905"), V.T("icmp", "10.244.1.1", C), "default/sctp-empty:m3ua", null),
                Frames.IcmpPortUnreachable(init, "10.244.1.1", Draws.IcmpIdFor(init, 0), decrementQuotedTtl: true)),
        };
        return new Case("033-sctp-no-endpoints", "SCTP service without endpoints: ICMP port unreachable",
            "A pod sends an SCTP INIT to default/sctp-empty (10.96.0.133:2905/SCTP), whose selector matches no pod. " +
            "kube-proxy's REJECT answers SCTP like TCP and UDP: ICMP port unreachable from the pod-side gateway " +
            "10.244.1.1, quoting the INIT with its TTL already decremented (FORWARD path).", steps);
    }
}
