using System.Net.NetworkInformation;
using DataPlane.IO.Pcap;
using static DataPlane.FixtureBuilder.Frames;

namespace DataPlane.FixtureBuilder;

/// <summary>
/// Cases 016-019: captures from where people take them. Inputs of other link types are assembled here byte by byte
/// from the cooked/raw header layouts (tcpdump.org's LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW pages) around
/// IPv4 packets PacketDotNet builds; expected outputs are Ethernet frames PacketDotNet builds from scratch with the
/// documented synthesized MACs (source = the cooked header's address, destination zero; raw IP: both zero).
/// </summary>
public static partial class Cases
{
    static readonly PhysicalAddress ZeroMac = PhysicalAddress.Parse("00-00-00-00-00-00");

    // include/uapi/linux/if_packet.h
    const byte PacketHost = 0, PacketBroadcast = 1, PacketOutgoing = 4;

    /// <summary>The IPv4 packet inside an untagged Ethernet frame PacketDotNet built.</summary>
    static byte[] IpOf(byte[] ethernet) => ethernet[14..];

    static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    static byte[] Be16(int v) => [(byte)(v >> 8), (byte)v];

    /// <summary>LINKTYPE_LINUX_SLL: packet type, ARPHRD_ETHER (1), address length 6, address padded to 8, protocol.</summary>
    static byte[] Sll(byte packetType, PhysicalAddress mac, ushort protocol, byte[] payload) =>
        Concat(Be16(packetType), Be16(1), Be16(6), mac.GetAddressBytes(), [0, 0], Be16(protocol), payload);

    /// <summary>LINKTYPE_LINUX_SLL2: protocol, reserved, interface index, ARPHRD_ETHER, packet type, address length 6, address padded to 8.</summary>
    static byte[] Sll2(byte packetType, int ifIndex, PhysicalAddress mac, ushort protocol, byte[] payload) =>
        Concat(Be16(protocol), [0, 0], [(byte)(ifIndex >> 24), (byte)(ifIndex >> 16), (byte)(ifIndex >> 8), (byte)ifIndex], Be16(1),
            [packetType, 6], mac.GetAddressBytes(), [0, 0], payload);

    /// <summary>An ARP request body (Ethernet/IPv4, who-has), enough to be "not IPv4".</summary>
    static byte[] ArpWhoHas(PhysicalAddress sender, string senderIp, string targetIp) =>
        Concat(Be16(1), Be16(0x0800), [6, 4], Be16(1), sender.GetAddressBytes(), System.Net.IPAddress.Parse(senderIp).GetAddressBytes(),
            new byte[6], System.Net.IPAddress.Parse(targetIp).GetAddressBytes());

    static readonly System.Text.Json.Nodes.JsonObject OutgoingCopy = V.Line("pass", "outgoing-copy", null, null, null, null);

    // ---- 016: `tcpdump -i any` on node-1 (LINUX_SLL): a pod's DNS query and its answer, each seen arriving and leaving.
    static Case SllAny()
    {
        const string C = "10.244.1.5", VIP = "10.96.0.53", B = "10.244.2.8";
        const ushort P = 50100;
        byte[] query = [0x55, 0x01, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, (byte)'w', (byte)'e', (byte)'b', 0, 0, 1, 0, 1];
        byte[] answer = [0x55, 0x01, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 3, (byte)'w', (byte)'e', (byte)'b', 0, 0, 1, 0, 1,
            0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 96, 0, 10];
        var steps = new List<Step>
        {
            // Arriving from the pod's veth: processed, out with the synthesized header (source = the SLL address).
            new(Sll(PacketHost, ClientMac, 0x0800, IpOf(UdpFrame(C, P, VIP, 53, query, 64, 31))),
                V.Line("forward", null, V.T("udp", $"{C}:{P}", $"{VIP}:53"), V.T("udp", $"{C}:{P}", $"{B}:5353"), "kube-system/dns:dns", $"{B}:5353"),
                UdpFrame(C, P, B, 5353, query, 63, 31, false, ClientMac, ZeroMac)),
            // The kernel's own copy of it leaving towards the backend, already DNATed: not translated again.
            new(Sll(PacketOutgoing, NodeMac, 0x0800, IpOf(UdpFrame(C, P, B, 5353, query, 63, 31))), OutgoingCopy, null),
            // The backend's answer arriving: reverse-translated.
            new(Sll(PacketHost, UplinkMac, 0x0800, IpOf(UdpFrame(B, 5353, C, P, answer, 64, 41))),
                V.Line("forward", null, V.T("udp", $"{B}:5353", $"{C}:{P}"), V.T("udp", $"{VIP}:53", $"{C}:{P}"), "kube-system/dns:dns", $"{B}:5353"),
                UdpFrame(VIP, 53, C, P, answer, 63, 41, false, UplinkMac, ZeroMac)),
            new(Sll(PacketOutgoing, NodeMac, 0x0800, IpOf(UdpFrame(VIP, 53, C, P, answer, 63, 41))), OutgoingCopy, null),
            // A broadcast ARP request received: not IPv4, passed.
            new(Sll(PacketBroadcast, ClientMac, 0x0806, ArpWhoHas(ClientMac, C, "10.244.1.1")), V.Line("pass", null, null, null, null, null), null),
        };
        return new Case("016-sll-any", "Linux cooked capture (tcpdump -i any, LINUX_SLL)",
            "A capture taken on node-1 with `tcpdump -i any` (link type LINUX_SLL, 113): a pod's DNS query to " +
            "kube-system/dns (10.96.0.53:53) arriving from its veth, the node's own copy of it leaving DNATed to " +
            "10.244.2.8:5353 (packet type OUTGOING), the answer arriving and its reverse-translated copy leaving, and a " +
            "broadcast ARP. Frames the node received are processed; its outgoing copies are reported (verdict pass, reason " +
            "outgoing-copy) and never translated a second time. Output is Ethernet: source MAC = the cooked header's " +
            "link-layer address, destination MAC 00:00:00:00:00:00.", steps)
        { InputLinkType = LinkType.LinuxSll };
    }

