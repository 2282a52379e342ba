namespace DataPlane.IO.Report;

/// <summary>
/// One backend of a Service port: the new connections it got, the share the balancing algorithm promised it (each
/// connection's chance of landing here, averaged over the service's connections, so endpoint changes mid-capture are
/// weighed by the connections that saw them), the connections that share predicts, and the binomial standard deviation
/// around that prediction (the square root of the sum of p(1 - p) over the connections).
/// </summary>
public sealed record ReportBackend(string Backend, long Connections, double PromisedShare, double ExpectedConnections, double ExpectedSd);
