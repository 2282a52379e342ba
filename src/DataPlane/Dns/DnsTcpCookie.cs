using DataPlane.Maps;

namespace DataPlane.Dns;

/// <summary>
/// SYN cookies as Linux computes them (net/ipv4/syncookies.c <c>secure_tcp_syn_cookie</c>, <c>check_tcp_syn_cookie</c>,
/// <c>cookie_v4_init_sequence</c>, <c>__cookie_v4_check</c>): the server's ISN is
/// <c>hash(tuple) + client ISN + (count &lt;&lt; 24) + ((hash(tuple, count) + mss index) &amp; 0xFFFFFF)</c>, where
/// <c>count</c> is the clock in minutes (<c>tcp_cookie_time</c>). The third ACK proves the handshake: its
/// acknowledgement number minus one must decode, with its sequence number minus one as the client's ISN, to a count at
/// most one minute old (<c>MAX_SYNCOOKIE_AGE</c> 2) and an MSS index of the table — a blind attacker guesses that with
/// odds of 4 in 2^24 per segment. The hashes are keyed by the pipeline's seed (Linux: a boot-time siphash key), so a
/// replay gives the same ISNs every time.
/// </summary>
public static class DnsTcpCookie
{
    const int CookieBits = 24;
    const uint CookieMask = (1u << CookieBits) - 1;
    const uint MaxAge = 2;
    const long PeriodNs = 60_000_000_000; // TCP_SYNCOOKIE_PERIOD: 60 s

    /// <summary>Linux's msstab: the MSS values a cookie can carry (2 bits). A field: the span-returning property form
    /// allocated on every SYN here (measured, DnsTcpTests.The_tcp_path_allocates_nothing_per_segment).</summary>
    static readonly ushort[] MssTable = [536, 1300, 1440, 1460];

    static uint Count(long nowNs) => (uint)(nowNs / PeriodNs);

    static uint Hash(uint saddr, uint daddr, ushort sport, ushort dport, uint count, ulong c, ulong key) =>
        HashMix.Mix(((ulong)saddr << 32) | daddr, ((ulong)sport << 48) | ((ulong)dport << 32) | count, key ^ (c * 0x9E3779B97F4A7C15UL) ^ 0x73796e636f6f6bUL);

    /// <summary>
    /// The ISN of our SYN-ACK to a SYN with sequence number <paramref name="clientIsn"/> and MSS option
    /// <paramref name="clientMss"/>; <paramref name="sendMss"/> is the MSS the connection will use (the largest table
    /// value not above the client's, as cookie_v4_init_sequence rounds it).
    /// </summary>
    public static uint Isn(uint saddr, uint daddr, ushort sport, ushort dport, uint clientIsn, ushort clientMss, long nowNs, ulong key, out ushort sendMss)
    {
        uint mssind = (uint)MssTable.Length - 1;
        while (mssind > 0 && clientMss < MssTable[(int)mssind]) mssind--;
        sendMss = MssTable[(int)mssind];
        uint count = Count(nowNs);
        return Hash(saddr, daddr, sport, dport, 0, 0, key) + clientIsn + (count << CookieBits)
               + ((Hash(saddr, daddr, sport, dport, count, 1, key) + mssind) & CookieMask);
    }

    /// <summary>
    /// Checks the third ACK: <paramref name="ack"/> and <paramref name="seq"/> as the segment carries them. Returns the
    /// connection's send MSS, or 0 when the cookie is not one we issued in the last two minutes (SYNCOOKIESFAILED).
    /// </summary>
    public static ushort Check(uint saddr, uint daddr, ushort sport, ushort dport, uint seq, uint ack, long nowNs, ulong key)
    {
        uint cookie = ack - 1, clientIsn = seq - 1, count = Count(nowNs);
        cookie -= Hash(saddr, daddr, sport, dport, 0, 0, key) + clientIsn;
        uint diff = (count - (cookie >> CookieBits)) & (uint.MaxValue >> CookieBits);
        if (diff >= MaxAge) return 0;
        uint mssind = (cookie - Hash(saddr, daddr, sport, dport, count - diff, 1, key)) & CookieMask;
        return mssind < (uint)MssTable.Length ? MssTable[(int)mssind] : (ushort)0;
    }
}
