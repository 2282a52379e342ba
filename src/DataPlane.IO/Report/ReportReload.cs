namespace DataPlane.IO.Report;

/// <summary>
/// A configuration change applied during the capture (<c>--apply-at</c>): when (nanoseconds past the first frame, the
/// time of the first frame that met it), that frame, what was applied, and what came of it (the summary's update line).
/// </summary>
public sealed record ReportReload(long AtNs, long Frame, string Label, string Outcome);
