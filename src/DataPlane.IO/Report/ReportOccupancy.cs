namespace DataPlane.IO.Report;

/// <summary>
/// The tables' occupancy in one bucket of the capture clock (<paramref name="StartNs"/>, nanoseconds past the first
/// frame): the highest sample taken in it. <paramref name="CtEntries"/>: conntrack entries held (expired ones the GC has
/// not reached included: they hold their slot until then, so they count against the capacity). <paramref name="SnatBusiest"/>:
/// masquerade ports held towards the busiest destination (node address, backend address and port, protocol), the figure
/// that runs out first, since each such destination has the whole port range; <paramref name="SnatBindings"/>: all
/// masqueraded connections. The SNAT figures are null in buckets where they were not measured.
/// </summary>
public sealed record ReportOccupancy(long StartNs, long CtEntries, long? SnatBusiest, long? SnatBindings);
