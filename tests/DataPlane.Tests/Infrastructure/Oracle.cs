using PacketDotNet;

namespace DataPlane.Tests.Infrastructure;

/// <summary>PacketDotNet as the independent oracle: parses frames and recomputes every checksum from scratch.</summary>
public static class Oracle
{
    public static IPv4Packet Ip(byte[] frame) =>
        Packet.ParsePacket(LinkLayers.Ethernet, frame).Extract<IPv4Packet>() ?? throw new InvalidOperationException("not IPv4");

    /// <summary>Asserts the IPv4 and TCP/UDP/ICMP checksums in <paramref name="frame"/> equal a full recomputation.</summary>
    public static void AssertChecksums(byte[] frame)
    {
        IPv4Packet ip = Ip(frame);
        ushort ipSeen = ip.Checksum;
        var clone = Ip((byte[])frame.Clone());
        clone.UpdateIPChecksum();
        Assert.Equal(clone.Checksum, ipSeen);
        // A fragment holds only part of what its L4 checksum covers: the fixtures check those against expected frames
        // built from the whole datagram instead.
        ushort fragmentField = (ushort)((frame[14 + 6] << 8) | frame[14 + 7]);
        if ((fragmentField & 0x3FFF) != 0) return;
        switch (ip.PayloadPacket)
        {
            case TcpPacket tcp:
            {
                ushort seen = tcp.Checksum;
                var t = clone.Extract<TcpPacket>()!;
                t.UpdateTcpChecksum();
                Assert.Equal(t.Checksum, seen);
                break;
            }
            case UdpPacket udp when udp.Checksum != 0:
            {
                // Summed here rather than by PacketDotNet, which parses a UDP payload by port (4789 as VXLAN...) and
                // throws on a short one: a random client port must not break the oracle. RFC 768: the sum over the
                // pseudo-header and the datagram, checksum included, is 0xFFFF when it is right.
                int ihl = (frame[14] & 0xF) * 4, udpLen = (frame[14 + ihl + 4] << 8) | frame[14 + ihl + 5];
                byte[] pseudo = [.. frame.AsSpan(14 + 12, 8), 0, 17, (byte)(udpLen >> 8), (byte)udpLen, .. frame.AsSpan(14 + ihl, udpLen)];
                Assert.Equal(0xFFFF, Sum(pseudo));
                break;
            }
            case IcmpV4Packet icmp:
                Assert.Equal(0xFFFF, Sum(icmp.Bytes.AsSpan(0, icmp.TotalPacketLength)));
                break;
        }
    }

    static int Sum(ReadOnlySpan<byte> d)
    {
        uint s = 0;
        for (int i = 0; i < d.Length; i += 2) s += (uint)(d[i] << 8 | (i + 1 < d.Length ? d[i + 1] : 0));
        while (s > 0xFFFF) s = (s & 0xFFFF) + (s >> 16);
        return (int)s;
    }
}
