namespace DataPlane.IO.Report;

/// <summary>
/// One connection as <c>dataplane verify</c> judged it, for the report's divergences section: its flow as the client
/// sent it ("tcp", "10.244.1.5:40000", "10.96.0.10:80"), the Service port it reached ("ns/name:port", null for none),
/// <paramref name="Status"/> "agrees", "diverges" or "incomplete", the capture's frames that belong to it, the fields
/// that diverge and why (from the stage records).
/// </summary>
public sealed record ReportConnection(string Proto, string Src, string Dst, string? Service, string Status,
    IReadOnlyList<long> Frames, IReadOnlyList<ReportDiff> Diffs, string Why)
{
    public const string Agrees = "agrees", Diverges = "diverges", Incomplete = "incomplete";
}
