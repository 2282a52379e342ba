namespace DataPlane.Maps;

/// <summary>Where a compile puts the backends it finds: a full generation (<see cref="MapSetBuilder"/>) or a delta.</summary>
public interface IBackendSink
{
    /// <summary>The id of backend (address, port, proto), registered with its state and locality.</summary>
    uint AddBackend(uint address, ushort port, byte proto, BackendState state = BackendState.Active, bool local = false);
    /// <summary><paramref name="address"/> serves service port <paramref name="revNatIndex"/> (policies aside).</summary>
    void AddServing(ushort revNatIndex, uint address);
}

/// <summary>
/// Accumulates endpoint changes over one full generation (the base) and publishes each as base + <see cref="MapSetDelta"/>:
/// only the changed frontends' values, their slots and Maglev tables, touched backends and serving sets are built, so
/// the cost of a change follows the change, not the cluster.
/// <para>Not thread-safe: owned by the control plane's compile thread, one instance per base generation.</para>
/// </summary>
public sealed class MapSetDeltaBuilder : IBackendSink
{
    readonly MapSet _base;
    readonly IdRegistry _ids;
    // What the last published delta holds; each Build copies these maps (block copies) and applies the pending changes,
    // so a change costs its own size plus a memcpy of the overlay, never a re-insert of everything.
    FixedHashMap<Lb4Key, Lb4Service> _services = new(1);
    FixedHashMap<IdKey, Lb4Backend> _backends = new(1);
    FixedHashMap<ServingKey, byte> _servingMap = new(1);
    FixedHashMap<IdKey, int> _servingCount = new(1);
    FixedHashMap<Lb4Key, byte> _endpoints = new(1);
    readonly Dictionary<ushort, HashSet<uint>> _serving = [];
    // Slots and Maglev tables are append-only arrays shared by the deltas of this base: a published generation reads
    // only the front it was built with, so the next change appends behind it and publishes the same array, instead of
    // copying up to 64 K slots (a 256 KB large-object allocation, and with it gen-2 collections) per change. Growing or
    // compacting starts a new array; the old one stays with the generations that use it.
    uint[] _slots = new uint[256];
    int _slotCount;
    uint[][] _maglev = new uint[4][];
    int _maglevCount;
    // The change being built.
    readonly List<(Lb4Key, Lb4Service)> _pendingFrontends = [];
    readonly Dictionary<uint, Lb4Backend> _pendingBackends = [];
    readonly Dictionary<ushort, HashSet<uint>> _pendingServing = [];

    public MapSetDeltaBuilder(MapSet baseGeneration, IdRegistry ids)
    {
        if (baseGeneration.Delta is not null) throw new ArgumentException("the base must be a full generation", nameof(baseGeneration));
        _base = baseGeneration;
        _ids = ids;
    }

    public MapSet Base => _base;
    /// <summary>Frontends and slots the overlay holds: when it grows past a bound, a full compile is cheaper to read.</summary>
    public int FrontendCount => _services.Count + _pendingFrontends.Count;
    public int SlotCount => _slotCount;

    public uint AddBackend(uint address, ushort port, byte proto, BackendState state = BackendState.Active, bool local = false)
    {
        uint id = _ids.Backend(address, port, proto);
        var b = new Lb4Backend { Address = address, Port = port, Proto = proto, State = state, Local = local };
        if (_pendingBackends.TryGetValue(id, out Lb4Backend seen))
        {
            if (seen.State < b.State) b.State = seen.State;
            b.Local |= seen.Local;
            _pendingBackends[id] = b;
            return id;
        }
        Lb4Backend current = Current(id);
        if (current.Address == address && current.Port == port && current.Proto == proto && current.State == state && current.Local == local)
            return id; // unchanged: the entry already published serves
        _pendingBackends[id] = b;
        return id;
    }

    Lb4Backend Current(uint id) =>
        _pendingBackends.TryGetValue(id, out Lb4Backend p) ? p
        : _backends.TryGetValue(new IdKey(id), out Lb4Backend o) ? o
        : id < (uint)_base.Backends.Length ? _base.Backends[id] : default;

    /// <summary>Starts a service port's serving set afresh (its endpoints are about to be re-added).</summary>
    public void ResetServing(ushort revNatIndex) => _pendingServing[revNatIndex] = [];

    public void AddServing(ushort revNatIndex, uint address)
    {
        if (!_pendingServing.TryGetValue(revNatIndex, out HashSet<uint>? set)) _pendingServing[revNatIndex] = set = [];
        set.Add(address);
    }

