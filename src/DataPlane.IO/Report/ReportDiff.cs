namespace DataPlane.IO.Report;

/// <summary>
/// One field of one frame where the capture and the Service semantics disagree (<c>dataplane verify</c>): what the
/// semantics call for and what the node did, both as text (an address, a TTL, "masqueraded"...), and why (null: not given).
/// </summary>
public sealed record ReportDiff(long Frame, string Field, string Expected, string Seen, string? Why = null);
