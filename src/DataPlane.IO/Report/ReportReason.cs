namespace DataPlane.IO.Report;

/// <summary>Frames with one drop (or reject) reason: its name and its fixed number (cilium's drop_reasons.h habit).</summary>
public sealed record ReportReason(string Reason, int Code, long Frames);
