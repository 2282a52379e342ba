using DataPlane.Pipeline;
using static DataPlane.FixtureBuilder.Frames;

namespace DataPlane.FixtureBuilder;

/// <summary>
/// Cases for state that must not leak or misroute and for the kernel's answers around forwarding: an out-of-window RST,
/// ICMP errors with bad or unverifiable checksums, TTL 0/1 answered with ICMP time exceeded.
/// </summary>
public static partial class Cases
{
    /// <summary>
    /// ICMP time exceeded (type 11, code 0) as the kernel's icmp_send builds it for ip_forward (kernel-behaviour.md),
    /// written by hand: TOS (orig &amp; 0x1e) | 0xc0, TTL 64, DF clear, id <paramref name="ipId"/>, from
    /// <paramref name="from"/> to the offending datagram's source, quoting that datagram as it arrived (TTL unchanged)
    /// up to 576 bytes in all.
    /// </summary>
    public static byte[] IcmpTimeExceeded(byte[] offending, string from, ushort ipId)
    {
        byte[] f = IcmpPortUnreachable(offending, from, ipId, decrementQuotedTtl: false);
        Span<byte> icmp = f.AsSpan(14 + 20);
        icmp[0] = 11; icmp[1] = 0;
        icmp[2] = icmp[3] = 0;
        ushort c = InternetChecksum(icmp);
        icmp[2] = (byte)(c >> 8); icmp[3] = (byte)c;
        return f;
    }

    /// <summary>The first ICMP id a pipeline with the cases' seed uses (its generator's first draw).</summary>
    static ushort FirstIcmpId() => (ushort)new DeterministicRandom(Case.Seed).NextU64();
}
