using DataPlane.Maps;
using DataPlane.Pipeline;

namespace DataPlane.IO.Report;

/// <summary>
/// Collects what <c>--report FILE.html</c> shows while a capture is replayed or verified: fed each frame's result in
/// capture order (<see cref="Frame"/>), the tables' occupancy between batches (<see cref="Sample(long, IReadOnlyList{PacketPipeline})"/>),
/// and each configuration change applied (<see cref="Reload"/>); <see cref="Finish"/> gives the <see cref="ReportData"/>
/// to write. The replay drives it from its outputs stage (<c>ReplayOutputs</c>, after the pipeline), and
/// <c>dataplane verify</c> drives it itself; without a report nothing here runs, so the packet path pays nothing.
/// <para>
/// Memory does not depend on the capture: verdicts and occupancy in at most <see cref="TimeBuckets.MaxBuckets"/>
/// buckets, conversations in a space-saving table of fixed rows (<see cref="ConversationTable"/>), backend counts per
/// Service port and candidate set (<see cref="BackendShares"/>), reason counts per reason. Per frame: a few array
/// increments, one dictionary lookup for the conversation and, for a new balanced connection, one for its candidates.
/// </para>
/// <para>Not thread-safe: one thread feeds it (the replay's, between batches).</para>
/// </summary>
public sealed class ReplayReport
{
    /// <summary>The verdicts in the order the summary prints them; the bucket columns follow it.</summary>
    public static readonly Verdict[] VerdictOrder =
        [Verdict.Forward, Verdict.Reject, Verdict.Pass, Verdict.Drop, Verdict.Local, Verdict.Answer, Verdict.Reassembled];

    /// <summary>Conversations the page lists (and the JSON keeps): the busiest, as Wireshark's table sorted by packets.</summary>
    public const int ListedConversations = 50;

    // Bucket columns after the verdicts': occupancy maxima, and whether each was measured in the bucket.
    static readonly int CtColumn = VerdictOrder.Length, SnatBusiestColumn = CtColumn + 1, SnatBindingsColumn = CtColumn + 2,
        CtSampledColumn = CtColumn + 3, SnatSampledColumn = CtColumn + 4;

    readonly string _title;
    readonly TimeBuckets _buckets;
    readonly ConversationTable _conversations;
    readonly BackendShares _backends = new();
    readonly long[] _verdicts = new long[Counters.VerdictSlots];
    readonly long[] _drops = new long[Counters.ReasonSlots], _rejects = new long[Counters.ReasonSlots];
    readonly List<ReportReload> _reloads = [];
    long _frames, _outgoing, _spanNs;
    long _ctCapacity, _snatCapacity;
    /// <summary>The capture's first timestamp, once known: times are kept relative to it.</summary>
    long? _originNs;
    /// <summary>
    /// A masqueraded connection was seen: until then the SNAT figures are 0 without walking the tables. Afterwards a
    /// walk (every conntrack slot read: about 5 ms for 2^20 slots) is made at most once per bucket
    /// (<see cref="_snatMeasuredAt"/>), and after the first <see cref="FreeSnatWalks"/> only once slots/32 frames
    /// have passed since the last: the walks then cost at most 32 slot reads (2 KB, read in order) per frame, a few
    /// per cent of a replay's time, while a short capture is measured in every bucket and a long one about 30 times per
    /// million frames. (Measured with bench/gen-new-flows.py's 1 M new masqueraded flows at the default 2^20 slots, on
    /// a busy 2-core machine: the whole report, walks included, added 5-15% to the run; the pipeline's time is unchanged.)
    /// </summary>
    bool _sawMasquerade;
    (long Width, int Bucket) _snatMeasuredAt = (-1, -1);
    const int FreeSnatWalks = 64;
    int _snatWalks;
    long _framesAtSnatWalk;
    /// <summary>Where the last occupancy sample fell (ns past the first frame; -1: none yet).</summary>
    long _lastSampleSince = -1;

