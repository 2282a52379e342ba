namespace DataPlane.IO.Report;

/// <summary>
/// Everything a report shows, as plain data: what <see cref="ReplayReport.Finish"/> returns, what
/// <see cref="ReportJson"/> embeds and what <see cref="HtmlReport"/> draws, so the page's figures and its JSON come
/// from one object and cannot disagree. Times are nanoseconds past the capture's first frame (the clock
/// <c>--apply-at</c> counts on).
/// </summary>
public sealed record ReportData
{
    /// <summary>What was replayed or verified (the input's path).</summary>
    public required string Title { get; init; }
    /// <summary>"replay" or "verify".</summary>
    public string Command { get; init; } = "replay";
    public long Frames { get; init; }
    /// <summary>The capture's first timestamp (ns since the Unix epoch): the origin of every time here.</summary>
    public long FirstTimestampNs { get; init; }
    /// <summary>The latest frame, past the first.</summary>
    public long SpanNs { get; init; }
    /// <summary>The width of <see cref="Buckets"/> (see <see cref="TimeBuckets"/>).</summary>
    public long BucketWidthNs { get; init; }
    /// <summary>The verdicts the per-bucket counts are given for, in this order (the summary's order).</summary>
    public IReadOnlyList<string> VerdictNames { get; init; } = [];
    /// <summary>Frames per verdict over the whole capture, in <see cref="VerdictNames"/>' order.</summary>
    public IReadOnlyList<long> VerdictTotals { get; init; } = [];
    public IReadOnlyList<ReportBucket> Buckets { get; init; } = [];
    /// <summary>Dropped frames by reason, as the summary's "drop reasons" (reasons of rejects and outgoing copies apart).</summary>
    public IReadOnlyList<ReportReason> Drops { get; init; } = [];
    /// <summary>Rejected frames that carry a reason, by reason (the summary's "reject reasons").</summary>
    public IReadOnlyList<ReportReason> Rejects { get; init; } = [];
    /// <summary>Copies of frames the node itself sent (Linux cooked captures), passed untouched.</summary>
    public long OutgoingCopies { get; init; }
    /// <summary>Conntrack entries the node's tables hold at most (0: never measured).</summary>
    public long CtCapacity { get; init; }
    /// <summary>Ports of the masquerade range: what each (node address, backend, protocol) may hold (0: never measured).</summary>
    public long SnatCapacity { get; init; }
    /// <summary>Occupancy in the buckets where it was measured (the same buckets as <see cref="Buckets"/>).</summary>
    public IReadOnlyList<ReportOccupancy> Occupancy { get; init; } = [];
    public IReadOnlyList<ReportReload> Reloads { get; init; } = [];
    public IReadOnlyList<ReportService> Services { get; init; } = [];
    /// <summary>New connections of Service ports past <see cref="BackendShares.MaxServices"/>.</summary>
    public long UnlistedServiceConnections { get; init; }
    /// <summary>The new connections' backends followed the capture (<c>--backends follow</c>), not the algorithm.</summary>
    public bool BackendsFollowed { get; init; }
    public IReadOnlyList<ReportConversation> Conversations { get; init; } = [];
    /// <summary>Rows of the conversation table, and how often a row changed hands once it was full (0: counts exact).</summary>
    public int ConversationRows { get; init; }
    public long ConversationsReplaced { get; init; }
    /// <summary>Lines the summary adds (updates, notes on the capture), shown as they are.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
    /// <summary><c>dataplane verify</c>'s connections (null for a replay).</summary>
    public IReadOnlyList<ReportConnection>? Connections { get; init; }

    /// <summary>Frames with verdict <paramref name="name"/> ("forward", "drop"...), 0 when none.</summary>
    public long VerdictTotal(string name)
    {
        for (int i = 0; i < VerdictNames.Count; i++)
            if (VerdictNames[i] == name) return VerdictTotals[i];
        return 0;
    }
}
