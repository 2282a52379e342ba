using System.Numerics;
using System.Runtime.CompilerServices;

namespace DataPlane.Maps;

/// <summary>
/// The connection-tracking table, and with it the NAT table: a fixed array of <see cref="CtEntry"/> (Linux nf_conn) plus
/// an open-addressed index that finds an entry from EITHER of its tuples (Linux's two tuplehash nodes per connection).
/// <para>
/// Why no separate SNAT map (cilium's cilium_snat_v4_external): the reply tuple of a masqueraded connection IS its NAT
/// binding (node ip:port &lt;-&gt; client ip:port), and its uniqueness in this index is exactly the guarantee that no two live
/// flows share a translated tuple, the check Linux's nf_nat_used_tuple makes. Keeping the binding in the entry means CT
/// and NAT state are created, expired and collected together, never one without the other.
/// </para>
/// <para>
/// Concurrency: ONE writer, the pipeline worker that owns the table (the packet path inserts, refreshes and deletes).
/// The index is read only by that worker. Other threads (a 'ct list' dump, stats) read the entry array through
/// <see cref="TrySnapshot"/>: each entry carries a seqlock word the owner makes odd before writing and even after
/// (Volatile), so a reader copies the entry and retries if the word changed or was odd; worst case it retries, it never
/// sees a torn entry. Readers never take a lock and never block the owner.
/// </para>
/// <para>
/// Sizing: <c>capacity</c> connections (a power of two, the BPF max_entries); the index has 4 slots per connection (two
/// tuples at load factor 0.5), 8 bytes each, so a live flow costs 64 + 32 = 96 bytes. A full table is
/// <see cref="MapStatus.Full"/>, never a resize.
/// </para>
/// </summary>
public sealed unsafe class ConntrackMap : IDisposable
{
    // Index slot: high 32 bits = tuple hash with the top bit set (never 0), low 32 bits = entryIndex * 2 + direction.
    // 0 = empty. Comparing the hash first avoids touching the entry line on most probe misses.
    // Both tables live in PinnedTable memory: cache-line-aligned entries, huge pages.
    ulong* _index;
    readonly uint _indexMask;
    CtEntry* _entries;
    // Free entries form a list threaded through their FlowId field (entry index + 1; 0 ends it), so a free slot costs
    // nothing beyond the entry itself: 64 + 32 = 96 bytes per connection.
    int _freeHead;
    int _count;
    readonly ulong _seed;
    uint[] _flowIdsIssued = new uint[1];

    /// <summary>
    /// Flow ids are numbered per flow class (the connection's client port's class, the unit
    /// <see cref="Pipeline.FlowSteering"/> hands to workers): the k-th connection of class c gets k * classes + c + 1.
    /// So a flow id names one connection across every worker's table, and the same connection gets the same id
    /// whichever worker owns its class and however many there are. One class: 1, 2, 3...
    /// </summary>
    public void SetFlowClasses(int classes)
    {
        if (classes < 1 || classes > 64 || !BitOperations.IsPow2(classes)) throw new ArgumentOutOfRangeException(nameof(classes));
        _flowIdsIssued = new uint[classes];
    }

    public ConntrackMap(int capacity, ulong seed = 0x5EED_C0DE_F00Dul)
    {
        if (capacity < 1 || !BitOperations.IsPow2(capacity))
            throw new ArgumentException("conntrack capacity must be a power of two", nameof(capacity));
        Capacity = capacity;
        _entries = PinnedTable.Allocate<CtEntry>(capacity);
        _index = PinnedTable.Allocate<ulong>(capacity * 4L);
        _indexMask = (uint)(capacity * 4L - 1);
        for (int i = 0; i < capacity - 1; i++) _entries[i].FlowId = (uint)(i + 2); // pop order 0, 1, 2, ...: deterministic dumps
        _freeHead = 1;
        _seed = seed;
    }

    ~ConntrackMap() => Release();

    /// <summary>Returns the tables' memory now rather than at finalization.</summary>
    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    void Release()
    {
        PinnedTable.Free(_entries, Capacity);
        PinnedTable.Free(_index, Capacity * 4L);
        _entries = null;
        _index = null;
    }

    public int Capacity { get; }
    public int Count => _count;

    /// <summary>Native memory this table holds: its entries and index (<see cref="BytesPerFlow"/> per connection) until disposed, then 0.</summary>
    public long NativeBytes => _entries == null ? 0 : (long)Capacity * BytesPerFlow;

