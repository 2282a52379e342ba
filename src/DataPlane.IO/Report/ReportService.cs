namespace DataPlane.IO.Report;

/// <summary>
/// How one Service port's new connections spread over its backends, against what its algorithm promises:
/// <paramref name="Algorithm"/> "random" (1/N of the usable endpoints, cilium's <c>(prandom % count) + 1</c>) or
/// "maglev" (each backend's share of the Maglev lookup table); <paramref name="Affinity"/> when sessionAffinity
/// ClientIP sends a client's later connections where its first went, so only first connections follow the promise.
/// </summary>
public sealed record ReportService(string Service, string Algorithm, bool Affinity, long Connections, IReadOnlyList<ReportBackend> Backends);
