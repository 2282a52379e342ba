namespace DataPlane.Maps;

/// <summary>
/// One generation of the service-side maps: frontends, backend slots, backends, reverse-NAT and the node's facts.
/// <para>
/// Concurrency: a generation is built off to the side by one control-plane thread (<see cref="MapSetBuilder"/>) and
/// never written after it is published through <see cref="MapSetHolder"/>. Readers therefore need no lock and can never
/// see a half-updated service; a packet that loaded the old generation finishes on it. Conntrack is not part of a
/// generation: it belongs to the data plane and survives every swap (established flows keep their translation).
/// </para>
/// <para>
/// A generation is either full, or a full one (the base, shared, never copied) with a <see cref="MapSetDelta"/> of
/// endpoint changes over it; the packet path reads through the accessors (<see cref="Frontend"/>, <see cref="Slot"/>,
/// <see cref="Backend"/>...), which cost one null check when there is no delta.
/// </para>
/// </summary>
public sealed class MapSet
{
    internal MapSet(long generation, FixedHashMap<Lb4Key, Lb4Service> services, uint[] backendSlots, Lb4Backend[] backends,
        Lb4ReverseNat[] reverseNat, string[] serviceNames, NodeInfo node, FixedHashMap<Ip4Key, byte> frontendAddresses, SourceRangeSet?[] sourceRanges,
        FixedHashMap<ServingKey, byte> serving, int[] servingCount, uint[] maglevTables, int maglevSize)
    {
        MaglevTables = maglevTables;
        MaglevSize = (uint)maglevSize;
        Serving = serving;
        ServingCount = servingCount;
        SourceRanges = sourceRanges;
        FrontendAddresses = frontendAddresses;
        Generation = generation;
        Services = services;
        BackendSlots = backendSlots;
        Backends = backends;
        ReverseNat = reverseNat;
        ServiceNames = serviceNames;
        Node = node;
    }

    public long Generation { get; }
    /// <summary>Frontend (address, port, proto, scope) -> master entry.</summary>
    public FixedHashMap<Lb4Key, Lb4Service> Services { get; }
    /// <summary>Backend ids of every frontend's slots 1..Count, frontend after frontend.</summary>
    public uint[] BackendSlots { get; }
    /// <summary>Backend id -> backend; index 0 is the invalid id. Ids are stable across generations (<see cref="IdRegistry"/>), so
    /// an id no longer in use is a hole: a default entry.</summary>
    public Lb4Backend[] Backends { get; }
    /// <summary>rev_nat_index -> frontend; index 0 invalid.</summary>
    public Lb4ReverseNat[] ReverseNat { get; }
    /// <summary>rev_nat_index -> "namespace/name:port" for verdict records (never read on the packet path).</summary>
    public string[] ServiceNames { get; }
    public NodeInfo Node { get; }
    /// <summary>Every address some frontend listens on (any port, any protocol): where foreign L4 protocols are dropped.</summary>
    public FixedHashMap<Ip4Key, byte> FrontendAddresses { get; }

    /// <summary>
    /// (address, port, proto) of every backend of the full generation, the endpoints a direct (untranslated) flow can
    /// share a reply tuple with (<see cref="Pipeline.Stages.ConntrackStage.Direct"/>); a delta adds its own
    /// (<see cref="MapSetDelta.Endpoints"/>). An endpoint a delta removed stays until the next full generation: a
    /// direct flow to it is then tracked for nothing, which costs an entry, never a wrong translation.
    /// </summary>
    public FixedHashMap<Lb4Key, byte> Endpoints { get; init; } = s_noEndpoints;

    static readonly FixedHashMap<Lb4Key, byte> s_noEndpoints = new(1);

    /// <summary>Whether (<paramref name="address"/>, <paramref name="port"/>, <paramref name="proto"/>) is a backend of some service.</summary>
    public bool IsEndpoint(uint address, ushort port, byte proto)
    {
        var k = new Lb4Key(address, port, proto);
        if (Delta?.Endpoints is { } d && !System.Runtime.CompilerServices.Unsafe.IsNullRef(ref d.Lookup(k))) return true;
        return !System.Runtime.CompilerServices.Unsafe.IsNullRef(ref Endpoints.Lookup(k));
    }

    /// <summary>Whether some frontend (any port, any protocol) listens on <paramref name="address"/>.</summary>
    public bool IsFrontendAddress(uint address) =>
        !System.Runtime.CompilerServices.Unsafe.IsNullRef(ref FrontendAddresses.Lookup(new Ip4Key(address)));
    /// <summary>rev_nat_index -> loadBalancerSourceRanges of services with frontends flagged SourceRange.</summary>
    public SourceRangeSet?[] SourceRanges { get; }

