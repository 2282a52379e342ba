using DataPlane.Maps;
using DataPlane.Pipeline;

namespace DataPlane.IO.Report;

/// <summary>
/// How full a node's state tables are at one moment, summed over its workers: conntrack entries against the table's
/// capacity (<c>--ct-max</c>), and masquerade ports. A masqueraded connection holds its reply tuple (backend address and
/// port → node address and port) in the conntrack index, and two live connections cannot share one (nf_nat's
/// nf_nat_used_tuple; see <see cref="ConntrackMap"/>): so each (node address, backend address and port, protocol) has
/// the whole <c>--snat-port-range</c> to itself, and the one that runs out first is the busiest. That busiest count
/// against the range's size is the SNAT occupancy (what case 014's exhaustion shows); the total of masqueraded
/// connections is given beside it. Client ports below 1024 keep their class when masqueraded (the kernel's rule for
/// MASQUERADE without a range) and so draw from other, smaller ranges; the figure counts them with the rest.
/// </summary>
public readonly record struct Occupancy(long CtEntries, long CtCapacity, long? SnatBindings, long? SnatBusiest, long SnatCapacity)
{
    /// <summary>
    /// Measures <paramref name="workers"/>' tables. The conntrack count is a field read; the SNAT figures take a walk of
    /// every table (<paramref name="snat"/>: false leaves them null), so callers sample them sparingly
    /// (<see cref="ReplayReport"/> does once per time bucket). Call only while no worker runs (between batches): the walk
    /// reads the entries directly, as their owner would.
    /// </summary>
    public static Occupancy Measure(IReadOnlyList<PacketPipeline> workers, bool snat)
    {
        long entries = 0, capacity = 0;
        foreach (PacketPipeline p in workers)
        {
            entries += p.Conntrack.Count;
            capacity += p.Conntrack.Capacity;
        }
        PipelineOptions o = workers[0].Options;
        long range = o.SnatPortMax - o.SnatPortMin + 1;
        if (!snat) return new Occupancy(entries, capacity, null, null, range);
        long bindings = 0, busiest = 0;
        var perDestination = new Dictionary<(uint Node, uint Backend, ushort Port, byte Proto), long>();
        foreach (PacketPipeline p in workers)
        {
            ConntrackMap ct = p.Conntrack;
            if (ct.Count == 0) continue;
            for (int i = 0; i < ct.Capacity; i++)
            {
                ref CtEntry e = ref ct[i];
                if ((e.Flags & (CtFlags.Live | CtFlags.Snat)) != (CtFlags.Live | CtFlags.Snat)) continue;
                bindings++;
                var k = (e.Reply.DstIp, e.Reply.SrcIp, e.Reply.SrcPort, e.Reply.Proto);
                long n = perDestination.GetValueOrDefault(k) + 1;
                perDestination[k] = n;
                busiest = Math.Max(busiest, n);
            }
        }
        return new Occupancy(entries, capacity, bindings, busiest, range);
    }
}
