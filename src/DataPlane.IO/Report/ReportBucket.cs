namespace DataPlane.IO.Report;

/// <summary>
/// One bucket of the capture clock: its start (nanoseconds past the first frame) and the frames that got each verdict
/// in it, in the order of <see cref="ReportData.VerdictNames"/>.
/// </summary>
public sealed record ReportBucket(long StartNs, IReadOnlyList<long> Frames);
