namespace DataPlane.Maps;

/// <summary>
/// Maglev consistent hashing (Eisenbud et al., NSDI 2016, §3.4; cilium's lb4_select_backend_id_maglev and its
/// pkg/maglev): a lookup table of M slots (M prime) where every backend takes turns claiming its next preferred free
/// slot, so each gets ⌊M/N⌋ or ⌈M/N⌉ slots, and removing one of N backends moves little more than the 1/N of flows
/// that were on it. A new connection is balanced by <c>table[hash(5-tuple) % M]</c>: the same flow maps to the same
/// backend on every node, which is what lets a flow survive a change of node (ECMP re-hash) without shared state.
/// <para>
/// Node independence: a backend's preference list comes from a fixed-seed hash of its address and port (never a
/// node-local id), and backends take their turns in the order of that hash, so every node that sees the same backend
/// set builds the same table whatever order the EndpointSlices listed them in.
/// </para>
/// <para>Concurrency: built by the control plane into a generation's array; immutable once published.</para>
/// </summary>
public static class MaglevTable
{
    /// <summary>cilium's default (--bpf-lb-maglev-table-size); the sizes it accepts are these primes.</summary>
    public const int DefaultSize = 16381;
    public static readonly int[] SupportedSizes = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071];

    const ulong OffsetSeed = 0x6D61676C65764F46UL, SkipSeed = 0x6D61676C65765350UL; // fixed: same table on every node

    /// <summary>
    /// Fills <paramref name="table"/> (length M, prime) from <paramref name="backendIds"/>, whose (address, port) are
    /// given by <paramref name="keyOf"/>. Empty <paramref name="backendIds"/> leaves the table zero (no backend).
    /// </summary>
    public static void Build(ReadOnlySpan<uint> backendIds, Func<uint, (uint Address, ushort Port)> keyOf, Span<uint> table)
    {
        int m = table.Length;
        table.Clear();
        int n = backendIds.Length;
        if (n == 0) return;
        var order = new (uint Turn, ulong Key, uint Id, uint Offset, uint Skip)[n];
        for (int i = 0; i < n; i++)
        {
            var (addr, port) = keyOf(backendIds[i]);
            ulong key = ((ulong)addr << 16) | port;
            order[i] = (HashMix.Mix(key, 0, OffsetSeed ^ SkipSeed), key, backendIds[i],
                HashMix.Mix(key, 0, OffsetSeed) % (uint)m, HashMix.Mix(key, 0, SkipSeed) % (uint)(m - 1) + 1);
        }
        // Turn order by the backend's own (address, port), not by input order: node-independent.
        Array.Sort(order, (a, b) => a.Turn != b.Turn ? a.Turn.CompareTo(b.Turn) : a.Key.CompareTo(b.Key));
        var next = new uint[n];
        int filled = 0;
        while (true)
        {
            for (int i = 0; i < n; i++)
            {
                // The paper's populate loop: backend i claims the next slot of its permutation that is still free.
                ref var b = ref order[i];
                uint c = (uint)((b.Offset + (ulong)next[i] * b.Skip) % (uint)m);
                while (table[(int)c] != 0)
                {
                    next[i]++;
                    c = (uint)((b.Offset + (ulong)next[i] * b.Skip) % (uint)m);
                }
                table[(int)c] = b.Id;
                next[i]++;
                if (++filled == m) return;
            }
        }
    }

    /// <summary>The hash a connection is placed by: its 5-tuple as it arrived (cilium hashes the CT tuple).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static uint FlowHash(uint srcIp, uint dstIp, ushort srcPort, ushort dstPort, byte proto) =>
        HashMix.Mix(((ulong)srcIp << 32) | dstIp, ((ulong)srcPort << 32) | ((ulong)dstPort << 16) | proto, OffsetSeed);

    public static bool IsSupportedSize(int m) => Array.IndexOf(SupportedSizes, m) >= 0;
}
