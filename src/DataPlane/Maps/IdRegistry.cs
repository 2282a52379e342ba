namespace DataPlane.Maps;

/// <summary>
/// Node-local ids that outlive map generations: a service port's rev-NAT id and a backend's id, the way cilium's
/// agent allocates service and backend ids once and keeps them while the object exists. Conntrack entries, affinity
/// memory and verdict records hold these ids across reloads, so an id must go on meaning the same service port or
/// backend for as long as anything can still hold it.
/// <para>
/// Ids are handed out in increasing order and a freed id (one no generation used) goes to the back of a FIFO; it is
/// reused only once the counter has run out (65535 service ports, 2^32-1 backends), so a stale holder names a
/// recycled object only after that much churn.
/// </para>
/// <para>Concurrency: owned by the control plane's single compile thread; the data plane never touches it.</para>
/// </summary>
public sealed class IdRegistry
{
    readonly Dictionary<string, ushort> _ports = [];
    readonly Dictionary<(uint, ushort, byte), uint> _backends = [];
    HashSet<ushort> _usedPorts = [];
    HashSet<uint> _usedBackends = [];
    readonly Queue<ushort> _freePorts = new();
    readonly Queue<uint> _freeBackends = new();
    ushort _nextPort = 1;
    uint _nextBackend = 1;
    readonly ushort _maxPort;

    public IdRegistry() : this(ushort.MaxValue) { }

    /// <summary>For tests of id recycling: a registry with only <paramref name="maxServicePortId"/> service-port ids.</summary>
    public IdRegistry(ushort maxServicePortId) => _maxPort = maxServicePortId;

    /// <summary>The id of a service port ("namespace/name:port/PROTO"), allocated on first sight.</summary>
    public ushort ServicePort(string key)
    {
        if (!_ports.TryGetValue(key, out ushort id))
        {
            if (_nextPort != 0 && _nextPort <= _maxPort) id = _nextPort++;
            else if (!_freePorts.TryDequeue(out id)) throw new InvalidOperationException($"more than {_maxPort} service ports");
            _ports.Add(key, id);
        }
        _usedPorts.Add(id);
        return id;
    }

    /// <summary>The id service port <paramref name="key"/> already has, without allocating or marking it.</summary>
    public bool TryGetServicePort(string key, out ushort id) => _ports.TryGetValue(key, out id);

    /// <summary>The id of a backend (address, port, protocol), allocated on first sight.</summary>
    public uint Backend(uint address, ushort port, byte proto)
    {
        var k = (address, port, proto);
        if (!_backends.TryGetValue(k, out uint id))
        {
            if (_nextBackend != 0) id = _nextBackend++;
            else if (!_freeBackends.TryDequeue(out id)) throw new InvalidOperationException("backend ids exhausted");
            _backends.Add(k, id);
        }
        _usedBackends.Add(id);
        return id;
    }

    /// <summary>Highest id handed out so far: generation arrays are sized by it.</summary>
    public int MaxServicePortId => _nextPort == 0 ? _maxPort : _nextPort - 1;
    public long MaxBackendId => _nextBackend == 0 ? uint.MaxValue : _nextBackend - 1;

    /// <summary>
    /// Ends a generation: ids no service port or backend of it used are freed (queued for reuse after the counter runs
    /// out). Call once per successfully built generation; a failed compile must call <see cref="Abandon"/> instead so
    /// the last good generation's ids stay live.
    /// </summary>
    public void Commit()
    {
        Release(_ports, _usedPorts, _freePorts);
        Release(_backends, _usedBackends, _freeBackends);
    }

    /// <summary>A compile that failed: forget what it marked, free nothing.</summary>
    public void Abandon()
    {
        // New sets rather than Clear(): Clear costs the capacity a full compile grew them to (100 k ids: ~100 µs),
        // and the incremental path abandons after every small change.
        _usedPorts = [];
        _usedBackends = [];
    }

    static void Release<TKey, TId>(Dictionary<TKey, TId> byKey, HashSet<TId> used, Queue<TId> free) where TKey : notnull
    {
        if (used.Count != byKey.Count)
            foreach (var (key, id) in byKey.ToArray())
                if (!used.Contains(id))
                {
                    byKey.Remove(key);
                    free.Enqueue(id);
                }
        used.Clear();
    }
}

/// <summary>Key of <see cref="MapSet.Serving"/>: an endpoint address serving a service port.</summary>
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
public readonly record struct ServingKey(uint Address, ushort RevNatIndex) : IMapKey<ServingKey>
{
    public uint Hash(ulong seed) => HashMix.Mix(((ulong)Address << 16) | RevNatIndex, 0, seed);
}
