using System.Runtime.InteropServices;

namespace DataPlane.Maps;

/// <summary>
/// Assembles a <see cref="MapSet"/> generation. Used by the control plane (and by tests, like cilium's SETUP seeding).
/// Not thread-safe; a builder produces one generation.
/// <para>
/// Ids come from an <see cref="IdRegistry"/> that the control plane keeps across generations, so the arrays indexed by
/// id may have holes (default entries) where a service port or backend of an earlier generation is gone.
/// </para>
/// </summary>
public sealed class MapSetBuilder : IBackendSink
{
    readonly NodeInfo _node;
    readonly IdRegistry _ids;
    readonly List<(Lb4Key Key, Lb4Service Value)> _frontends = [];
    readonly List<uint> _slots = [];
    readonly List<Lb4Backend> _backends = [default]; // id 0 is invalid, as in cilium
    readonly HashSet<uint> _backendIds = [];
    readonly List<Lb4ReverseNat> _revNat = [default];
    readonly List<string> _names = [""];
    readonly Dictionary<ushort, SourceRangeSet> _ranges = [];
    readonly HashSet<ServingKey> _serving = [];
    readonly List<int> _servingCount = [0];
    readonly List<uint[]> _maglev = [];
    readonly Dictionary<string, ushort> _maglevBySlots = [];

    /// <summary>Slots per Maglev table (a prime; cilium's --bpf-lb-maglev-table-size).</summary>
    public int MaglevSize { get; init; } = MaglevTable.DefaultSize;

    /// <param name="ids">The control plane's registry; a fresh one (ids from 1) when the builder stands alone.</param>
    public MapSetBuilder(NodeInfo node, IdRegistry? ids = null)
    {
        _node = node;
        _ids = ids ?? new IdRegistry();
    }

    public NodeInfo Node => _node;

    /// <summary>The cluster DNS zone to publish with the generation (compiled by the control plane).</summary>
    public Dns.DnsZone? Dns { get; set; }

    /// <summary>Registers a service port (the unit a reverse-NAT id stands for) and returns its id.</summary>
    public ushort AddServicePort(string name, uint address, ushort port, byte proto)
    {
        ushort id = _ids.ServicePort(ServicePortKey(name, proto));
        Grow(_revNat, id);
        Grow(_names, id, "");
        Grow(_servingCount, id);
        _revNat[id] = new Lb4ReverseNat(address, port, proto);
        _names[id] = name;
        return id;
    }

    /// <summary>The <see cref="IdRegistry"/> key of a service port: its display name and protocol.</summary>
    public static string ServicePortKey(string name, byte proto) => $"{name}/{Packets.IpProto.Name(proto)}";

    /// <summary>Backends are shared between frontends and deduplicated by (address, port, proto), as cilium does.</summary>
    public uint AddBackend(uint address, ushort port, byte proto, BackendState state = BackendState.Active, bool local = false)
    {
        uint id = _ids.Backend(address, port, proto);
        Grow(_backends, (int)id);
        if (!_backendIds.Add(id))
        {
            // The same endpoint seen again (another slice, another frontend): keep the most usable state.
            ref Lb4Backend b = ref CollectionsMarshal.AsSpan(_backends)[(int)id];
            if (state < b.State) b.State = state;
            b.Local |= local;
            return id;
        }
        _backends[(int)id] = new Lb4Backend { Address = address, Port = port, Proto = proto, State = state, Local = local };
        return id;
    }

    /// <summary>
    /// Records that <paramref name="address"/> is a serving endpoint (ready, or serving while terminating) of service
    /// port <paramref name="revNatIndex"/>, whatever the traffic policies make of it: the set kube-proxy's UDP conntrack
    /// cleanup keeps flows to (pkg/proxy/conntrack/cleanup.go).
    /// </summary>
    public void AddServing(ushort revNatIndex, uint address)
    {
        if (_serving.Add(new ServingKey(address, revNatIndex))) _servingCount[revNatIndex]++;
    }

