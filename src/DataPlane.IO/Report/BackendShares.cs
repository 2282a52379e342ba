using System.Runtime.CompilerServices;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.IO.Report;

/// <summary>
/// New connections per backend of each Service port, and what the balancing promised each backend. The promise is per
/// connection: when a new connection is balanced, each usable endpoint of its frontend (the slots it was balanced over,
/// <see cref="PacketResult.SlotOffset"/>..+<see cref="PacketResult.SlotCount"/>) had a chance p of getting it: 1/N for
/// the random pick (cilium's <c>(prandom % count) + 1</c>, kube-proxy's cascade of 1/n statistic matches), or the
/// backend's share of the frontend's Maglev table (slots it holds / table size; Eisenbud et al. §3.4 give every
/// backend ⌊M/N⌋ or ⌈M/N⌉). Summing p over the connections gives each backend's expected count, and summing p(1 - p)
/// its binomial variance, so a chart can show whether what happened is within the noise, even when endpoints changed
/// mid-capture (each connection is weighed by the endpoints it saw).
/// <para>
/// Cost: a connection adds 1 to its candidate set (one dictionary lookup); each candidate set (a frontend's slots in one
/// map generation) is resolved to backends and chances once, when first met. So neither the per-connection cost nor
/// the memory grows with the capture: both depend on the Services and on how many generations the replay met.
/// Service ports past <see cref="MaxServices"/> are counted in <see cref="UnlistedConnections"/>.
/// </para>
/// </summary>
public sealed class BackendShares
{
    /// <summary>Service ports followed: a cluster can hold 60 000; a page shows a handful, and the JSON keeps this many.</summary>
    public const int MaxServices = 1000;

    /// <summary>Everything about one Service port's connections.</summary>
    sealed class Service(string name, string algorithm, bool affinity)
    {
        public readonly string Name = name, Algorithm = algorithm;
        public readonly bool Affinity = affinity;
        public long Connections;
        /// <summary>Connections per backend (address &lt;&lt; 16 | port), in first-seen order through <see cref="Order"/>.</summary>
        public readonly Dictionary<ulong, long> Seen = [];
        public readonly List<ulong> Order = [];
        public readonly List<CandidateSet> Sets = [];
    }

    /// <summary>A frontend's slots in one generation: the backends a new connection could get and each one's chance.</summary>
    sealed class CandidateSet(Service service, (ulong Backend, double Chance)[] chances)
    {
        public readonly Service Service = service;
        public readonly (ulong Backend, double Chance)[] Chances = chances;
        public long Connections;
    }

    readonly Dictionary<string, Service> _services = [];
    readonly List<Service> _serviceOrder = [];
    /// <summary>
    /// The candidate sets of <see cref="_setsOf"/>, by (slot offset, slot count, Maglev table): emptied when another
    /// generation comes, so no old <see cref="MapSet"/> is kept alive by the report.
    /// </summary>
    readonly Dictionary<(uint Offset, ushort Count, int Maglev), CandidateSet?> _sets = [];
    MapSet? _setsOf;

    /// <summary>New connections to Service ports past <see cref="MaxServices"/>.</summary>
    public long UnlistedConnections { get; private set; }

    /// <summary>Counts <paramref name="r"/> if it is a new connection the data plane balanced (forwarded, to a backend of a Service port).</summary>
    public void Add(in PacketResult r, MapSet maps)
    {
        if (r.Verdict != Verdict.Forward || !r.NewFlow || r.RevNatIndex == 0 || !r.HasFrontend || r.SlotCount == 0) return;
        if (!ReferenceEquals(maps, _setsOf))
        {
            _sets.Clear();
            _setsOf = maps;
        }
        int maglev = (r.ServiceFlags & ServiceFlags.Maglev) != 0 ? MaglevTableOf(in r, maps) : -1;
        var key = (r.SlotOffset, r.SlotCount, maglev);
        if (!_sets.TryGetValue(key, out CandidateSet? set)) _sets[key] = set = NewSet(in r, maps, maglev);
        if (set is null)
        {
            UnlistedConnections++;
            return;
        }
        set.Connections++;
        Service svc = set.Service;
        svc.Connections++;
        ulong backend = Backend(r.Backend.Address, r.Backend.Port);
        if (svc.Seen.TryGetValue(backend, out long n)) svc.Seen[backend] = n + 1;
        else
        {
            svc.Seen[backend] = 1;
            svc.Order.Add(backend);
        }
    }

    static ulong Backend(uint address, ushort port) => ((ulong)address << 16) | port;

