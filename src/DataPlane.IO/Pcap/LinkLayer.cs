using System.Buffers.Binary;

namespace DataPlane.IO.Pcap;

/// <summary>
/// Turns a captured frame of any link type we understand into the Ethernet frame the pipeline consumes, written
/// straight into the caller's buffer (no allocation, one copy: the one the replay makes anyway). The synthesized
/// Ethernet header (14 bytes) is made of what the capture knows:
/// <list type="bullet">
/// <item>LINUX_SLL (113) / LINUX_SLL2 (276), <c>tcpdump -i any</c>: source MAC = the cooked header's link-layer
/// address when it is 6 bytes long (the sender's MAC on a received frame), else zero; destination MAC zero;
/// EtherType = the cooked header's protocol field (an 802.1Q tag the kernel left in the payload stays, after it).
/// Only frames the node received are <see cref="LinkFrameKind.Received"/> (PACKET_HOST, PACKET_BROADCAST,
/// PACKET_MULTICAST, PACKET_OTHERHOST, include/uapi/linux/if_packet.h); PACKET_OUTGOING and the kernel's own
/// loopback/user/kernel copies are <see cref="LinkFrameKind.Outgoing"/>: on a node that forwards, the same packet is
/// captured once arriving and once leaving, already translated.</item>
/// <item>RAW (101, and DLT_RAW written as 12 or 14), IPV4 (228), IPV6 (229): both MACs zero, EtherType from the IP
/// version nibble (4 → IPv4, 6 → IPv6, anything else 0, which the parser passes as not IPv4).</item>
/// <item>NULL (0) and LOOP (108): both MACs zero; the 4-byte address family is host order for NULL (the capturing
/// machine's, unknown to us) and network order for LOOP, so like Wireshark's null dissector we take whichever order
/// puts it in the low 16 bits. AF_INET (2) → IPv4; the AF_INET6 values of Linux, the BSDs and Darwin (10, 24, 28, 30)
/// → IPv6; anything else by the IP version nibble.</item>
/// <item>Ethernet (1): copied as it is; its 802.1Q/802.1ad tags are the parser's business.</item>
/// </list>
/// Output is always Ethernet, so forwarded frames of a cooked or raw capture come out with the synthesized header.
/// </summary>
public static class LinkLayer
{
    /// <summary>The most a conversion adds to the captured length: a whole Ethernet header in front of a bare IP packet.</summary>
    public const int MaxGrowth = EthernetHeaderLength;

    const int EthernetHeaderLength = 14;
    const ushort EtherTypeIPv4 = 0x0800, EtherTypeIPv6 = 0x86DD;

    // LINKTYPE_LINUX_SLL: packet type(2) ARPHRD(2) address length(2) address(8) protocol(2).
    const int SllHeaderLength = 16, SllPacketTypeOffset = 0, SllAddressLengthOffset = 4, SllAddressOffset = 6, SllProtocolOffset = 14;

    // LINKTYPE_LINUX_SLL2: protocol(2) reserved(2) interface index(4) ARPHRD(2) packet type(1) address length(1) address(8).
    const int Sll2HeaderLength = 20, Sll2ProtocolOffset = 0, Sll2PacketTypeOffset = 10, Sll2AddressLengthOffset = 11, Sll2AddressOffset = 12;

    // include/uapi/linux/if_packet.h: 0 HOST, 1 BROADCAST, 2 MULTICAST, 3 OTHERHOST are frames the interface received;
    // 4 OUTGOING, 5 LOOPBACK, 6 USER, 7 KERNEL are the node's own.
    const int PacketOutgoing = 4;

    const int NullHeaderLength = 4;
    const uint AfInet = 2;