    static void Grow<T>(List<T> list, int index, T fill = default!)
    {
        while (list.Count <= index) list.Add(fill);
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
        if ((flags & ServiceFlags.Maglev) != 0) svc.MaglevTable = MaglevFor(backendIds);
        _frontends.Add((key, svc));
    }

    /// <summary>The Maglev table for this backend list, built once per distinct list (a service's ClusterIP, NodePorts
    /// and external IPs usually share one); 64 KB each at the default size, as in cilium's per-service inner map.</summary>
    ushort MaglevFor(ReadOnlySpan<uint> backendIds)
    {
        string key = string.Join(',', backendIds.ToArray());
        if (_maglevBySlots.TryGetValue(key, out ushort t)) return t;
        if (_maglev.Count > ushort.MaxValue) throw new InvalidOperationException("more than 65536 distinct Maglev tables");
        var table = new uint[MaglevSize];
        MaglevTable.Build(backendIds, id => (_backends[(int)id].Address, _backends[(int)id].Port), table);
        t = (ushort)_maglev.Count;
        _maglev.Add(table);
        _maglevBySlots.Add(key, t);
        return t;
    }

    readonly List<string> _duplicates = [];

    /// <summary>After <see cref="Build"/>: one line per frontend two service ports claimed, naming both and the winner.</summary>
    public IReadOnlyList<string> DuplicateFrontends => _duplicates;

    public void SetSourceRanges(ushort revNatIndex, SourceRangeSet ranges) => _ranges[revNatIndex] = ranges;

    public MapSet Build(long generation)
    {
        var services = new FixedHashMap<Lb4Key, Lb4Service>(Math.Max(_frontends.Count, 1));
        var first = new Dictionary<Lb4Key, ushort>();
        foreach (var (key, value) in _frontends)
        {
            var st = services.TryAdd(key, value);
            if (st != MapStatus.Exists) { first[key] = value.RevNatIndex; continue; }
            // Two services may claim one address and port (a shared externalIP or LB IP: the API server accepts it).
            // kube-proxy's iptables mode writes a KUBE-SERVICES rule for each and the first matching one wins; the
            // first in manifest order stands for it here, and the loser is reported once per address.
            ushort winner = first[key];
            if (winner == value.RevNatIndex || key.Scope != 0) continue;
            _duplicates.Add($"{Packets.Ip4.Format(key.Address)}:{key.Port}/{Packets.IpProto.Name(key.Proto).ToUpperInvariant()} is claimed by " +
                $"{_names[winner]} and {_names[value.RevNatIndex]}: {_names[winner]} gets the traffic (the first matching KUBE-SERVICES rule wins)");
        }
        var addresses = new FixedHashMap<Ip4Key, byte>(Math.Max(_frontends.Count, 1));
        foreach (var (key, _) in _frontends) addresses.TryAdd(new Ip4Key(key.Address), 1);
        var ranges = new SourceRangeSet?[_revNat.Count];
        foreach (var (id, set) in _ranges) ranges[id] = set;
        var serving = new FixedHashMap<ServingKey, byte>(Math.Max(_serving.Count, 1));
        foreach (ServingKey k in _serving) serving.TryAdd(k, 1);
        var endpoints = new FixedHashMap<Lb4Key, byte>(Math.Max(_backendIds.Count, 1));
        foreach (uint id in _backendIds)
        {
            Lb4Backend be = _backends[(int)id];
            endpoints.TryAdd(new Lb4Key(be.Address, be.Port, be.Proto), 1);
        }
        return new MapSet(generation, services, [.. _slots], [.. _backends], [.. _revNat], [.. _names], _node, addresses, ranges,
            serving, [.. _servingCount], _maglev.Count == 0 ? [] : [.. _maglev.SelectMany(t => t)], MaglevSize)
        { Dns = Dns, Endpoints = endpoints };
    }
}
