using System.Net;
using System.Net.NetworkInformation;

namespace DataPlane.FixtureBuilder;

/// <summary>
/// SCTP frames built by hand, independently of the data plane: IPv4 header with <see cref="Frames.InternetChecksum"/>,
/// the SCTP common header and chunks (RFC 9260 §3), and a CRC32c computed bit by bit (RFC 9260 Appendix A, reflected
/// polynomial 0x82F63B78) — not the data plane's hardware-instruction path. PacketDotNet has no SCTP.
/// </summary>
public static class SctpFrames
{
    /// <summary>CRC32c, one bit at a time: the slow, obviously-right oracle.</summary>
    public static uint Crc32cBitwise(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>An SCTP packet's checksum field value: CRC32c over the packet with the field zeroed, stored little-endian.</summary>
    public static void WriteChecksum(Span<byte> sctp)
    {
        sctp[8] = sctp[9] = sctp[10] = sctp[11] = 0;
        uint c = Crc32cBitwise(sctp);
        sctp[8] = (byte)c; sctp[9] = (byte)(c >> 8); sctp[10] = (byte)(c >> 16); sctp[11] = (byte)(c >> 24);
    }

    public static byte[] Frame(string src, ushort sport, string dst, ushort dport, uint vtag, byte[] chunks, byte ttl = 64,
        ushort id = 1, PhysicalAddress? srcMac = null, PhysicalAddress? dstMac = null, bool badCrc = false)
    {
        int l4 = 12 + chunks.Length, total = 20 + l4;
        byte[] f = new byte[14 + total];
        (dstMac ?? Frames.NodeMac).GetAddressBytes().CopyTo(f, 0);
        (srcMac ?? Frames.ClientMac).GetAddressBytes().CopyTo(f, 6);
        f[12] = 0x08; f[13] = 0x00;
        Span<byte> ip = f.AsSpan(14);
        ip[0] = 0x45;
        ip[2] = (byte)(total >> 8); ip[3] = (byte)total;
        ip[4] = (byte)(id >> 8); ip[5] = (byte)id;
        ip[6] = 0x40; // DF, as SCTP stacks send (path MTU discovery)
        ip[8] = ttl; ip[9] = 132;
        IPAddress.Parse(src).GetAddressBytes().CopyTo(ip.Slice(12));
        IPAddress.Parse(dst).GetAddressBytes().CopyTo(ip.Slice(16));
        ushort ipc = Frames.InternetChecksum(ip.Slice(0, 20));
        ip[10] = (byte)(ipc >> 8); ip[11] = (byte)ipc;
        Span<byte> s = ip.Slice(20);
        s[0] = (byte)(sport >> 8); s[1] = (byte)sport;
        s[2] = (byte)(dport >> 8); s[3] = (byte)dport;
        s[4] = (byte)(vtag >> 24); s[5] = (byte)(vtag >> 16); s[6] = (byte)(vtag >> 8); s[7] = (byte)vtag;
        chunks.CopyTo(s.Slice(12));
        WriteChecksum(s);
        if (badCrc) s[8] ^= 0x01;
        return f;
    }

    // ---- chunks (RFC 9260 §3.3), big-endian fields, padded to 4 bytes.
    static byte[] Chunk(byte type, byte flags, params byte[][] parts)
    {
        int len = 4 + parts.Sum(p => p.Length);
        byte[] c = new byte[(len + 3) & ~3];
        c[0] = type; c[1] = flags; c[2] = (byte)(len >> 8); c[3] = (byte)len;
        int o = 4;
        foreach (byte[] p in parts) { p.CopyTo(c, o); o += p.Length; }
        return c;
    }

    static byte[] U32(uint v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];
    static byte[] U16(ushort v) => [(byte)(v >> 8), (byte)v];

    static readonly byte[] Cookie = "state-cookie-0123"u8.ToArray(); // 17 bytes: exercises padding

    public static byte[] Init(uint initTag, uint tsn) => Chunk(1, 0, U32(initTag), U32(106496), U16(10), U16(65535), U32(tsn));
    public static byte[] InitAck(uint initTag, uint tsn) =>
        Chunk(2, 0, U32(initTag), U32(106496), U16(10), U16(10), U32(tsn), U16(7), U16((ushort)(4 + Cookie.Length)), Cookie, [0, 0, 0]);
    public static byte[] CookieEcho() => Chunk(10, 0, Cookie);
    public static byte[] CookieAck() => Chunk(11, 0);
    public static byte[] Data(uint tsn, string payload) =>
        Chunk(0, 0x03, U32(tsn), U16(0), U16(0), U32(46), System.Text.Encoding.ASCII.GetBytes(payload)); // PPID 46: Diameter
    public static byte[] SackChunk(uint cumTsn) => Chunk(3, 0, U32(cumTsn), U32(106496), U16(0), U16(0));
    public static byte[] Shutdown(uint cumTsn) => Chunk(7, 0, U32(cumTsn));
    public static byte[] ShutdownAck() => Chunk(8, 0);
    public static byte[] ShutdownComplete() => Chunk(14, 0);
    public static byte[] Abort() => Chunk(6, 0);
    public static byte[] Concat(params byte[][] chunks) => chunks.SelectMany(c => c).ToArray();
}