    /// <summary>
    /// The Maglev table the connection's frontend balances over. The result carries the frontend's slots but not its
    /// table, so it is looked up by the frontend key: a forwarded frame's In* tuple is its conntrack entry's original
    /// one, whose destination is the frontend (the address and port the client asked for). -1 when not found.
    /// </summary>
    static int MaglevTableOf(in PacketResult r, MapSet maps)
    {
        ref Lb4Service f = ref maps.Frontend(new Lb4Key(r.InDstIp, r.InDstPort, r.Proto, r.Scope));
        if (Unsafe.IsNullRef(ref f) || (f.Flags & ServiceFlags.Maglev) == 0 || f.SlotOffset != r.SlotOffset) return -1;
        return f.MaglevTable;
    }

    CandidateSet? NewSet(in PacketResult r, MapSet maps, int maglev)
    {
        string name = maps.ServiceName(r.RevNatIndex) ?? $"service port {r.RevNatIndex}";
        if (!_services.TryGetValue(name, out Service? svc))
        {
            if (_services.Count >= MaxServices) return null;
            bool maglevFlag = (r.ServiceFlags & ServiceFlags.Maglev) != 0;
            svc = new Service(name, maglevFlag ? "maglev" : "random", (r.ServiceFlags & ServiceFlags.Affinity) != 0);
            _services.Add(name, svc);
            _serviceOrder.Add(svc);
        }
        var set = new CandidateSet(svc, maglev >= 0 ? MaglevChances(maps, (ushort)maglev) : RandomChances(in r, maps));
        svc.Sets.Add(set);
        return set;
    }

    /// <summary>Each slot's backend gets 1/N (a backend in two slots, which the compiler never makes, would get 2/N).</summary>
    static (ulong, double)[] RandomChances(in PacketResult r, MapSet maps)
    {
        var chances = new Dictionary<ulong, double>();
        var order = new List<ulong>();
        for (uint i = 0; i < r.SlotCount; i++)
        {
            ref readonly Lb4Backend b = ref maps.Backend(maps.Slot(r.SlotOffset + i));
            ulong k = Backend(b.Address, b.Port);
            if (!chances.ContainsKey(k)) order.Add(k);
            chances[k] = chances.GetValueOrDefault(k) + 1.0 / r.SlotCount;
        }
        return [.. order.Select(k => (k, chances[k]))];
    }

    /// <summary>Each backend's share of the table: the slots holding its id over the table size (every slot counted once).</summary>
    static (ulong, double)[] MaglevChances(MapSet maps, ushort table)
    {
        var slots = new Dictionary<uint, int>();
        var order = new List<uint>();
        for (uint h = 0; h < maps.MaglevSize; h++)
        {
            uint id = maps.MaglevBackend(table, h);
            if (slots.TryGetValue(id, out int n)) slots[id] = n + 1;
            else
            {
                slots[id] = 1;
                order.Add(id);
            }
        }
        return [.. order.Where(id => id != 0).Select(id =>
        {
            ref readonly Lb4Backend b = ref maps.Backend(id);
            return (Backend(b.Address, b.Port), (double)slots[id] / maps.MaglevSize);
        })];
    }

    /// <summary>
    /// The Service ports, most connections first (ties in first-seen order), each backend with its counts and promise:
    /// backends promised a share first, by address, then any the capture showed that the algorithm did not offer
    /// (<c>--backends follow</c> adopting a pick), promised nothing.
    /// </summary>
    public IReadOnlyList<ReportService> Finish()
    {
        var list = new List<ReportService>(_serviceOrder.Count);
        foreach (Service svc in _serviceOrder.OrderByDescending(s => s.Connections))
        {
            var expected = new Dictionary<ulong, (double Mean, double Variance)>();
            foreach (CandidateSet set in svc.Sets)
                foreach (var (backend, p) in set.Chances)
                {
                    var (mean, variance) = expected.GetValueOrDefault(backend);
                    expected[backend] = (mean + set.Connections * p, variance + set.Connections * p * (1 - p));
                }
            IEnumerable<ulong> backends = expected.Keys.Order().Concat(svc.Order.Where(b => !expected.ContainsKey(b)));
            var rows = new List<ReportBackend>();
            foreach (ulong b in backends)
            {
                var (mean, variance) = expected.GetValueOrDefault(b);
                long seen = svc.Seen.GetValueOrDefault(b);
                // A backend of a generation no connection met has no promise worth a row.
                if (seen == 0 && mean == 0) continue;
                rows.Add(new ReportBackend(Ip4.Format((uint)(b >> 16), (ushort)b), seen,
                    svc.Connections == 0 ? 0 : mean / svc.Connections, mean, Math.Sqrt(variance)));
            }
            list.Add(new ReportService(svc.Name, svc.Algorithm, svc.Affinity, svc.Connections, rows));
        }
        return list;
    }
}
