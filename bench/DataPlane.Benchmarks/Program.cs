using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Running;
using DataPlane.Kubernetes;
using DataPlane.Maps;
using DataPlane.Pipeline;

namespace DataPlane.Benchmarks;

public static class Program
{
    /// <summary>
    /// BenchmarkSwitcher: `--filter` selects; exits non-zero when any benchmark failed (including its own result checks).
    /// Two extra modes for the scripts: `gen-pcap OUT [FRAMES]` writes the traffic mix as a capture
    /// (bench/replay-throughput.sh), `memory` prints the conntrack memory per live flow (bench/run-results.sh).
    /// </summary>
    public static int Main(string[] args)
    {
        if (args is ["gen-pcap", var path, ..])
        {
            int frames = args.Length > 2 ? int.Parse(args[2]) : 1_000_000;
            MapSet maps = ControlPlane.LoadAndCompile(Path.Combine(TrafficMix.RepoRoot(), "pcaps", "cluster"), "node-1");
            TrafficMix.WritePcap(path, maps, frames);
            Console.WriteLine($"wrote {frames} frames to {path}");
            return 0;
        }
        if (args is ["memory", ..]) return Memory();

        // CI's dry run executes each case once: only the small scale parameters (see Scale).
        for (int i = 0; i + 1 < args.Length; i++)
            if (args[i] is "--job" or "-j" && args[i + 1].Equals("dry", StringComparison.OrdinalIgnoreCase))
                Environment.SetEnvironmentVariable(Scale.SmallVariable, "1");

        var config = DefaultConfig.Instance.AddExporter(JsonExporter.Full);
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config).ToArray();
        // No report at all (a build failure, a filter matching nothing) counts as a failure too.
        bool failed = summaries.Length == 0 || summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Length == 0 || s.Reports.Any(r => !r.Success));
        return failed ? 1 : 0;
    }

    /// <summary>Memory per live flow: from the map layout, and measured around allocating a 2^20-connection table.</summary>
    static int Memory()
    {
        // The conntrack tables live in native memory (PinnedTable: aligned, huge pages), so managed allocation alone
        // would say nothing: count both, the process's anonymous resident memory (the tables are zeroed, so touched)
        // and the GC's allocation counter.
        const int capacity = 1 << 20;
        GC.Collect();
        long allocated = GC.GetTotalAllocatedBytes(precise: true), rss = RssAnon();
        var ct = new ConntrackMap(capacity);
        long ctAllocated = GC.GetTotalAllocatedBytes(precise: true) - allocated, ctRss = RssAnon() - rss;
        allocated = GC.GetTotalAllocatedBytes(precise: true);
        rss = RssAnon();
        var pipeline = new PacketPipeline(new MapSetHolder(MapSet.Empty(BenchCluster.NodeInfo())), new PipelineOptions { CtCapacity = capacity });
        long pipelineAllocated = GC.GetTotalAllocatedBytes(precise: true) - allocated, pipelineRss = RssAnon() - rss;
        Console.WriteLine($"memory: ConntrackMap.BytesPerFlow = {ConntrackMap.BytesPerFlow} B (entry {System.Runtime.CompilerServices.Unsafe.SizeOf<CtEntry>()} B + 4 index slots x 8 B)");
        Console.WriteLine($"memory: new ConntrackMap(2^20): resident +{ctRss:N0} B, managed {ctAllocated:N0} B = {(ctRss + ctAllocated) / (double)capacity:F1} B per flow");
        Console.WriteLine($"memory: new PacketPipeline(CtCapacity 2^20) with affinity and fragment maps: resident +{pipelineRss:N0} B, managed {pipelineAllocated:N0} B = {(pipelineRss + pipelineAllocated) / (double)capacity:F1} B per flow (resident includes managed arrays touched)");
        GC.KeepAlive(ct);
        GC.KeepAlive(pipeline);
        return 0;
    }

    /// <summary>RssAnon from /proc/self/status, in bytes (0 where there is no procfs).</summary>
    static long RssAnon()
    {
        if (!File.Exists("/proc/self/status")) return 0;
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return 0;
    }
}
