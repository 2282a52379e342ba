using DataPlane.IO.Reload;
using DataPlane.Pipeline;

namespace DataPlane.IO.Replay;

/// <summary>
/// The <see cref="ReplayUpdate"/>s of one replay, in capture-clock order, and what came of each. An update is applied
/// before the first frame at least its time past the capture's first frame; replay and <c>replay --explain</c> apply
/// them through this one rule, so an explained frame meets the generation it meets in the full replay.
/// </summary>
sealed class ReplaySchedule(IReadOnlyList<ReplayUpdate>? updates)
{
    readonly Queue<ReplayUpdate> _pending = new((updates ?? []).OrderBy(u => u.AfterNs));

    /// <summary>
    /// Told of each update applied or rejected, with its time past the first frame, the frame that met it and its line:
    /// the report marks it on its charts. Called while no worker runs.
    /// </summary>
    public Action<ReplayUpdate, long, long, string>? Applied { get; init; }

    /// <summary>One line per update: applied (generation, connections cleared), rejected, or not reached.</summary>
    public List<string> Lines { get; } = [];

    /// <summary>Whether an update is due before a frame <paramref name="sinceFirstNs"/> past the capture's first frame.</summary>
    public bool IsDue(long sinceFirstNs) => _pending.Count > 0 && sinceFirstNs >= _pending.Peek().AfterNs;

    /// <summary>
    /// Applies every update due before <paramref name="frame"/> (1-based), <paramref name="sinceFirstNs"/> past the
    /// capture's first frame, in order (only while no worker runs).
    /// </summary>
    public void ApplyDue(long sinceFirstNs, WorkerSet workers, long frame = 0)
    {
        while (IsDue(sinceFirstNs)) Apply(_pending.Dequeue(), workers, sinceFirstNs, frame);
    }

    /// <summary>The capture ended: the updates it never reached get their line.</summary>
    public void Finish()
    {
        while (_pending.Count > 0)
        {
            ReplayUpdate u = _pending.Dequeue();
            Lines.Add($"+{u.AfterNs / 1e9:0.######}s {u.Label}: not applied, the capture ends before then");
        }
    }

    /// <summary>
    /// Publishes the change, then runs the conntrack cleanup at once, where kube-proxy runs it after a sync: the next
    /// frame already sees the new generation and no UDP connection to an endpoint that stopped serving.
    /// </summary>
    /// <para>
    /// The line gives the time the update was scheduled for, as <c>--apply-at</c> wrote it, and the frame that first
    /// met it with that frame's time: a capture with a gap applies a +5s update at its first frame after 5 s, which
    /// may be much later.
    /// </para>
    void Apply(ReplayUpdate u, WorkerSet workers, long atNs, long frame)
    {
        string at = $"+{u.AfterNs / 1e9:0.######}s {u.Label}" + (frame > 0 ? $", first met by frame {frame} (+{atNs / 1e9:0.######}s)" : "");
        // Whatever the new manifests make the loader throw, the replay goes on with the last good generation (loaded
        // with the reload thread's deep stack, as run's SIGHUP reload is).
        string? error = null;
        if (ReloadBoundary.Try(() => error = ReloadBoundary.OnReloadStack(u.Apply)) is { } failure) error = failure;
        long generation = workers.Maps.Generation;
        if (error is not null)
        {
            Lines.Add($"{at}: rejected, keeping generation {generation}: {error}");
            Applied?.Invoke(u, atNs, frame, Lines[^1]);
            return;
        }
        int cleared = workers.ReconcileAll();
        Lines.Add($"{at}: generation {generation}, {FlowReport.Count(cleared, "UDP connection")} to removed endpoints cleared");
        Applied?.Invoke(u, atNs, frame, Lines[^1]);
    }
}