    /// <summary>Bytes of preallocated memory per connection (entry + its share of the index).</summary>
    public static int BytesPerFlow => Unsafe.SizeOf<CtEntry>() + 4 * sizeof(ulong);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    uint Tag(in CtTuple4 t) => t.Hash(_seed) | 0x8000_0000u;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    ref readonly CtTuple4 TupleOf(uint slotLow) =>
        ref (slotLow & 1) == 0 ? ref _entries[slotLow >> 1].Original : ref _entries[slotLow >> 1].Reply;

    /// <summary>
    /// Software prefetch, step 1 of 2: start loading the index slot <paramref name="tuple"/> hashes to. With a million
    /// connections every lookup misses the caches twice in a row (index slot, then entry), ~100 ns each; issuing these
    /// loads a few packets ahead lets the misses of several packets overlap (VPP's and DPDK's dual/quad loops).
    /// A hint only: it never changes a result.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PrefetchSlot(in CtTuple4 tuple)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(_index + (Tag(tuple) & _indexMask));
    }

    /// <summary>Software prefetch, step 2 of 2 (after <see cref="PrefetchSlot"/>, a few packets later): start loading the entry the home slot points to.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PrefetchEntry(in CtTuple4 tuple)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        uint tag = Tag(tuple);
        // The tuple may sit a few slots past its home (linear probing at load <= 0.5): look along the probe run, which
        // the slot prefetch brought in, as far as it goes.
        for (uint i = tag & _indexMask, n = 0; n < 4; i = (i + 1) & _indexMask, n++)
        {
            ulong s = _index[i];
            if (s == 0) return;
            if ((uint)(s >> 32) == tag)
            {
                System.Runtime.Intrinsics.X86.Sse.Prefetch0(_entries + (((uint)s - 1) >> 1));
                return;
            }
        }
    }

    /// <summary>Finds the connection a tuple belongs to; returns its index or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Lookup(in CtTuple4 tuple, out CtDirection direction)
    {
        uint tag = Tag(tuple);
        ulong* index = _index;
        uint i = tag & _indexMask;
        while (true)
        {
            ulong s = index[i];
            if (s == 0) break;
            if ((uint)(s >> 32) == tag)
            {
                uint low = (uint)s - 1;
                if (TupleOf(low).Equals(tuple))
                {
                    direction = (CtDirection)(low & 1);
                    return (int)(low >> 1);
                }
            }
            i = (i + 1) & _indexMask;
        }
        direction = default;
        return -1;
    }

    public bool Contains(in CtTuple4 tuple) => Lookup(tuple, out _) >= 0;

    bool InUse(in CtTuple4 tuple, long nowNs)
    {
        int e = Lookup(tuple, out _);
        if (e < 0) return false;
        if (_entries[e].ExpiresNs > nowNs) return true;
        Delete(e);
        return false;
    }

    public ref CtEntry this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((uint)index >= (uint)Capacity) ThrowIndex(index);
            return ref _entries[index];
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void ThrowIndex(int index) => throw new ArgumentOutOfRangeException(nameof(index), index, "not a conntrack entry index");

    /// <summary>
    /// Creates a connection with both tuples, BPF_NOEXIST on each. The reply tuple is inserted first, as cilium inserts
    /// the reverse NAT entry first: it is the one that can collide (a translated tuple already in use), and failing there
    /// leaves nothing to roll back.
    /// <para>
    /// A tuple held by a connection that expired before <paramref name="nowNs"/> but that the incremental GC has not
    /// reached yet is not in use: that connection is collected here and the tuple taken, as the kernel's
    /// nf_conntrack_tuple_taken skips (and kills) expired entries. Otherwise a closed flow would pin its SNAT port until
    /// the sweep came round. The default <paramref name="nowNs"/> reclaims nothing.
    /// </para>
    /// </summary>
    public MapStatus TryCreate(in CtTuple4 original, in CtTuple4 reply, out int entryIndex, long nowNs = long.MinValue, int flowClass = 0)
    {
        entryIndex = -1;
        if (InUse(reply, nowNs) || InUse(original, nowNs)) return MapStatus.Exists;
        if (_freeHead == 0) return MapStatus.Full;
        int e = _freeHead - 1;
        ref CtEntry entry = ref _entries[e];
        _freeHead = (int)entry.FlowId;
        _count++;
        BeginWrite(ref entry);
        entry.Original = original;
        entry.Reply = reply;
        uint[] issued = _flowIdsIssued;
        entry.FlowId = issued[flowClass]++ * (uint)issued.Length + (uint)flowClass + 1;
        entry.Flags = CtFlags.Live;
        entry.BackendId = 0;
        entry.RevNatIndex = 0;
        entry.Generation = 0;
        entry.TcpFlagsOriginal = 0;
        entry.TcpFlagsReply = 0;
        entry.TcpWindowScales = 0;
        entry.TcpEndOriginal = entry.TcpEndReply = 0;
        entry.ExpiresNs = 0;
        EndWrite(ref entry);
        Insert(Tag(reply), (uint)(e * 2 + 1) + 1);
        Insert(Tag(original), (uint)(e * 2) + 1);
        entryIndex = e;
        return MapStatus.Ok;
    }

    void Insert(uint tag, uint value)
    {
        uint i = tag & _indexMask;
        while (_index[i] != 0) i = (i + 1) & _indexMask;
        _index[i] = ((ulong)tag << 32) | value;
    }

    /// <summary>Removes a connection: both index slots, then the entry (CT and NAT binding go together).</summary>
    public void Delete(int entryIndex)
    {
        ref CtEntry entry = ref _entries[entryIndex];
        if ((entry.Flags & CtFlags.Live) == 0) return;
        RemoveSlot(entry.Reply, (uint)(entryIndex * 2 + 1) + 1);
        RemoveSlot(entry.Original, (uint)(entryIndex * 2) + 1);
        BeginWrite(ref entry);
        entry.Flags = CtFlags.None;
        EndWrite(ref entry);
        entry.FlowId = (uint)_freeHead; // a dead entry's FlowId links the free list (readers skip dead entries)
        _freeHead = entryIndex + 1;
        _count--;
    }

    void RemoveSlot(in CtTuple4 tuple, uint value)
    {
        uint tag = Tag(tuple);
        uint i = tag & _indexMask;
        while ((uint)_index[i] != value)
        {
            if (_index[i] == 0) return; // not indexed (cannot happen for a live entry)
            i = (i + 1) & _indexMask;
        }
        // Backward-shift deletion (Knuth 6.4 algorithm R): no tombstones, so probe lengths do not grow with churn.
        uint hole = i, j = i;
        while (true)
        {
            j = (j + 1) & _indexMask;
            ulong s = _index[j];
            if (s == 0) break;
            uint home = (uint)(s >> 32) & _indexMask;
            bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
            if (stays) continue;
            _index[hole] = s;
            hole = j;
        }
        _index[hole] = 0;
    }

    int _gcCursor; // next entry slot the incremental collector looks at

    /// <summary>
    /// Incremental garbage collection: looks at up to <paramref name="budget"/> entry slots from where the last call
    /// stopped and deletes the connections that expired before <paramref name="nowNs"/>, CT entry and NAT binding
    /// together (they are one entry). Called by the owner a few slots per packet, so a sweep never stalls the packet
    /// path the way cilium's periodic user-space walk would if it ran inline. Returns how many were deleted.
    /// </summary>
    public int Collect(long nowNs, int budget)
    {
        int deleted = 0;
        for (int i = 0; i < budget; i++)
        {
            int e = _gcCursor;
            // The sweep walks the table in order: ask for the line a budget ahead now, so it is there next time.
            if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
                System.Runtime.Intrinsics.X86.Sse.Prefetch0(_entries + ((e + budget) & (Capacity - 1)));
            _gcCursor = (e + 1) & (Capacity - 1);
            ref CtEntry entry = ref _entries[e];
            if ((entry.Flags & CtFlags.Live) != 0 && entry.ExpiresNs <= nowNs)
            {
                Delete(e);
                deleted++;
            }
        }
        return deleted;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void BeginWrite(ref CtEntry e) => Volatile.Write(ref e.Seq, e.Seq + 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void EndWrite(ref CtEntry e) => Volatile.Write(ref e.Seq, e.Seq + 1);

    /// <summary>A consistent copy of entry <paramref name="entryIndex"/> for readers on other threads; false if not live.</summary>
    public bool TrySnapshot(int entryIndex, out CtEntry copy)
    {
        ref CtEntry e = ref this[entryIndex];
        while (true)
        {
            int before = Volatile.Read(ref e.Seq);
            if ((before & 1) != 0) { Thread.SpinWait(1); continue; }
            copy = e;
            if (Volatile.Read(ref e.Seq) == before) return (copy.Flags & CtFlags.Live) != 0;
        }
    }
}
