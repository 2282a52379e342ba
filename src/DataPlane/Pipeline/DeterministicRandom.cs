namespace DataPlane.Pipeline;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014): the seeded generator behind backend selection, SNAT ports and ICMP ids, so a
/// replay of the same capture with the same seed is byte-for-byte reproducible (kube-proxy's iptables statistic match
/// and --random-fully are random; we choose reproducible and say so in the README).
/// </summary>
public struct DeterministicRandom
{
    ulong _state;

    public DeterministicRandom(ulong seed) => _state = seed;

    public ulong NextU64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, n) by Lemire's multiply-shift (no modulo bias worth measuring for n &lt; 2^32).</summary>
    public uint Next(uint n) => (uint)(((NextU64() >> 32) * n) >> 32);
}
