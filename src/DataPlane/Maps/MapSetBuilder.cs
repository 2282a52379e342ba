using System.Runtime.InteropServices;

namespace DataPlane.Maps;

/// <summary>
/// Assembles a <see cref="MapSet"/> generation. Used by the control plane (and by tests, like cilium's SETUP seeding).
/// Not thread-safe; a builder produces one generation.
/// </summary>
public sealed class MapSetBuilder
{
    readonly NodeInfo _node;
    readonly List<(Lb4Key Key, Lb4Service Value)> _frontends = [];
    readonly List<uint> _slots = [];
    readonly List<Lb4Backend> _backends = [default]; // id 0 is invalid, as in cilium
    readonly Dictionary<(uint, ushort, byte), uint> _backendIds = [];
    readonly List<Lb4ReverseNat> _revNat = [default];
    readonly List<string> _names = [""];
    readonly Dictionary<ushort, SourceRangeSet> _ranges = [];

    public MapSetBuilder(NodeInfo node) => _node = node;

    public NodeInfo Node => _node;

    /// <summary>Registers a service port (the unit a reverse-NAT id stands for) and returns its id.</summary>
    public ushort AddServicePort(string name, uint address, ushort port, byte proto)
    {
        if (_revNat.Count > ushort.MaxValue) throw new InvalidOperationException("more than 65535 service ports");
        _revNat.Add(new Lb4ReverseNat(address, port, proto));
        _names.Add(name);
        return (ushort)(_revNat.Count - 1);
    }

    /// <summary>Backends are shared between frontends and deduplicated by (address, port, proto), as cilium does.</summary>
    public uint AddBackend(uint address, ushort port, byte proto, BackendState state = BackendState.Active, bool local = false)
    {
        var k = (address, port, proto);
        if (_backendIds.TryGetValue(k, out uint id))
        {
            // The same endpoint seen again (another slice, another frontend): keep the most usable state.
            ref Lb4Backend b = ref CollectionsMarshal.AsSpan(_backends)[(int)id];
            if (state < b.State) b.State = state;
            b.Local |= local;
            return id;
        }
        id = (uint)_backends.Count;
        _backends.Add(new Lb4Backend { Address = address, Port = port, Proto = proto, State = state, Local = local });
        _backendIds.Add(k, id);
        return id;
    }

    /// <summary>Adds a frontend whose slots 1..n are <paramref name="backendIds"/> (n may be 0: the reject case).</summary>
    public void AddFrontend(Lb4Key key, ushort revNatIndex, ServiceFlags flags, ReadOnlySpan<uint> backendIds, uint affinityTimeoutSeconds = 0)
    {
        if (backendIds.Length > ushort.MaxValue) throw new ArgumentException("too many backends for one frontend");
        var svc = new Lb4Service
        {
            SlotOffset = (uint)_slots.Count,
            Count = (ushort)backendIds.Length,
            RevNatIndex = revNatIndex,
            Flags = flags,
            AffinityTimeoutSeconds = affinityTimeoutSeconds,
        };
        foreach (uint id in backendIds) _slots.Add(id);
        _frontends.Add((key, svc));
    }

    public void SetSourceRanges(ushort revNatIndex, SourceRangeSet ranges) => _ranges[revNatIndex] = ranges;

    public MapSet Build(long generation)
    {
        var services = new FixedHashMap<Lb4Key, Lb4Service>(Math.Max(_frontends.Count, 1));
        foreach (var (key, value) in _frontends)
        {
            var st = services.TryAdd(key, value);
            if (st == MapStatus.Exists)
                throw new InvalidOperationException($"duplicate frontend {Packets.Ip4.Format(key.Address)}:{key.Port}/{Packets.IpProto.Name(key.Proto)}");
        }
        var addresses = new FixedHashMap<Ip4Key, byte>(Math.Max(_frontends.Count, 1));
        foreach (var (key, _) in _frontends) addresses.TryAdd(new Ip4Key(key.Address), 1);
        var ranges = new SourceRangeSet?[_revNat.Count];
        foreach (var (id, set) in _ranges) ranges[id] = set;
        return new MapSet(generation, services, [.. _slots], [.. _backends], [.. _revNat], [.. _names], _node, addresses, ranges);
    }
}