    // ---- 017: the same view in LINUX_SLL2 (tcpdump 4.99 with -y LINUX_SLL2): a TCP handshake to default/web.
    static Case Sll2Any()
    {
        const string C = "10.244.1.5", VIP = "10.96.0.10", B = "10.244.2.7";
        const ushort P = 40100;
        const int Veth = 7, Eth0 = 2;
        uint cs = 3000, ss = 8000;
        var steps = new List<Step>();
        void Out(Tcp f, uint seq, uint ack, ushort id)
        {
            steps.Add(new Step(Sll2(PacketHost, Veth, ClientMac, 0x0800, IpOf(TcpFrame(C, P, VIP, 80, f, seq, ack, "", 64, id))),
                V.Line("forward", null, V.T("tcp", $"{C}:{P}", $"{VIP}:80"), V.T("tcp", $"{C}:{P}", $"{B}:8080"), "default/web:http", $"{B}:8080"),
                TcpFrame(C, P, B, 8080, f, seq, ack, "", 63, id, ClientMac, ZeroMac)));
            steps.Add(new Step(Sll2(PacketOutgoing, Eth0, NodeMac, 0x0800, IpOf(TcpFrame(C, P, B, 8080, f, seq, ack, "", 63, id))), OutgoingCopy, null));
        }
        void Back(Tcp f, uint seq, uint ack, ushort id)
        {
            steps.Add(new Step(Sll2(PacketHost, Eth0, UplinkMac, 0x0800, IpOf(TcpFrame(B, 8080, C, P, f, seq, ack, "", 64, id))),
                V.Line("forward", null, V.T("tcp", $"{B}:8080", $"{C}:{P}"), V.T("tcp", $"{VIP}:80", $"{C}:{P}"), "default/web:http", $"{B}:8080"),
                TcpFrame(VIP, 80, C, P, f, seq, ack, "", 63, id, UplinkMac, ZeroMac)));
            steps.Add(new Step(Sll2(PacketOutgoing, Veth, NodeMac, 0x0800, IpOf(TcpFrame(VIP, 80, C, P, f, seq, ack, "", 63, id))), OutgoingCopy, null));
        }
        Out(Tcp.Syn, cs, 0, 51);
        Back(Tcp.Syn | Tcp.Ack, ss, cs + 1, 61);
        Out(Tcp.Ack, cs + 1, ss + 1, 52);
        return new Case("017-sll2-any", "Linux cooked capture v2 (LINUX_SLL2)",
            "The same node-side view in link type LINUX_SLL2 (276, which carries the interface index): a pod's TCP " +
            "handshake with default/web (10.96.0.10:80 → 10.244.2.7:8080), every frame seen arriving (packet type HOST, " +
            "processed) and leaving (OUTGOING, reported as outgoing-copy, untouched). Output is Ethernet with the SLL2 " +
            "address as source MAC and a zero destination MAC.", steps)
        { InputLinkType = LinkType.LinuxSll2 };
    }

