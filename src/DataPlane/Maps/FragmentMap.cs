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
    /// <summary>Position of the key in the map's dense key list (what the expiry sweep walks).</summary>
    internal int Dense;
}

/// <summary>
/// Fragment tracking (cilium's IPV4_FRAG_DATAGRAMS_MAP): later fragments carry no ports, so they follow the translation
/// their first fragment got. Entries live 30 s on the packet clock (the kernel's net.ipv4.ipfrag_time: an incomplete
/// datagram's queue is freed by its timer, ip_expire) or until the last fragment passes.
/// <para>Concurrency: owned by one pipeline worker, its only reader and writer.</para>
/// <para>
/// Full: expired datagrams are swept out first (all of them, one pass over the dense key list; a pass runs only once
/// the earliest remaining expiry has passed, so a table full of live datagrams costs nothing extra per packet). When
/// every entry is still live, the new datagram is not remembered and its later fragments are dropped as
/// frag-first-not-seen: the kernel's rule since it stopped evicting (inet_frag_create fails above
/// net.ipv4.ipfrag_high_thresh; inet: frags: "remove inet_frag_evictor", 4.17) rather than cilium's LRU, which would
/// evict a live datagram's entry and strand its remaining fragments instead.
/// </para>
/// </summary>
public sealed class FragmentMap
{
    public static readonly long LifetimeNs = 30_000_000_000;

    readonly FixedHashMap<FragmentKey, FragmentEntry> _map;
    readonly FragmentKey[] _keys;
    int _dense;
    long _sweepAfterNs; // no entry expires before this: a sweep before it would find nothing

    public FragmentMap(int capacity)
    {
        _map = new FixedHashMap<FragmentKey, FragmentEntry>(capacity);
        _keys = new FragmentKey[capacity];
    }

    public int Count => _map.Count;
    public int Capacity => _map.Capacity;

    public void Remember(in FragmentKey key, int ctIndex, uint flowId, CtDirection dir, long nowNs)
    {
        var entry = new FragmentEntry { CtIndex = ctIndex, FlowId = flowId, Direction = dir, ExpiresNs = nowNs + LifetimeNs };
        ref FragmentEntry e = ref _map.Lookup(key);
        if (!Unsafe.IsNullRef(ref e))
        {
            entry.Dense = e.Dense;
            e = entry;
            return;
        }
        if (_map.Count >= _map.Capacity && (nowNs < _sweepAfterNs || Sweep(nowNs) == 0)) return;
        entry.Dense = _dense;
        if (_map.TryAdd(key, entry) != MapStatus.Ok) return;
        _keys[_dense++] = key;
    }

    public bool TryGet(in FragmentKey key, long nowNs, out FragmentEntry entry)
    {
        ref FragmentEntry e = ref _map.Lookup(key);
        if (Unsafe.IsNullRef(ref e)) { entry = default; return false; }
        if (e.ExpiresNs <= nowNs)
        {
            Forget(key);
            entry = default;
            return false;
        }
        entry = e;
        return true;
    }

    public void Forget(in FragmentKey key)
    {
        ref FragmentEntry e = ref _map.Lookup(key);
        if (Unsafe.IsNullRef(ref e)) return;
        int hole = e.Dense;
        _map.Remove(key);
        // Keep the key list dense: the last key moves into the hole.
        int last = --_dense;
        if (hole != last)
        {
            FragmentKey moved = _keys[last];
            _keys[hole] = moved;
            _map.Lookup(moved).Dense = hole;
        }
        _keys[last] = default;
    }

    /// <summary>
    /// Removes every expired datagram (ip_expire for each queue whose timer has run); returns how many. Not on the
    /// per-packet path: <see cref="Remember"/> calls it only when the table is full and something can have expired.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public int Sweep(long nowNs)
    {
        int removed = 0;
        long next = long.MaxValue;
        for (int i = _dense - 1; i >= 0; i--)
        {
            FragmentKey k = _keys[i];
            long exp = _map.Lookup(k).ExpiresNs;
            if (exp <= nowNs) { Forget(k); removed++; } // the key moved into i (if any) was already visited
            else if (exp < next) next = exp;
        }
        _sweepAfterNs = next;
        return removed;
    }
}