    /// <summary>Maglev tables, <see cref="MaglevSize"/> backend ids each, one after another (table t at t * size).</summary>
    public uint[] MaglevTables { get; }
    public uint MaglevSize { get; }

    /// <summary>(endpoint address, rev_nat_index) of every serving endpoint, policies aside: UDP conntrack cleanup.</summary>
    public FixedHashMap<ServingKey, byte> Serving { get; }
    /// <summary>rev_nat_index -> how many serving endpoint addresses it has (0: the cleanup leaves its flows alone).</summary>
    public int[] ServingCount { get; }

    /// <summary>The name of service port <paramref name="revNatIndex"/>, or null when no service port of this generation has it.</summary>
    public string? ServiceName(ushort revNatIndex) =>
        revNatIndex < ServiceNames.Length && ServiceNames[revNatIndex].Length > 0 ? ServiceNames[revNatIndex] : null;

    /// <summary>The overlay of endpoint changes published since the last full generation (null: none).</summary>
    public MapSetDelta? Delta { get; private init; }

    /// <summary>This generation's frontends with <paramref name="delta"/> over them, as generation <paramref name="generation"/>.</summary>
    public MapSet WithDelta(MapSetDelta delta, long generation) =>
        new(generation, Services, BackendSlots, Backends, ReverseNat, ServiceNames, Node, FrontendAddresses, SourceRanges, Serving,
            ServingCount, MaglevTables, (int)MaglevSize)
        { Delta = delta, Dns = Dns, Endpoints = Endpoints };

    /// <summary>The cluster DNS zone compiled with this generation (null: the data plane answers no DNS).</summary>
    public Dns.DnsZone? Dns { get; init; }

    // Accessors that see through the delta. Without one, each is the plain array or map access plus one null check.

    /// <summary>The master entry of frontend <paramref name="key"/>, or a null ref.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public ref Lb4Service Frontend(in Lb4Key key)
    {
        if (Delta is { } d)
        {
            ref Lb4Service o = ref d.Services.Lookup(key);
            if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref o)) return ref o;
        }
        return ref Services.Lookup(key);
    }

    /// <summary>Backend id in slot <paramref name="index"/> (a frontend's SlotOffset + 0..Count-1).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public uint Slot(uint index) => index < (uint)BackendSlots.Length ? BackendSlots[index] : Delta!.Slots[index - (uint)BackendSlots.Length];

    /// <summary>The backend with id <paramref name="id"/> (a default entry for an unused id).</summary>
    public ref readonly Lb4Backend Backend(uint id)
    {
        if (Delta is { } d)
        {
            ref Lb4Backend o = ref d.Backends.Lookup(new IdKey(id));
            if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref o)) return ref o;
        }
        return ref id < (uint)Backends.Length ? ref Backends[id] : ref Backends[0];
    }

    /// <summary>How many serving endpoint addresses service port <paramref name="revNatIndex"/> has.</summary>
    public int ServingCountOf(ushort revNatIndex)
    {
        if (Delta is { } d && d.ServingCount.TryGetValue(new IdKey(revNatIndex), out int n)) return n;
        return revNatIndex < ServingCount.Length ? ServingCount[revNatIndex] : 0;
    }

    /// <summary>Whether <paramref name="address"/> is a serving endpoint of service port <paramref name="revNatIndex"/>.</summary>
    public bool IsServing(ushort revNatIndex, uint address)
    {
        var k = new ServingKey(address, revNatIndex);
        if (Delta is { } d && d.ServingCount.TryGetValue(new IdKey(revNatIndex), out _)) return d.Serving.TryGetValue(k, out _);
        return Serving.TryGetValue(k, out _);
    }

    /// <summary>Slot <paramref name="hash"/> mod size of Maglev table <paramref name="table"/>.</summary>
    public uint MaglevBackend(ushort table, uint hash)
    {
        uint i = table * MaglevSize + hash % MaglevSize;
        return i < (uint)MaglevTables.Length ? MaglevTables[i] : Delta!.MaglevTables[table - MaglevTableCount][hash % MaglevSize];
    }

    /// <summary>Number of Maglev tables in the base generation (overlay tables are numbered after them).</summary>
    public int MaglevTableCount => MaglevSize == 0 ? 0 : (int)(MaglevTables.Length / MaglevSize);

    /// <summary>Every frontend with its effective value (control-plane and CLI use, not the packet path).</summary>
    public void ForEachFrontend(Action<Lb4Key, Lb4Service> visit) =>
        Services.ForEach((k, v) =>
        {
            if (Delta is { } d && d.Services.TryGetValue(k, out Lb4Service o)) v = o;
            visit(k, v);
        });

    public static MapSet Empty(NodeInfo node) => new MapSetBuilder(node).Build(0);
}