    // ---- 018: LINKTYPE_RAW (a capture on a tun or WireGuard device, or from a cloud mirror): bare IP packets.
    static Case RawIp()
    {
        const string C = "10.244.1.5", VIP = "10.96.0.53", B = "10.244.2.8";
        const ushort P = 50200;
        byte[] query = [0x66, 0x02, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1];
        // A minimal IPv6 header (version 6, no payload, next header 59 "no next header"), ::1 -> ::1.
        byte[] ipv6 = Concat([0x60, 0, 0, 0], Be16(0), [59, 64], new byte[15], [1], new byte[15], [1]);
        var steps = new List<Step>
        {
            new(IpOf(UdpFrame(C, P, VIP, 53, query, 64, 71)),
                V.Line("forward", null, V.T("udp", $"{C}:{P}", $"{VIP}:53"), V.T("udp", $"{C}:{P}", $"{B}:5353"), "kube-system/dns:dns", $"{B}:5353"),
                UdpFrame(C, P, B, 5353, query, 63, 71, false, ZeroMac, ZeroMac)),
            new(IpOf(UdpFrame(B, 5353, C, P, query, 64, 72)),
                V.Line("forward", null, V.T("udp", $"{B}:5353", $"{C}:{P}"), V.T("udp", $"{VIP}:53", $"{C}:{P}"), "kube-system/dns:dns", $"{B}:5353"),
                UdpFrame(VIP, 53, C, P, query, 63, 72, false, ZeroMac, ZeroMac)),
            new(ipv6, V.Line("pass", null, null, null, null, null), null),
        };
        return new Case("018-raw-ip", "Raw IP capture (LINKTYPE_RAW)",
            "A capture with no link-layer header (link type RAW, 101: tun/WireGuard devices, some cloud packet mirrors): " +
            "a pod's UDP datagram to kube-system/dns (10.96.0.53:53 → 10.244.2.8:5353) and the answer, translated as " +
            "usual, and an IPv6 packet, passed. Output is Ethernet with both MACs zero and the EtherType taken from the IP " +
            "version.", steps)
        { InputLinkType = LinkType.Raw };
    }

    /// <summary>Inserts VLAN tags (TPID, TCI) after the MACs of an untagged Ethernet frame.</summary>
    static byte[] Tagged(byte[] frame, params (ushort Tpid, ushort Tci)[] tags) =>
        Concat(frame[..12], [.. tags.SelectMany(t => Concat(Be16(t.Tpid), Be16(t.Tci)))], frame[12..]);

    // ---- 019: 802.1ad (QinQ) and 802.1Q tagged frames: parsed through, tags kept on output.
    static Case VlanQinQ()
    {
        const string C = "10.244.1.5", VIP = "10.96.0.53", B = "10.244.2.8";
        const ushort P = 50300, P2 = 50301;
        byte[] query = [0x77, 0x03, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1];
        (ushort, ushort) sTag = (0x88A8, 100), cTag = (0x8100, 0x2000 | 200), oneTag = (0x8100, 300);
        var steps = new List<Step>
        {
            new(Tagged(UdpFrame(C, P, VIP, 53, query, 64, 81), sTag, cTag),
                V.Line("forward", null, V.T("udp", $"{C}:{P}", $"{VIP}:53"), V.T("udp", $"{C}:{P}", $"{B}:5353"), "kube-system/dns:dns", $"{B}:5353"),
                Tagged(UdpFrame(C, P, B, 5353, query, 63, 81), sTag, cTag)),
            new(Tagged(UdpFrame(B, 5353, C, P, query, 64, 82, false, UplinkMac, NodeMac), sTag, cTag),
                V.Line("forward", null, V.T("udp", $"{B}:5353", $"{C}:{P}"), V.T("udp", $"{VIP}:53", $"{C}:{P}"), "kube-system/dns:dns", $"{B}:5353"),
                Tagged(UdpFrame(VIP, 53, C, P, query, 63, 82, false, UplinkMac, NodeMac), sTag, cTag)),
            new(Tagged(UdpFrame(C, P2, VIP, 53, query, 64, 83), oneTag),
                V.Line("forward", null, V.T("udp", $"{C}:{P2}", $"{VIP}:53"), V.T("udp", $"{C}:{P2}", $"{B}:5353"), "kube-system/dns:dns", $"{B}:5353"),
                Tagged(UdpFrame(C, P2, B, 5353, query, 63, 83), oneTag)),
            // A double 802.1Q stack (old-style QinQ, both TPIDs 0x8100) is looked through the same way.
            new(Tagged(UdpFrame(B, 5353, C, P2, query, 64, 84, false, UplinkMac, NodeMac), oneTag, cTag),
                V.Line("forward", null, V.T("udp", $"{B}:5353", $"{C}:{P2}"), V.T("udp", $"{VIP}:53", $"{C}:{P2}"), "kube-system/dns:dns", $"{B}:5353"),
                Tagged(UdpFrame(VIP, 53, C, P2, query, 63, 84, false, UplinkMac, NodeMac), oneTag, cTag)),
        };
        return new Case("019-vlan-qinq", "802.1ad (QinQ) and 802.1Q tagged frames",
            "A pod's DNS query to kube-system/dns and the answer, captured on a trunk with an 802.1ad service tag (VID 100) " +
            "outside an 802.1Q customer tag (VID 200, PCP 1); then a second flow with one 802.1Q tag (VID 300) whose answer " +
            "carries two 802.1Q tags. The parser looks through the tags as the kernel's __vlan_get_protocol does; the " +
            "tags are kept on output, like the MACs.", steps);
    }
}