    /// <summary>
    /// Writes <paramref name="data"/> (a frame of link type <paramref name="link"/>) as an Ethernet frame at the start of
    /// <paramref name="destination"/>, which must hold <c>data.Length + </c><see cref="MaxGrowth"/> bytes.
    /// <paramref name="length"/> is the Ethernet frame's length (0 for <see cref="LinkFrameKind.Unsupported"/> and
    /// <see cref="LinkFrameKind.Truncated"/>, which the parser drops as truncated-ethernet).
    /// </summary>
    public static LinkFrameKind ToEthernet(LinkType link, ReadOnlySpan<byte> data, Span<byte> destination, out int length)
    {
        length = 0;
        switch (link)
        {
            case LinkType.Ethernet:
                data.CopyTo(destination);
                length = data.Length;
                return LinkFrameKind.Received;

            case LinkType.LinuxSll:
            {
                if (data.Length < SllHeaderLength) return LinkFrameKind.Truncated;
                int addressLength = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(SllAddressLengthOffset));
                ushort packetType = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(SllPacketTypeOffset));
                length = Cooked(data.Slice(SllAddressOffset, 8), addressLength, BinaryPrimitives.ReadUInt16BigEndian(data.Slice(SllProtocolOffset)),
                    data.Slice(SllHeaderLength), destination);
                return packetType >= PacketOutgoing ? LinkFrameKind.Outgoing : LinkFrameKind.Received;
            }

            case LinkType.LinuxSll2:
            {
                if (data.Length < Sll2HeaderLength) return LinkFrameKind.Truncated;
                byte packetType = data[Sll2PacketTypeOffset];
                length = Cooked(data.Slice(Sll2AddressOffset, 8), data[Sll2AddressLengthOffset], BinaryPrimitives.ReadUInt16BigEndian(data.Slice(Sll2ProtocolOffset)),
                    data.Slice(Sll2HeaderLength), destination);
                return packetType >= PacketOutgoing ? LinkFrameKind.Outgoing : LinkFrameKind.Received;
            }

            case LinkType.Raw or LinkType.RawDlt12 or LinkType.RawDlt14 or LinkType.Ipv4 or LinkType.Ipv6:
                if (data.IsEmpty) return LinkFrameKind.Truncated;
                length = Bare(ByVersion(data), data, destination);
                return LinkFrameKind.Received;

            case LinkType.Null or LinkType.Loop:
            {
                if (data.Length < NullHeaderLength) return LinkFrameKind.Truncated;
                uint family = BinaryPrimitives.ReadUInt32BigEndian(data);
                if ((family & 0xFFFF0000) != 0) family = BinaryPrimitives.ReverseEndianness(family);
                ReadOnlySpan<byte> ip = data.Slice(NullHeaderLength);
                ushort etherType = family switch
                {
                    AfInet => EtherTypeIPv4,
                    10 or 24 or 28 or 30 => EtherTypeIPv6,
                    _ => ByVersion(ip),
                };
                length = Bare(etherType, ip, destination);
                return LinkFrameKind.Received;
            }

            default:
                return LinkFrameKind.Unsupported;
        }
    }

    /// <summary>True for the link types <see cref="ToEthernet"/> converts.</summary>
    public static bool IsSupported(LinkType link) => link is LinkType.Ethernet or LinkType.LinuxSll or LinkType.LinuxSll2
        or LinkType.Raw or LinkType.RawDlt12 or LinkType.RawDlt14 or LinkType.Ipv4 or LinkType.Ipv6 or LinkType.Null or LinkType.Loop;

    static ushort ByVersion(ReadOnlySpan<byte> ip) => ip.IsEmpty ? (ushort)0 : (ip[0] >> 4) switch
    {
        4 => EtherTypeIPv4,
        6 => EtherTypeIPv6,
        _ => (ushort)0,
    };

    static int Cooked(ReadOnlySpan<byte> address, int addressLength, ushort protocol, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        destination.Slice(0, 6).Clear();
        if (addressLength == 6) address.Slice(0, 6).CopyTo(destination.Slice(6));
        else destination.Slice(6, 6).Clear();
        BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(12), protocol);
        payload.CopyTo(destination.Slice(EthernetHeaderLength));
        return EthernetHeaderLength + payload.Length;
    }

    static int Bare(ushort etherType, ReadOnlySpan<byte> packet, Span<byte> destination)
    {
        destination.Slice(0, 12).Clear();
        BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(12), etherType);
        packet.CopyTo(destination.Slice(EthernetHeaderLength));
        return EthernetHeaderLength + packet.Length;
    }
}