    /// <summary>Frontend <paramref name="key"/> (a base frontend) now balances over <paramref name="backendIds"/>.</summary>
    public void SetFrontend(Lb4Key key, Lb4Service baseValue, ReadOnlySpan<uint> backendIds)
    {
        Lb4Service v = baseValue;
        v.SlotOffset = (uint)(_base.BackendSlots.Length + _slotCount);
        v.Count = (ushort)backendIds.Length;
        if (_slotCount + backendIds.Length > _slots.Length)
            Array.Resize(ref _slots, Math.Max(_slots.Length * 2, _slotCount + backendIds.Length)); // a copy: published arrays are never written
        backendIds.CopyTo(_slots.AsSpan(_slotCount));
        _slotCount += backendIds.Length;
        if ((v.Flags & ServiceFlags.Maglev) != 0)
        {
            var table = new uint[_base.MaglevSize];
            MaglevTable.Build(backendIds, id => (Current(id).Address, Current(id).Port), table);
            v.MaglevTable = (ushort)(_base.MaglevTableCount + _maglevCount);
            if (_maglevCount == _maglev.Length) Array.Resize(ref _maglev, _maglev.Length * 2);
            _maglev[_maglevCount++] = table;
        }
        _pendingFrontends.Add((key, v));
    }

    /// <summary>The base with everything accumulated so far over it, as generation <paramref name="generation"/>.</summary>
    public MapSet Build(long generation)
    {
        foreach (var (k, v) in _pendingFrontends)
        {
            if (_services.TryGetValue(k, out Lb4Service old))
            {
                _liveSlots -= old.Count;
                if ((old.Flags & ServiceFlags.Maglev) != 0) _liveTables--;
            }
            _liveSlots += v.Count;
            if ((v.Flags & ServiceFlags.Maglev) != 0) _liveTables++;
        }
        _services = Patch(_services, _pendingFrontends.Count, m => { foreach (var (k, v) in _pendingFrontends) m.Set(k, v); });
        // A frontend changed again leaves its earlier slots and table behind; once most of the overlay is such garbage,
        // copy out the live part (amortised: it runs after as many changes as it copies entries).
        if (_slotCount > 4 * _liveSlots + 4096 || _maglevCount > 2 * _liveTables + 4) Compact();
        _backends = Patch(_backends, _pendingBackends.Count, m => { foreach (var (id, b) in _pendingBackends) m.Set(new IdKey(id), b); });
        _endpoints = Patch(_endpoints, _pendingBackends.Count, m => { foreach (Lb4Backend b in _pendingBackends.Values) m.Set(new Lb4Key(b.Address, b.Port, b.Proto), 1); });
        int added = 0;
        foreach (var set in _pendingServing.Values) added += set.Count;
        _servingMap = Patch(_servingMap, added, m =>
        {
            foreach (var (r, set) in _pendingServing)
            {
                if (_serving.TryGetValue(r, out HashSet<uint>? old))
                    foreach (uint a in old) m.Remove(new ServingKey(a, r));
                foreach (uint a in set) m.Set(new ServingKey(a, r), 1);
                _serving[r] = set;
            }
        });
        _servingCount = Patch(_servingCount, _pendingServing.Count, m => { foreach (var (r, set) in _pendingServing) m.Set(new IdKey(r), set.Count); });
        _pendingFrontends.Clear();
        _pendingBackends.Clear();
        _pendingServing.Clear();
        return _base.WithDelta(new MapSetDelta(_services, _slots, _backends, _servingMap, _servingCount, _maglev, _slotCount, _maglevCount) { Endpoints = _endpoints }, generation);
    }

    int _liveSlots, _liveTables; // slots and Maglev tables the overlay's frontends point at

    void Compact()
    {
        uint baseSlots = (uint)_base.BackendSlots.Length;
        int baseTables = _base.MaglevTableCount;
        var slots = new List<uint>();
        var tables = new List<uint[]>();
        FixedHashMap<Lb4Key, Lb4Service> copy = _services.Clone(_services.Capacity);
        _services.ForEach((k, v) =>
        {
            Lb4Service nv = v;
            nv.SlotOffset = baseSlots + (uint)slots.Count;
            for (int i = 0; i < v.Count; i++) slots.Add(_slots[(int)(v.SlotOffset - baseSlots) + i]);
            if ((v.Flags & ServiceFlags.Maglev) != 0)
            {
                nv.MaglevTable = (ushort)(baseTables + tables.Count);
                tables.Add(_maglev[v.MaglevTable - baseTables]);
            }
            copy.Set(k, nv);
        });
        _services = copy;
        // New arrays: the published generations still read the old ones at the old positions.
        _slots = new uint[Math.Max(256, slots.Count * 2)];
        slots.CopyTo(_slots);
        _slotCount = slots.Count;
        _maglev = new uint[Math.Max(4, tables.Count * 2)][];
        tables.CopyTo(_maglev);
        _maglevCount = tables.Count;
    }

    /// <summary>A copy of <paramref name="map"/> with room for <paramref name="more"/> entries (doubling, so copies stay
    /// block copies most of the time), changed by <paramref name="change"/>; the published map is never written.</summary>
    static FixedHashMap<TKey, TValue> Patch<TKey, TValue>(FixedHashMap<TKey, TValue> map, int more, Action<FixedHashMap<TKey, TValue>> change)
        where TKey : unmanaged, IMapKey<TKey> where TValue : unmanaged
    {
        if (more == 0) return map;
        int need = map.Count + more;
        FixedHashMap<TKey, TValue> copy = map.Clone(need <= map.Capacity ? map.Capacity : Math.Max(need, map.Capacity * 2));
        change(copy);
        return copy;
    }
}
