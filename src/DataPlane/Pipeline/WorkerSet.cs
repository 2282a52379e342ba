using System.Numerics;
using DataPlane.Maps;

namespace DataPlane.Pipeline;

/// <summary>
/// The worker pipelines of one node's data plane and the <see cref="FlowSteering"/> that feeds them: every frame of a
/// connection, in both directions and after NAT, reaches the worker that owns its conntrack entry, so each worker owns
/// its tables outright (no sharing, no locks), the way a NIC's RSS queues feed per-CPU datapaths. Replay and live mode
/// both run on one of these; what each worker gets (its conntrack share) is decided here and nowhere else. Nothing
/// else differs between workers: draws are keyed by the packet and SNAT ports and flow ids by flow class
/// (<see cref="PipelineOptions.FlowClasses"/>), so the verdicts do not depend on the worker count.
/// <para>
/// Ownership: the set creates its pipelines and is the one owner of their native memory (each conntrack table is
/// <c>capacity</c> × 96 bytes of <see cref="PinnedTable"/> memory: ~96 MB at the default 2^20); <see cref="Dispose"/>
/// releases it. A set made <see cref="Over"/> a caller's pipeline borrows it and leaves it to its owner.
/// </para>
/// <para>
/// Concurrency: <see cref="WorkerFor"/> is called by one thread, the one that reads frames (steering remembers first
/// fragments). Worker i's pipeline is driven by one thread at a time. <see cref="SumCounters"/> may be called from any
/// thread: it reads each worker's counters through their seqlock snapshot. <see cref="Dispose"/> only once no thread
/// uses a pipeline any more.
/// </para>
/// </summary>
public sealed class WorkerSet : IDisposable
{
    /// <summary>Most workers a set runs (one pipeline and, live, one thread each).</summary>
    public const int MaxWorkers = 64;

    readonly PacketPipeline[] _pipelines;
    /// <summary>False for a set <see cref="Over"/> a caller's pipeline: the caller disposes it.</summary>
    readonly bool _owned;
    bool _disposed;

    /// <summary>
    /// <paramref name="workers"/> pipelines over <paramref name="maps"/>. <paramref name="options"/> are the node's:
    /// its <see cref="PipelineOptions.CtCapacity"/> is the total the workers share; everything else is every worker's.
    /// </summary>
    public WorkerSet(MapSetHolder maps, PipelineOptions options, int workers = 1)
    {
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(workers, MaxWorkers);
        Options = options with { CtCapacity = CtShare(options.CtCapacity, workers) };
        _pipelines = new PacketPipeline[workers];
        _owned = true;
        try
        {
            for (int i = 0; i < workers; i++) _pipelines[i] = new PacketPipeline(maps, Options);
        }
        catch
        {
            Dispose(); // the tables already allocated: an exception must not leave them to the finalizer
            throw;
        }
        Steering = new FlowSteering(workers, Options);
        Defrag = new FragmentHold(options.FragmentHoldBytes);
    }

    WorkerSet(PacketPipeline single)
    {
        _pipelines = [single];
        _owned = false;
        Options = single.Options;
        Steering = new FlowSteering(1, single.Options);
        Defrag = new FragmentHold(single.Options.FragmentHoldBytes);
    }

    /// <summary>A set of one worker, <paramref name="pipeline"/>, built and owned by the caller: disposing the set leaves it alone.</summary>
    public static WorkerSet Over(PacketPipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        return new WorkerSet(pipeline);
    }

    /// <summary>
    /// Each worker's conntrack capacity when <paramref name="workers"/> share <paramref name="total"/>: one worker has it
    /// all; otherwise an equal power-of-two share (a table's capacity must be a power of two), the largest that fits
    /// <c>total / workers</c>, at least 2.
    /// </summary>
    public static int CtShare(int total, int workers) =>
        workers == 1 ? total : Math.Max(2, (int)BitOperations.RoundUpToPowerOf2((uint)(total / workers + 1)) / 2);

    /// <summary>The options every worker shares (conntrack capacity = one worker's share).</summary>
    public PipelineOptions Options { get; }

    /// <summary>The steering that picks a frame's worker (<see cref="WorkerFor"/>).</summary>
    public FlowSteering Steering { get; }

    /// <summary>
    /// The node's fragment hold (nf_defrag in front of conntrack), used by the thread that steers, before steering:
    /// one for the node whatever the worker count (its memory is the node's ipfrag_high_thresh), so held fragments
    /// reach their first fragment's worker and the outcome does not depend on the worker count.
    /// </summary>
    public FragmentHold Defrag { get; }

    public int Count => _pipelines.Length;

    /// <summary>Worker <paramref name="index"/>'s pipeline.</summary>
    public PacketPipeline this[int index] => _pipelines[index];

    public IReadOnlyList<PacketPipeline> Pipelines => _pipelines;

    /// <summary>The map generation in force (every worker reads the same holder).</summary>
    public MapSet Maps => _pipelines[0].Maps;

    /// <summary>The worker that owns <paramref name="frame"/>'s connection (an Ethernet frame; malformed frames go to worker 0).</summary>
    public int WorkerFor(ReadOnlySpan<byte> frame) => Steering.WorkerFor(frame, _pipelines[0].Maps);

    /// <summary>The same for a frame whose <see cref="FrameKey"/> the caller has read.</summary>
    public int WorkerFor(in FrameKey key, ReadOnlySpan<byte> frame) => Steering.WorkerFor(in key, frame, _pipelines[0].Maps);

    /// <summary>
    /// Every worker's verdict and drop-reason counters added up, and the fragment hold's (the frames it dropped or
    /// absorbed), each as of one of its packet boundaries
    /// (<see cref="Counters.Snapshot"/>): <paramref name="verdicts"/> indexed by <see cref="Verdict"/> (at least
    /// <see cref="Counters.VerdictSlots"/>), <paramref name="reasons"/> by <see cref="DropReason"/> (at least
    /// <see cref="Counters.ReasonSlots"/>). Overwrites both.
    /// </summary>
    public void SumCounters(Span<long> verdicts, Span<long> reasons)
    {
        verdicts[..Counters.VerdictSlots].Clear();
        reasons[..Counters.ReasonSlots].Clear();
        Span<long> wv = stackalloc long[Counters.VerdictSlots];
        Span<long> wr = stackalloc long[Counters.ReasonSlots];
        foreach (PacketPipeline p in _pipelines) Add(p.Counters, verdicts, reasons, wv, wr);
        Add(Defrag.Counters, verdicts, reasons, wv, wr);
    }

    static void Add(Counters c, Span<long> verdicts, Span<long> reasons, Span<long> wv, Span<long> wr)
    {
        c.Snapshot(wv, wr);
        for (int i = 0; i < wv.Length; i++) verdicts[i] += wv[i];
        for (int i = 0; i < wr.Length; i++) reasons[i] += wr[i];
    }

    /// <summary>
    /// Runs every worker's conntrack cleanup against the generation in force now (each on the calling thread: only
    /// while no worker runs); returns the connections cleared.
    /// </summary>
    public int ReconcileAll()
    {
        int cleared = 0;
        foreach (PacketPipeline p in _pipelines) cleared += p.ReconcileAll();
        return cleared;
    }

    /// <summary>Releases the pipelines' native tables (not those of a borrowed pipeline). Idempotent.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_owned) return;
        foreach (PacketPipeline? p in _pipelines) p?.Dispose();
    }
}
