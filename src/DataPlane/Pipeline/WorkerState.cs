using System.Runtime.CompilerServices;
using DataPlane.Maps;
using DataPlane.Pipeline.Stages;

namespace DataPlane.Pipeline;

/// <summary>
/// Everything one worker owns and its stages read or write besides the packet and the map generation: conntrack,
/// sessionAffinity memory, fragments, resolved timeouts, options, counters and the GC's cursor (no generator: every
/// draw is keyed by the packet it is for, <see cref="DeterministicRandom"/>). It is what cilium keeps in per-CPU maps and the program's globals: every stage
/// receives it as the third argument of the one stage signature
/// <c>static Verdict Run(ref PacketContext ctx, MapSet maps, WorkerState w)</c>.
/// <para>
/// Concurrency: one writer, the worker's thread. Other threads read the conntrack table (its entries are
/// seqlock-bracketed, <see cref="ConntrackMap"/>) and take <see cref="Counters.Snapshot"/>; nothing else is shared.
/// The native conntrack table has this object as its one disposing owner.
/// </para>
/// </summary>
public sealed class WorkerState : IDisposable
{
    public WorkerState(PipelineOptions options, long generation) : this(options, generation, new ConntrackMap(options.CtCapacity)) { }

    /// <summary>Over an existing table (benchmarks and tests that fill one first); this state becomes its owner.</summary>
    public WorkerState(PipelineOptions options, long generation, ConntrackMap conntrack)
    {
        Options = options;
        Timeouts = new CtTimeouts(options);
        Conntrack = conntrack;
        FlowClasses = options.FlowClasses;
        Conntrack.SetFlowClasses(FlowClasses);
        Fragments = new FragmentMap(options.FragmentCapacity);
        Affinity = new AffinityMap(Math.Max(options.CtCapacity / 4, 16));
        _reconciledGeneration = _sweepGeneration = generation;
    }

    public PipelineOptions Options { get; }
    public readonly CtTimeouts Timeouts;
    /// <summary><see cref="PipelineOptions.FlowClasses"/>, resolved once.</summary>
    public readonly int FlowClasses;
    public ConntrackMap Conntrack { get; }
    /// <summary>Datagrams whose first fragment was forwarded: their later fragments follow its translation.</summary>
    public FragmentMap Fragments { get; }
    /// <summary>sessionAffinity ClientIP memory (client, service port) -> backend; survives generations like conntrack.</summary>
    public AffinityMap Affinity { get; }
    /// <summary><c>replay --backends follow</c>: the backends the capture shows (read-only, shared); null: draw.</summary>
    public BackendHints? Hints { get; set; }
    /// <summary>The cluster DNS server's TCP connections (DnsStage); survive generations like conntrack.</summary>
    public Dns.DnsTcpTable DnsTcp { get; } = new();
    public Counters Counters { get; } = new();

    uint _packets;
    long _reconciledGeneration; // the generation every entry has been checked against
    long _sweepGeneration;      // the generation the current sweep checks against
    int _sweepCursor, _sweepLeft;

    /// <summary>
    /// The incremental GC, run every 16th packet over 16 packets' worth of slots (one call, one loop); after a new map
    /// generation, also the sweep that removes UDP connections to endpoints that stopped serving.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Collect(long nowNs, MapSet maps)
    {
        if ((++_packets & 15) != 0) return;
        Conntrack.Collect(nowNs, 16 * Options.GcSlotsPerPacket);
        if (maps.Generation != _reconciledGeneration) Reconcile(maps, 16 * Options.GcSlotsPerPacket);
    }

    /// <summary>
    /// Checks every connection against <paramref name="maps"/> now (the replay calls it right after publishing an
    /// update, where kube-proxy would run its cleanup); returns how many UDP connections were removed.
    /// </summary>
    public int ReconcileAll(MapSet maps)
    {
        _sweepGeneration = 0;
        return Reconcile(maps, int.MaxValue);
    }

    /// <summary>
    /// kube-proxy runs its UDP conntrack cleanup after every sync (CleanStaleEntries); here the worker that owns the
    /// table does it, <paramref name="budget"/> slots at a time, so a new generation never stalls the packet path.
    /// Packets of a connection the sweep has not reached yet are checked on lookup (<see cref="ConntrackStage.Lookup"/>),
    /// so no datagram is sent to a removed backend in between. Returns how many connections were removed.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    int Reconcile(MapSet maps, int budget)
    {
        if (_sweepGeneration != maps.Generation)
        {
            _sweepGeneration = maps.Generation;
            _sweepLeft = Conntrack.Capacity;
        }
        int removed = 0;
        for (; budget > 0 && _sweepLeft > 0; budget--, _sweepLeft--)
        {
            int i = _sweepCursor;
            _sweepCursor = (i + 1) & (Conntrack.Capacity - 1);
            ref CtEntry e = ref Conntrack[i];
            if ((e.Flags & CtFlags.Live) != 0 && e.Generation != (ushort)maps.Generation && ConntrackStage.BackendGone(ref e, maps))
            {
                Conntrack.Delete(i);
                removed++;
            }
        }
        if (_sweepLeft == 0) _reconciledGeneration = maps.Generation;
        return removed;
    }

    public void Dispose() => Conntrack.Dispose();
}
