using BenchmarkDotNet.Running;

namespace DataPlane.Benchmarks;

public static class Program
{
    /// <summary>`--filter` selects; exits non-zero when any benchmark failed (including its own result checks).</summary>
    public static int Main(string[] args)
    {
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args).ToArray();
        // No report at all (a build failure, a filter matching nothing) counts as a failure too.
        bool failed = !summaries.Any() || summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Length == 0 || s.Reports.Any(r => !r.Success));
        return failed ? 1 : 0;
    }
}
