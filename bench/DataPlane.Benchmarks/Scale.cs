namespace DataPlane.Benchmarks;

/// <summary>
/// Scale parameters (the sizes the README quotes) and the small set CI's dry run uses. The dry run executes every case once, but its
/// GlobalSetup still builds 1 M-flow tables and 100 k-service maps; with <see cref="Small"/> only the small values run,
/// so the whole dry suite stays well under two minutes. Small is on when the command line asks for the dry job or when
/// DATAPLANE_BENCH_SMALL=1 (an environment variable, so out-of-process benchmark children see it too).
/// </summary>
public static class Scale
{
    public const string SmallVariable = "DATAPLANE_BENCH_SMALL";

    public static bool Small => Environment.GetEnvironmentVariable(SmallVariable) == "1";

    /// <summary>The full values, or only those up to <paramref name="smallMax"/> in small mode.</summary>
    public static IEnumerable<int> Of(int smallMax, params int[] full) => Small ? full.Where(v => v <= smallMax) : full;

    /// <summary>A size for setups that have no parameter: <paramref name="full"/>, or <paramref name="small"/> in small mode.</summary>
    public static int Pick(int full, int small) => Small ? small : full;

    public static IEnumerable<int> Services => Of(1_000, 10, 1_000, 10_000, 100_000);
    public static IEnumerable<int> BackendsPerService => Of(10, 1, 10, 100);
    public static IEnumerable<int> LiveFlows => Of(1_000, 1_000, 1_000_000);
}
