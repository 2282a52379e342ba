using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DataPlane.Maps;

/// <summary>A datagram's fragments share (source, destination, protocol, IP id) (RFC 791); addresses host order.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct FragmentKey(uint Src, uint Dst, ushort Id, byte Proto) : IMapKey<FragmentKey>
{
    public uint Hash(ulong seed) => HashMix.Mix(((ulong)Src << 32) | Dst, ((ulong)Id << 8) | Proto, seed);
}

/// <summary>The connection the datagram's first fragment belonged to, and until when to remember it.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FragmentEntry
{
    public int CtIndex;
    /// <summary>The connection's flow id, so a recycled conntrack slot is never mistaken for the datagram's.</summary>
    public uint FlowId;
    public long ExpiresNs;
    public CtDirection Direction;
}

/// <summary>
/// Fragment tracking (cilium's IPV4_FRAG_DATAGRAMS_MAP): later fragments carry no ports, so they follow the translation
/// their first fragment got. Entries live 30 s (Linux's ipfrag_time) or until the last fragment passes.
/// <para>Concurrency: owned by one pipeline worker, its only reader and writer.</para>
/// <para>Full: a new datagram is not remembered and its later fragments are dropped as frag-first-not-seen (cilium's map
/// is an LRU and would evict instead).</para>
/// </summary>
public sealed class FragmentMap(int capacity)
{
    public static readonly long LifetimeNs = 30_000_000_000;

    readonly FixedHashMap<FragmentKey, FragmentEntry> _map = new(capacity);

    public int Count => _map.Count;

    public void Remember(in FragmentKey key, int ctIndex, uint flowId, CtDirection dir, long nowNs)
    {
        var entry = new FragmentEntry { CtIndex = ctIndex, FlowId = flowId, Direction = dir, ExpiresNs = nowNs + LifetimeNs };
        ref FragmentEntry e = ref _map.Lookup(key);
        if (Unsafe.IsNullRef(ref e)) _map.TryAdd(key, entry);
        else e = entry;
    }

    public bool TryGet(in FragmentKey key, long nowNs, out FragmentEntry entry)
    {
        ref FragmentEntry e = ref _map.Lookup(key);
        if (Unsafe.IsNullRef(ref e)) { entry = default; return false; }
        if (e.ExpiresNs <= nowNs)
        {
            _map.Remove(key);
            entry = default;
            return false;
        }
        entry = e;
        return true;
    }

    public void Forget(in FragmentKey key) => _map.Remove(key);
}
