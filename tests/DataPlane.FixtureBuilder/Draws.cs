using System.Net;

namespace DataPlane.FixtureBuilder;

/// <summary>
/// The pipeline's keyed draws (backend, sessionAffinity first pick, ICMP error IP id), written out again from their
/// definition so expected outputs do not call the code under test: the seed and the draw's purpose, the packet's
/// addresses, its ports and protocol, and its time, each word multiplied by its constant and rotated, folded together
/// and put through one SplitMix64 round (Steele, Lea, Flood 2014); the draw is that generator's first output, a bounded
/// one by Lemire's multiply-shift.
/// </summary>
static class Draws
{
    const ulong Golden = 0x9E3779B97F4A7C15UL;
    const ulong BackendPurpose = 1, IcmpIdPurpose = 3, AffinityPurpose = 4;

    static ulong Round(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    static ulong Key(ulong purpose, ulong a, ulong b, ulong c) =>
        Round((Case.Seed + purpose * Golden) ^ (a * 0xC2B2AE3D27D4EB4FUL) ^ Rotl(b * 0x165667B19E3779F9UL, 21) ^ Rotl(c * 0xD6E8FEB86659FD93UL, 42));

    static ulong Rotl(ulong x, int k) => (x << k) | (x >> (64 - k));

    static uint Ip(string a) => (uint)IPAddress.NetworkToHostOrder(BitConverter.ToInt32(IPAddress.Parse(a).GetAddressBytes()));

    static ulong PacketKey(ulong purpose, string src, ushort sport, string dst, ushort dport, byte proto, long atNs) =>
        Key(purpose, ((ulong)Ip(src) << 32) | Ip(dst), ((ulong)sport << 24) | ((ulong)dport << 8) | proto, (ulong)atNs);

    static ulong First(ulong state) => Round(state + Golden);

    static int Below(ulong state, int n) => (int)(((First(state) >> 32) * (ulong)n) >> 32);

    /// <summary>The slot a new connection's first packet draws among <paramref name="n"/> (time after the case start).</summary>
    public static int Backend(string src, ushort sport, string dst, ushort dport, byte proto, long atNs, int n) =>
        Below(PacketKey(BackendPurpose, src, sport, dst, dport, proto, Case.StartNs + atNs), n);

    /// <summary>
    /// A sessionAffinity ClientIP service port's first pick for a client: by client, the service port (its
    /// ClusterIP:port) and which affinity timeout period the packet's time falls in.
    /// </summary>
    public static int Affinity(string client, string clusterIp, ushort port, byte proto, long atNs, long timeoutSeconds, int n) =>
        Below(Key(AffinityPurpose, ((ulong)Ip(client) << 32) | Ip(clusterIp), ((ulong)port << 8) | proto,
            (ulong)((Case.StartNs + atNs) / (timeoutSeconds * 1_000_000_000L))), n);

    /// <summary>The IP id of the ICMP error answering the datagram (tuple, IP id, time after the case start).</summary>
    public static ushort IcmpId(string src, ushort sport, string dst, ushort dport, byte proto, ushort ipId, long atNs) =>
        (ushort)First(PacketKey(IcmpIdPurpose | (ulong)ipId << 16, src, sport, dst, dport, proto, Case.StartNs + atNs));

    /// <summary>
    /// <see cref="IcmpId"/> for an Ethernet frame as the pipeline sees it: addresses, IP id, protocol, and the ports
    /// (TCP, UDP, SCTP) or the echo id as source port (ICMP echo).
    /// </summary>
    public static ushort IcmpIdFor(byte[] frame, long atNs)
    {
        int l3 = 14;
        while (frame[l3 - 2] == 0x81 && frame[l3 - 1] == 0x00) l3 += 4; // 802.1Q tags
        int ihl = (frame[l3] & 0xF) * 4;
        byte proto = frame[l3 + 9];
        string src = new IPAddress(frame.AsSpan(l3 + 12, 4)).ToString(), dst = new IPAddress(frame.AsSpan(l3 + 16, 4)).ToString();
        ushort ipId = (ushort)(frame[l3 + 4] << 8 | frame[l3 + 5]);
        int l4 = l3 + ihl;
        ushort sport = 0, dport = 0;
        if (proto is 6 or 17 or 132) { sport = (ushort)(frame[l4] << 8 | frame[l4 + 1]); dport = (ushort)(frame[l4 + 2] << 8 | frame[l4 + 3]); }
        else if (proto == 1 && frame[l4] is 0 or 8) sport = (ushort)(frame[l4 + 4] << 8 | frame[l4 + 5]);
        return IcmpId(src, sport, dst, dport, proto, ipId, atNs);
    }
}
