using System.Runtime.InteropServices;

namespace DataPlane.Maps;

/// <summary>Key of the delta's id-keyed maps: a backend id, or a rev-NAT id widened.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct IdKey(uint Id) : IMapKey<IdKey>
{
    public uint Hash(ulong seed) => HashMix.Mix(Id, 0, seed);
}

/// <summary>
/// The small overlay an endpoint change publishes on top of the last full generation, so one change among 10 k services
/// costs its own size instead of a recompile and a copy of every map (kube-proxy re-syncs only changed services' chains
/// in its partial syncs for the same reason). It carries the new values of the frontends whose endpoints changed, their
/// new backend slots and Maglev tables, the backends they added, and the serving sets of their service ports.
/// <para>
/// Addressing: overlay slots continue the base's slot array (slot index ≥ base length), overlay Maglev tables continue
/// the base's table numbers, and backend ids are global (<see cref="IdRegistry"/>), so a frontend value copied into the
/// overlay points to the right place whichever array holds it. Readers go through <see cref="MapSet"/>'s accessors.
/// </para>
/// <para>Concurrency: built by the control plane, immutable once its generation is published.</para>
/// </summary>
public sealed class MapSetDelta
{
    public MapSetDelta(FixedHashMap<Lb4Key, Lb4Service> services, uint[] slots, FixedHashMap<IdKey, Lb4Backend> backends,
        FixedHashMap<ServingKey, byte> serving, FixedHashMap<IdKey, int> servingCount, uint[][] maglevTables,
        int slotCount = -1, int maglevTableCount = -1)
    {
        Services = services;
        Slots = slots;
        SlotCount = slotCount < 0 ? slots.Length : slotCount;
        MaglevTableCount = maglevTableCount < 0 ? maglevTables.Length : maglevTableCount;
        Backends = backends;
        Serving = serving;
        ServingCount = servingCount;
        MaglevTables = maglevTables;
    }

    /// <summary>Frontends whose value changed (every key is also a base frontend: a delta never adds or removes one).</summary>
    public FixedHashMap<Lb4Key, Lb4Service> Services { get; }
    /// <summary>
    /// Slots of the overlay frontends, addressed from the base's slot count on. The array may be longer than
    /// <see cref="SlotCount"/> and shared with later deltas of the same base, which append past it: a generation's
    /// frontends point only below its own count, and what lies there is never written again.
    /// </summary>
    public uint[] Slots { get; }
    /// <summary>Slots this generation's overlay uses (the front of <see cref="Slots"/>).</summary>
    public int SlotCount { get; }
    /// <summary>Maglev tables this generation's overlay uses (the front of <see cref="MaglevTables"/>, shared the same way).</summary>
    public int MaglevTableCount { get; }
    /// <summary>Backends added or changed (state, locality) by the delta, by id.</summary>
    public FixedHashMap<IdKey, Lb4Backend> Backends { get; }
    /// <summary>Serving endpoint addresses of the service ports in <see cref="ServingCount"/> (which replace the base's).</summary>
    public FixedHashMap<ServingKey, byte> Serving { get; }
    public FixedHashMap<IdKey, int> ServingCount { get; }
    /// <summary>(address, port, proto) of the backends the overlay added or changed (see <see cref="MapSet.Endpoints"/>); null: none.</summary>
    public FixedHashMap<Lb4Key, byte>? Endpoints { get; init; }
    /// <summary>Overlay Maglev tables, numbered from the base's table count on.</summary>
    public uint[][] MaglevTables { get; }
}
