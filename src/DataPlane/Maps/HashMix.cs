using System.Runtime.CompilerServices;

namespace DataPlane.Maps;

/// <summary>
/// The hash used by every open-addressed map: a multiply-xorshift finaliser over at most two 64-bit words. Maps index
/// with <c>hash &amp; mask</c>, so the low bits must depend on every input bit; the final xorshift-multiply ensures that.
/// </summary>
public static class HashMix
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Mix(ulong a, ulong b, ulong seed)
    {
        ulong h = (a ^ seed) * 0x9E3779B97F4A7C15UL;
        h ^= b * 0xC2B2AE3D27D4EB4FUL;
        h ^= h >> 32;
        h *= 0xD6E8FEB86659FD93UL;
        h ^= h >> 32;
        return (uint)h;
    }
}