    /// <param name="title">What is replayed (the input's path), the page's title.</param>
    /// <param name="conversationRows">Rows of the conversation table (<see cref="ConversationTable.DefaultCapacity"/>).</param>
    public ReplayReport(string title, int conversationRows = ConversationTable.DefaultCapacity)
    {
        _title = title;
        _conversations = new ConversationTable(conversationRows);
        bool[] maxColumns = new bool[VerdictOrder.Length + 5];
        for (int c = CtColumn; c < maxColumns.Length; c++) maxColumns[c] = true;
        _buckets = new TimeBuckets(maxColumns);
    }

    /// <summary>"replay" or "verify", for the page.</summary>
    public string Command { get; init; } = "replay";

    /// <summary>New connections took the backend the capture shows (<c>--backends follow</c>): the page says the shares are the capture's.</summary>
    public bool BackendsFollowed { get; set; }

    /// <summary>
    /// Sets the clock's origin: the capture's first timestamp (the time <c>--apply-at</c> counts from). Only the first
    /// call counts; without one, the first frame or sample sets it.
    /// </summary>
    public void Start(long firstTimestampNs) => _originNs ??= firstTimestampNs;

    long Since(long timestampNs)
    {
        Start(timestampNs);
        long since = Math.Max(0, timestampNs - _originNs!.Value);
        _spanNs = Math.Max(_spanNs, since);
        return since;
    }

    /// <summary>
    /// Counts frame <paramref name="frame"/> (1-based, as verdict lines number them), stamped
    /// <paramref name="timestampNs"/>, <paramref name="bytes"/> long, with its result and the generation it met.
    /// </summary>
    public void Frame(long frame, long timestampNs, in PacketResult r, MapSet maps, int bytes)
    {
        long since = Since(timestampNs);
        _frames++;
        int v = (int)r.Verdict & (Counters.VerdictSlots - 1);
        _verdicts[v]++;
        int column = Array.IndexOf(VerdictOrder, r.Verdict);
        if (column >= 0) _buckets.Add(since, column);
        // The summary's split (ReplaySummary.SetVerdicts): outgoing copies apart, reasons of rejects apart, every other
        // reason a drop reason.
        if (r.Reason != DropReason.None && (int)r.Reason < Counters.ReasonSlots)
        {
            if (r.Reason == DropReason.OutgoingCopy) _outgoing++;
            else if (r.Verdict == Verdict.Reject) _rejects[(int)r.Reason]++;
            else _drops[(int)r.Reason]++;
        }
        if (r.Verdict == Verdict.Forward && r.Masqueraded) _sawMasquerade = true;
        _conversations.Add(frame, since, in r, maps, bytes);
        _backends.Add(in r, maps);
    }

    /// <summary>
    /// Measures and records the occupancy of <paramref name="workers"/>' tables at <paramref name="timestampNs"/> (while
    /// no worker runs). <paramref name="last"/>: the capture's end, where the SNAT figures are always measured (if any
    /// connection was masqueraded), so the chart ends on the tables' final state.
    /// </summary>
    public void Sample(long timestampNs, IReadOnlyList<PacketPipeline> workers, bool last = false)
    {
        int bucket = _buckets.BucketOf(Since(timestampNs));
        long slots = 0;
        foreach (PacketPipeline p in workers) slots += p.Conntrack.Capacity;
        bool snat = _sawMasquerade && (last || ((_buckets.WidthNs, bucket) != _snatMeasuredAt
            && (_snatWalks < FreeSnatWalks || _frames - _framesAtSnatWalk >= slots / 32)));
        if (snat)
        {
            _snatMeasuredAt = (_buckets.WidthNs, bucket);
            _snatWalks++;
            _framesAtSnatWalk = _frames;
        }
        Sample(timestampNs, Occupancy.Measure(workers, snat));
    }

    /// <summary>
    /// Whether a frame stamped <paramref name="timestampNs"/> falls in a later bucket than the last occupancy sample. A
    /// replay ends its batch before such a frame (results do not depend on where batches end), so the tables are
    /// sampled in every bucket that has frames, not only every 16 384 frames: a capture of a dozen frames gets a dozen
    /// points. At most one cut per bucket: a few hundred per width, a few thousand in all.
    /// </summary>
    public bool NeedsSampleBefore(long timestampNs)
    {
        if (_originNs is not long origin) return false;
        // Before any sample, the first is due at the origin (the tables as the capture found them).
        long since = timestampNs - origin, last = Math.Max(0, _lastSampleSince);
        return since > last && since / _buckets.WidthNs != last / _buckets.WidthNs;
    }

