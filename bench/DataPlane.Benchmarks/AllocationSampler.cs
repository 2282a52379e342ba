using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace DataPlane.Benchmarks;

/// <summary>
/// Which types a stretch of code allocates, sampled in-process: the runtime's GCAllocationTick event fires about every
/// 100 KB allocated and names the type of the object that crossed the mark (the sampling dotnet-trace's gc-verbose
/// profile and PerfView's "GC Heap Alloc Ignore Free" view are built on), so bytes per type are estimated from the
/// ticks. Diagnostic only: on when DATAPLANE_BENCH_ALLOC_SAMPLE=1, and counting only while <see cref="Active"/> is set.
/// </summary>
sealed class AllocationSampler : EventListener
{
    const EventKeywords GcKeyword = (EventKeywords)0x1; // GCKeyword of Microsoft-Windows-DotNETRuntime
    readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);

    public static bool Requested => Environment.GetEnvironmentVariable("DATAPLANE_BENCH_ALLOC_SAMPLE") == "1";

    /// <summary>Whether ticks are counted now (set around the code to profile).</summary>
    public volatile bool Active;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!Active || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
        int type = e.PayloadNames?.IndexOf("TypeName") ?? -1, amount = e.PayloadNames?.IndexOf("AllocationAmount64") ?? -1;
        string name = type >= 0 ? e.Payload[type] as string ?? "?" : "?";
        long bytes = amount >= 0 && e.Payload[amount] is ulong a ? (long)a : 100_000;
        _bytes.AddOrUpdate(name, bytes, (_, b) => b + bytes);
    }

    /// <summary>The <paramref name="count"/> types with most sampled bytes, as "type ~N MB (P %)".</summary>
    public string Top(int count)
    {
        long total = _bytes.Values.Sum();
        if (total == 0) return "no allocation ticks seen";
        return string.Join("; ", _bytes.OrderByDescending(kv => kv.Value).Take(count)
            .Select(kv => $"{kv.Key} ~{kv.Value >> 20} MB ({100.0 * kv.Value / total:F0} %)"));
    }
}
