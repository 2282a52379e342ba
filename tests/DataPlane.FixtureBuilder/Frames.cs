using System.Net;
using System.Net.NetworkInformation;
using PacketDotNet;

namespace DataPlane.FixtureBuilder;

/// <summary>A fluent-ish frame factory over PacketDotNet (katran's PacketBuilder, cilium's pktgen).</summary>
public static class Frames
{
    public static readonly PhysicalAddress ClientMac = PhysicalAddress.Parse("02-00-00-00-00-01");
    public static readonly PhysicalAddress NodeMac = PhysicalAddress.Parse("02-00-00-00-00-02");

    [Flags]
    public enum Tcp : ushort { Fin = 1, Syn = 2, Rst = 4, Psh = 8, Ack = 16 }

    public static byte[] TcpFrame(string src, ushort sport, string dst, ushort dport, Tcp flags, uint seq, uint ack,
        string payload = "", byte ttl = 64, ushort id = 1, PhysicalAddress? srcMac = null, PhysicalAddress? dstMac = null)
    {
        var tcp = new TcpPacket(sport, dport)
        {
            SequenceNumber = seq,
            AcknowledgmentNumber = ack,
            WindowSize = 64240,
            Flags = (ushort)flags,
            PayloadData = System.Text.Encoding.ASCII.GetBytes(payload),
        };
        return Wrap(tcp, src, dst, ttl, id, srcMac, dstMac, p => ((TcpPacket)p).UpdateTcpChecksum());
    }

    public static byte[] UdpFrame(string src, ushort sport, string dst, ushort dport, byte[] payload, byte ttl = 64,
        ushort id = 1, bool zeroChecksum = false, PhysicalAddress? srcMac = null, PhysicalAddress? dstMac = null)
    {
        var udp = new UdpPacket(sport, dport) { PayloadData = payload };
        return Wrap(udp, src, dst, ttl, id, srcMac, dstMac, p =>
        {
            var u = (UdpPacket)p;
            if (zeroChecksum) u.Checksum = 0; else u.UpdateUdpChecksum();
        });
    }

    static byte[] Wrap(TransportPacket l4, string src, string dst, byte ttl, ushort id, PhysicalAddress? srcMac,
        PhysicalAddress? dstMac, Action<Packet> checksum)
    {
        var ip = new IPv4Packet(IPAddress.Parse(src), IPAddress.Parse(dst)) { TimeToLive = ttl, Id = id, PayloadPacket = l4 };
        var eth = new EthernetPacket(srcMac ?? ClientMac, dstMac ?? NodeMac, EthernetType.IPv4) { PayloadPacket = ip };
        eth.UpdateCalculatedValues();
        checksum(l4);
        ip.UpdateIPChecksum();
        return eth.Bytes;
    }

    /// <summary>
    /// The ICMP port unreachable Linux's REJECT sends (kernel-behaviour.md), built by hand with its own checksum code:
    /// TOS (orig &amp; 0x1e) | 0xc0, TTL 64, DF clear, quoting the offending datagram (at most 576 bytes in all).
    /// </summary>
    public static byte[] IcmpPortUnreachable(byte[] offending, string from, ushort ipId, bool decrementQuotedTtl, byte ttl = 64, string? to = null)
    {
        byte[] quoted = offending.AsSpan(14).ToArray();
        if (decrementQuotedTtl)
        {
            quoted[8]--;
            quoted[10] = quoted[11] = 0;
            ushort c = InternetChecksum(quoted.AsSpan(0, (quoted[0] & 0xF) * 4));
            quoted[10] = (byte)(c >> 8);
            quoted[11] = (byte)c;
        }
        int quoteLen = Math.Min(quoted.Length, 576 - 28);
        int total = 28 + quoteLen;
        byte[] f = new byte[14 + total];
        offending.AsSpan(6, 6).CopyTo(f.AsSpan(0));   // back to the sender's MAC
        offending.AsSpan(0, 6).CopyTo(f.AsSpan(6));
        f[12] = 0x08; f[13] = 0x00;
        Span<byte> ip = f.AsSpan(14);
        ip[0] = 0x45;
        ip[1] = (byte)((offending[15] & 0x1E) | 0xC0);
        ip[2] = (byte)(total >> 8); ip[3] = (byte)total;
        ip[4] = (byte)(ipId >> 8); ip[5] = (byte)ipId;
        ip[8] = ttl; ip[9] = 1;
        IPAddress.Parse(from).GetAddressBytes().CopyTo(ip.Slice(12));
        if (to is null) offending.AsSpan(14 + 12, 4).CopyTo(ip.Slice(16)); // to the offending datagram's source
        else IPAddress.Parse(to).GetAddressBytes().CopyTo(ip.Slice(16));
        ushort ipc = InternetChecksum(ip.Slice(0, 20));
        ip[10] = (byte)(ipc >> 8); ip[11] = (byte)ipc;
        Span<byte> icmp = ip.Slice(20);
        icmp[0] = 3; icmp[1] = 3;
        quoted.AsSpan(0, quoteLen).CopyTo(icmp.Slice(8));
        ushort ic = InternetChecksum(icmp);
        icmp[2] = (byte)(ic >> 8); icmp[3] = (byte)ic;
        return f;
    }

    /// <summary>RFC 1071, written independently of the data plane's Checksum class.</summary>
    public static ushort InternetChecksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (int i = 0; i < data.Length; i += 2)
            sum += (uint)(data[i] << 8 | (i + 1 < data.Length ? data[i + 1] : 0));
        while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }
}