    /// <summary>Records an occupancy measured by the caller.</summary>
    public void Sample(long timestampNs, in Occupancy o)
    {
        long since = Since(timestampNs);
        _lastSampleSince = Math.Max(_lastSampleSince, since);
        _buckets.Add(since, CtColumn, o.CtEntries);
        _buckets.Add(since, CtSampledColumn, 1);
        _ctCapacity = Math.Max(_ctCapacity, o.CtCapacity);
        _snatCapacity = Math.Max(_snatCapacity, o.SnatCapacity);
        if (o.SnatBusiest is long busiest)
        {
            _buckets.Add(since, SnatBusiestColumn, busiest);
            _buckets.Add(since, SnatBindingsColumn, o.SnatBindings ?? 0);
            _buckets.Add(since, SnatSampledColumn, 1);
        }
    }

    /// <summary>
    /// A configuration change was applied (or refused) before frame <paramref name="frame"/>, stamped
    /// <paramref name="timestampNs"/>: <paramref name="label"/> says what ("apply after.yaml"), <paramref name="outcome"/>
    /// what came of it (the summary's update line). Every time chart marks it.
    /// </summary>
    public void Reload(long timestampNs, long frame, string label, string outcome) =>
        _reloads.Add(new ReportReload(Since(timestampNs), frame, label, outcome));

    /// <summary>What was collected. The collector can go on afterwards; each call gives what it holds then.</summary>
    public ReportData Finish()
    {
        var buckets = new List<ReportBucket>(_buckets.Count);
        var occupancy = new List<ReportOccupancy>();
        for (int i = 0; i < _buckets.Count; i++)
        {
            long start = i * _buckets.WidthNs;
            long[] frames = new long[VerdictOrder.Length];
            for (int c = 0; c < frames.Length; c++) frames[c] = _buckets[i, c];
            buckets.Add(new ReportBucket(start, frames));
            if (_buckets[i, CtSampledColumn] == 0) continue;
            bool snat = _buckets[i, SnatSampledColumn] != 0;
            occupancy.Add(new ReportOccupancy(start, _buckets[i, CtColumn],
                snat ? _buckets[i, SnatBusiestColumn] : null, snat ? _buckets[i, SnatBindingsColumn] : null));
        }
        return new ReportData
        {
            Title = _title,
            Command = Command,
            Frames = _frames,
            FirstTimestampNs = _originNs ?? 0,
            SpanNs = _spanNs,
            BucketWidthNs = _buckets.WidthNs,
            VerdictNames = [.. VerdictOrder.Select(v => v.Name())],
            VerdictTotals = [.. VerdictOrder.Select(v => _verdicts[(int)v])],
            Buckets = buckets,
            Drops = Reasons(_drops),
            Rejects = Reasons(_rejects),
            OutgoingCopies = _outgoing,
            CtCapacity = _ctCapacity,
            SnatCapacity = _snatCapacity,
            Occupancy = occupancy,
            Reloads = [.. _reloads],
            Services = _backends.Finish(),
            UnlistedServiceConnections = _backends.UnlistedConnections,
            BackendsFollowed = BackendsFollowed,
            Conversations = _conversations.Top(ListedConversations),
            ConversationRows = _conversations.Capacity,
            ConversationsReplaced = _conversations.Replaced,
        };
    }

    /// <summary>The reasons counted, by number (the order of cilium's drop_reasons.h, as the summary prints them).</summary>
    static List<ReportReason> Reasons(long[] counts)
    {
        var list = new List<ReportReason>();
        for (int i = 1; i < counts.Length; i++)
            if (counts[i] > 0) list.Add(new ReportReason(((DropReason)i).Name(), i, counts[i]));
        return list;
    }
}
