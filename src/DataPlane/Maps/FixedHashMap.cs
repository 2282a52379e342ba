using System.Numerics;
using System.Runtime.CompilerServices;

namespace DataPlane.Maps;

/// <summary>
/// A preallocated, fixed-capacity, open-addressed (linear probing) hash map of unmanaged keys and values: the C# shape of
/// a BPF_MAP_TYPE_HASH with max_entries.
/// <para>
/// Concurrency: ONE writer. Readers on other threads are safe only while no writer runs, which is how the service-side
/// maps use it: a <see cref="MapSet"/> generation is filled by one control-plane thread, then published with one
/// Volatile.Write of its reference and never written again, so every reader sees either the old or the new generation,
/// complete. Maps that change under traffic (conntrack) have their own structure and rules.
/// </para>
/// <para>
/// Sizing: the slot array is a power of two at least twice the capacity (load factor &lt;= 0.5), so a probe sequence
/// stays short; inserting beyond <see cref="Capacity"/> returns <see cref="MapStatus.Full"/>.
/// Deletion uses backward-shift (no tombstones), so lookups never degrade after churn.
/// </para>
/// </summary>
public sealed class FixedHashMap<TKey, TValue>
    where TKey : unmanaged, IMapKey<TKey>
    where TValue : unmanaged
{
    struct Slot
    {
        public uint HashPlusOne; // 0 = empty; otherwise the key's hash with the top bit set (never 0), a cheap filter before Equals
        public TKey Key;
        public TValue Value;
    }

    readonly Slot[] _slots;
    readonly uint _mask;
    readonly ulong _seed;
    int _count;

    public FixedHashMap(int capacity, ulong seed = 0)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity));
        Capacity = capacity;
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity * 2, 8));
        _slots = new Slot[size];
        _mask = (uint)size - 1;
        _seed = seed;
    }

    public int Capacity { get; }
    public int Count => _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    uint Tag(in TKey key) => key.Hash(_seed) | 0x8000_0000u; // slot arrays stay below 2^31 entries, so the index bits are untouched

    /// <summary>Reference to the value for <paramref name="key"/>, or a null ref (check with Unsafe.IsNullRef).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref TValue Lookup(scoped in TKey key)
    {
        uint tag = Tag(key);
        Slot[] slots = _slots;
        uint i = tag & _mask;
        while (true)
        {
            ref Slot s = ref slots[i];
            if (s.HashPlusOne == 0) return ref Unsafe.NullRef<TValue>();
            if (s.HashPlusOne == tag && s.Key.Equals(key)) return ref s.Value;
            i = (i + 1) & _mask;
        }
    }

    /// <summary>
    /// Software prefetch of the slot <paramref name="key"/> hashes to (a hint: a lookup a few packets later finds the
    /// line in cache). The array may move under a compacting GC; a stale address only wastes the hint.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Prefetch(in TKey key)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref _slots[Tag(key) & _mask]));
    }

    public bool TryGetValue(in TKey key, out TValue value)
    {
        ref TValue v = ref Lookup(key);
        if (Unsafe.IsNullRef(ref v)) { value = default; return false; }
        value = v;
        return true;
    }

    /// <summary>BPF_NOEXIST insert.</summary>
    public MapStatus TryAdd(in TKey key, in TValue value)
    {
        uint tag = Tag(key);
        uint i = tag & _mask;
        while (true)
        {
            ref Slot s = ref _slots[i];
            if (s.HashPlusOne == 0) break;
            if (s.HashPlusOne == tag && s.Key.Equals(key)) return MapStatus.Exists;
            i = (i + 1) & _mask;
        }
        if (_count >= Capacity) return MapStatus.Full;
        ref Slot e = ref _slots[i];
        e.Key = key;
        e.Value = value;
        e.HashPlusOne = tag;
        _count++;
        return MapStatus.Ok;
    }

    public bool Remove(in TKey key)
    {
        uint tag = Tag(key);
        uint i = tag & _mask;
        while (true)
        {
            ref Slot s = ref _slots[i];
            if (s.HashPlusOne == 0) return false;
            if (s.HashPlusOne == tag && s.Key.Equals(key)) break;
            i = (i + 1) & _mask;
        }
        // Backward-shift deletion (Knuth 6.4, algorithm R): move later members of the cluster into the hole when their
        // home slot does not lie cyclically in (hole, j].
        uint hole = i;
        uint j = i;
        while (true)
        {
            j = (j + 1) & _mask;
            ref Slot s = ref _slots[j];
            if (s.HashPlusOne == 0) break;
            uint home = s.HashPlusOne & _mask;
            bool inRange = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
            if (inRange) continue;
            _slots[hole] = s;
            hole = j;
        }
        _slots[hole] = default;
        _count--;
        return true;
    }

    /// <summary>Insert or overwrite (writer only, before publication).</summary>
    public MapStatus Set(in TKey key, in TValue value)
    {
        ref TValue v = ref Lookup(key);
        if (Unsafe.IsNullRef(ref v)) return TryAdd(key, value);
        v = value;
        return MapStatus.Ok;
    }

    /// <summary>
    /// A private copy with room for <paramref name="capacity"/> entries, to be changed and published as a new
    /// generation: one block copy when the slot array keeps its size (same seed, same positions), a re-insert otherwise.
    /// </summary>
    public FixedHashMap<TKey, TValue> Clone(int capacity)
    {
        var copy = new FixedHashMap<TKey, TValue>(Math.Max(capacity, _count), _seed);
        if (copy._slots.Length == _slots.Length)
        {
            Array.Copy(_slots, copy._slots, _slots.Length);
            copy._count = _count;
        }
        else
            foreach (ref readonly Slot s in _slots.AsSpan())
                if (s.HashPlusOne != 0) copy.TryAdd(s.Key, s.Value);
        return copy;
    }

    /// <summary>Visit every entry (control-plane and CLI use, not the packet path).</summary>
    public void ForEach(Action<TKey, TValue> visit)
    {
        foreach (ref readonly Slot s in _slots.AsSpan())
            if (s.HashPlusOne != 0) visit(s.Key, s.Value);
    }
}
