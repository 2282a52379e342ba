namespace DataPlane.Maps;

/// <summary>
/// One generation of the service-side maps: frontends, backend slots, backends, reverse-NAT and the node's facts.
/// <para>
/// Concurrency: a generation is built off to the side by one control-plane thread (<see cref="MapSetBuilder"/>) and
/// never written after it is published through <see cref="MapSetHolder"/>. Readers therefore need no lock and can never
/// see a half-updated service; a packet that loaded the old generation finishes on it. Conntrack is not part of a
/// generation: it belongs to the data plane and survives every swap (established flows keep their translation).
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

    public static MapSet Empty(NodeInfo node) => new MapSetBuilder(node).Build(0);
}
