using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Benchmarks;

/// <summary>
/// What the control plane costs the packet path (issue 21, item 1, the measuring half): a packet thread forwards
/// established-flow packets through the real <see cref="PacketPipeline"/> (65 536 established flows to 10 k services x 10
/// endpoints, 4 096 flows to 1 k services in the dry job), reading the generation the control plane publishes, and
/// timestamps every packet; the benchmark methods are the control plane's two ways of publishing:
/// <list type="bullet">
/// <item><b>FullReload</b> (baseline): <see cref="ControlPlane.Reload"/>, what <c>dataplane run</c> does on a reload
/// (YAML load, resolve, compile, one publish).</item>
/// <item><b>EndpointChange</b>: one EndpointSlice change through <see cref="ControlPlane.Apply(ClusterManifests, CancellationToken)"/>,
/// the delta path (<see cref="EndpointChangeCompiler"/>); each change is to the next Service in turn, so successive
/// changes never touch the same Service until all have changed once. When the delta outgrows
/// <see cref="EndpointChangeCompiler.MaxOverlayFrontends"/> the control plane falls back to a full compile, as it would
/// in a cluster; those are counted and timed apart (the gaps and BenchmarkDotNet's mean include them) rather than
/// treated as failures. The median of the first deltas after each full compile is reported too: a delta's cost grows
/// with the changes published since the last full compile.</item>
/// </list>
/// BenchmarkDotNet's own figure is the publish time (per reload, per change) and, with [MemoryDiagnoser], the bytes the
/// control plane allocates per reload or change. The packet-side figures do not fit its one-number-per-method model, so
/// GlobalCleanup prints them as a summary line (<c>// packet-gaps: ...</c>, also appended to $DATAPLANE_BENCH_NOTES) and
/// appends one CSV row per phase to $DATAPLANE_BENCH_GAPS_CSV (or packet-gaps.csv beside $DATAPLANE_BENCH_NOTES, which
/// bench/run-results.sh sets; with neither, no file):
/// <list type="bullet">
/// <item>the gap between consecutive packets on the worker: max and p99 (from an allocation-free histogram; the gap
/// includes the packet's own processing and the timestamp), during the control plane's work and in a quiet window
/// measured first with nothing else running in the process;</item>
/// <item>the fraction of the worker's time lost: 1 - packets forwarded while the control plane worked / packets the
/// quiet rate would have forwarded in the same wall time;</item>
/// <item>publish latency per change or reload (median, p99, max), bytes allocated per operation on the control thread,
/// and the collections that ran meanwhile (GC.CollectionCount per generation, GC.GetTotalPauseDuration: the time the
/// runtime had every managed thread, the worker included, suspended).</item>
/// </list>
/// With DATAPLANE_BENCH_ALLOC_SAMPLE=1 it also prints which types the control plane allocated (<see cref="AllocationSampler"/>).
/// Gaps between invocations (BenchmarkDotNet's engine, which forces a full collection between iterations) are kept out
/// of the figures: the worker charges each gap to the phase set when it ends, and the phase is "control plane" only
/// while a benchmark method runs.
/// </summary>
[MemoryDiagnoser]
public class PacketGapBenchmarks : IDisposable
{
    static int Flows => Scale.Pick(1 << 16, 1 << 12);

    ControlPlane _control = null!;
    ClusterManifests[][] _changes = [];
    int _nextChange;
    // Deltas published since the last full compile: the delta builder copies its whole overlay on every change
    // (MapSetDeltaBuilder.Patch, copy-on-write), so a change's cost grows with the changes before it.
    int _sinceFullCompile;
    const int FreshChanges = 64;

    Thread? _worker;
    volatile bool _stop;
    volatile GapPhase _phase = new("warm-up");
    GapPhase _quiet = null!, _busy = null!, _between = null!;
    Exception? _workerFailure;
    AllocationSampler? _sampler;

    /// <summary>The reload case: no change overlays to decode (they cost the dry job a second).</summary>
    [GlobalSetup(Target = nameof(FullReload))]
    public void SetupReload() => Setup(changes: false);

    [GlobalSetup(Target = nameof(EndpointChange))]
    public void SetupChanges() => Setup(changes: true);

    void Setup(bool changes)
    {
        string dir = BigCluster.Write();
        // --dns proxy, as in EndpointUpdateBenchmarks: with the emulated kube-dns answering, an endpoint change would
        // also change the DNS zone and always take the full compile.
        _control = new ControlPlane(dir, "node-1", new CompileOptions { Dns = new DnsOptions { Mode = DataPlane.Dns.DnsMode.Proxy } });
        if (changes) _changes = [LoadChanges(1), LoadChanges(2)];

        var pipeline = new PacketPipeline(_control.Holder, new PipelineOptions { CtCapacity = LiveTable.CapacityFor(Flows) });
        byte[] reply = new byte[2048];
        BenchCluster.Establish(pipeline, Flows, BigCluster.Services, reply);
        // Packets come from the established flows in a seeded random order, so conntrack lookups miss the caches as
        // they would with this many live flows.
        var ring = new FramePool(Flows);
        int[] order = Enumerable.Range(0, Flows).ToArray();
        new Random(42).Shuffle(order);
        for (int k = 0; k < Flows; k++)
        {
            int i = order[k];
            var (ip, port) = BenchCluster.PodClient(i);
            ring.Add(k, IpProto.Tcp, ip, port, BenchCluster.Vip(i % BigCluster.Services), 80, L4.TcpAck, 64);
        }

        _stop = false;
        _worker = new Thread(() => PacketLoop(pipeline, ring, reply)) { IsBackground = true, Name = "packets" };
        _worker.Start();
        Thread.Sleep(Scale.Pick(200, 20)); // JIT tiering and caches settle
        // The reference: the same worker with the control plane idle. Collected first, so nothing of the set-up's garbage is left to collect in it.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        _quiet = new GapPhase("quiet");
        _quiet.Begin();
        _phase = _quiet;
        Thread.Sleep(Scale.Pick(1000, 50));
        _phase = _between = new GapPhase("between invocations");
        _quiet.End();
        if (_workerFailure is { } e) throw new InvalidOperationException("packet thread failed", e);
        _busy = new GapPhase("control plane");
        if (AllocationSampler.Requested) _sampler = new AllocationSampler();
    }

    /// <summary>Service i's slice with one endpoint moved (variant 1 or 2), one overlay per Service, decoded once.</summary>
    static ClusterManifests[] LoadChanges(int variant)
    {
        string file = Path.Combine(Path.GetTempPath(), $"dataplane-bench-changes-{BigCluster.Services}-{variant}.yaml");
        if (!File.Exists(file))
        {
            var sb = new System.Text.StringBuilder();
            for (int i = 0; i < BigCluster.Services; i++) sb.Append(BigCluster.Slice(i, variant)).Append("---\n");
            string tmp = $"{file}.{Environment.ProcessId}.tmp";
            File.WriteAllText(tmp, sb.ToString());
            File.Move(tmp, file, overwrite: true);
        }
        ClusterManifests all = ManifestLoader.Load(file);
        if (all.EndpointSlices.Count != BigCluster.Services) throw new InvalidOperationException($"{all.EndpointSlices.Count} slices in {file}");
        return [.. all.EndpointSlices.Select(s => new ClusterManifests { EndpointSlices = [s] })];
    }

    /// <summary>Forwards the ring's packets over and over; charges each packet's gap to the phase in force when it ends.</summary>
    void PacketLoop(PacketPipeline pipeline, FramePool ring, byte[] reply)
    {
        try
        {
            byte[] buf = new byte[256];
            int c = 0, mask = ring.Count - 1;
            long last = Stopwatch.GetTimestamp();
            while (!_stop)
            {
                Span<byte> f = ring[c];
                c = (c + 1) & mask;
                f.CopyTo(buf);
                if (pipeline.Process(buf.AsSpan(0, f.Length), BenchData.Now, reply, out int _) != Verdict.Forward)
                    throw new InvalidOperationException($"packet thread: frame {c} of an established flow not forwarded");
                long now = Stopwatch.GetTimestamp();
                GapPhase p = _phase;
                p.Gaps.Record(now - last);
                p.Packets++;
                last = now;
            }
        }
        catch (Exception e)
        {
            _workerFailure = e;
        }
    }

    [Benchmark(Baseline = true)]
    public long FullReload() => Measured(() => _control.Reload());

    [Benchmark]
    public long EndpointChange()
    {
        int n = _nextChange++;
        ClusterManifests change = _changes[(n / BigCluster.Services) & 1][n % BigCluster.Services];
        return Measured(() => _control.Apply(change), delta: true);
    }

    long Measured(Func<MapSet> publish, bool delta = false)
    {
        GapPhase busy = _busy;
        busy.Begin();
        _phase = busy;
        if (_sampler is { } sampler) sampler.Active = true;
        long a0 = GC.GetAllocatedBytesForCurrentThread(), t0 = Stopwatch.GetTimestamp();
        MapSet next = publish();
        long t1 = Stopwatch.GetTimestamp(), allocated = GC.GetAllocatedBytesForCurrentThread() - a0;
        _phase = _between;
        if (_sampler is { } sampling) sampling.Active = false;
        busy.End();
        busy.Operations++;
        if (delta && next.Delta is null)
        {
            // Kept apart: a fallback is a full compile (plus folding every change since the last one into the
            // manifests), orders of magnitude above a delta; mixed in, it would only ever show as the max.
            busy.Fallbacks++;
            busy.FallbackTicks.Record(t1 - t0);
            busy.FallbackAllocated += allocated;
            _sinceFullCompile = 0;
        }
        else
        {
            busy.Latency.Record(t1 - t0);
            if (delta && _sinceFullCompile++ < FreshChanges) busy.FreshLatency.Record(t1 - t0);
            busy.OperationAllocated += allocated;
        }
        if (_workerFailure is { } e) throw new InvalidOperationException("packet thread failed", e);
        return _control.Holder.Current == next && next.Services.Count >= BigCluster.Services ? next.Generation : throw new InvalidOperationException("generation not published");
    }

    /// <summary>Stops the worker and reports (BenchmarkDotNet's GlobalCleanup).</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        GC.SuppressFinalize(this);
        _stop = true;
        _worker?.Join();
        if (_busy.Operations == 0) { _sampler?.Dispose(); _sampler = null; return; }
        bool changes = _nextChange > 0;
        string op = changes ? $"endpoint change among {BigCluster.Services} services (each to a different service)" : $"full reload of {BigCluster.Services} services x {BigCluster.Endpoints} endpoints";
        double quietRate = _quiet.Packets / (double)_quiet.Ticks;
        double lost = _busy.Ticks == 0 ? 0 : 1 - _busy.Packets / (quietRate * _busy.Ticks);
        string line = $"{op}, {Flows} established flows on the worker: {_busy.Operations} operations" +
            (changes ? $" ({_busy.Fallbacks} fell back to a full compile{(_busy.Fallbacks > 0 ? $", taking {Us(_busy.FallbackTicks.Percentile(0.5))} us median, {Us(_busy.FallbackTicks.Max)} us max" : "")}; publish figures below are of the deltas)" : "") +
            $"; gap between packets max {Us(_busy.Gaps.Max)} us, p99 {Us(_busy.Gaps.Percentile(0.99))} us (quiet: max {Us(_quiet.Gaps.Max)} us, p99 {Us(_quiet.Gaps.Percentile(0.99))} us); " +
            $"worker time lost {lost:P1}; publish median {Us(_busy.Latency.Percentile(0.5))} us, p99 {Us(_busy.Latency.Percentile(0.99))} us, max {Us(_busy.Latency.Max)} us" +
            (changes ? $" (median of the first {FreshChanges} after a full compile: {Us(_busy.FreshLatency.Percentile(0.5))} us)" : "") + "; " +
            $"{_busy.OperationAllocated / (double)(_busy.Operations - _busy.Fallbacks):F0} B allocated per {(changes ? "delta change" : "reload")}" +
            (_busy.Fallbacks > 0 ? $", {_busy.FallbackAllocated / (double)_busy.Fallbacks:F0} B per fallback" : "") + "; " +
            $"GCs during them gen0/1/2 {_busy.Gen0}/{_busy.Gen1}/{_busy.Gen2}, paused {_busy.PauseTicks * 1000.0 / Stopwatch.Frequency:F1} ms in all" +
            $" (quiet window: {_quiet.Gen0}/{_quiet.Gen1}/{_quiet.Gen2}, {_quiet.PauseTicks * 1000.0 / Stopwatch.Frequency:F1} ms)";
        Notes.Write("packet-gaps", line);
        WriteCsv(changes ? "EndpointChange" : "FullReload", quietRate);
        if (_sampler is { } sampler)
        {
            Notes.Write("packet-gaps", $"{(changes ? "endpoint changes" : "full reloads")}: sampled allocations by type: {sampler.Top(12)}");
            sampler.Dispose();
            _sampler = null;
        }
        _busy = new GapPhase("control plane");
        _nextChange = 0;
        _sinceFullCompile = 0;
    }

    static string Us(long ticks) => (ticks * 1e6 / Stopwatch.Frequency).ToString("F1", CultureInfo.InvariantCulture);

    /// <summary>One row per phase: a table the lead can paste or chart; the header is written with a new file.</summary>
    void WriteCsv(string method, double quietRate)
    {
        // Where the caller asked, else beside run-results.sh's notes; a plain run (CI's dry job) prints the summary only.
        string? path = Environment.GetEnvironmentVariable("DATAPLANE_BENCH_GAPS_CSV") is { Length: > 0 } p ? p
            : Environment.GetEnvironmentVariable("DATAPLANE_BENCH_NOTES") is { Length: > 0 } notes ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(notes))!, "packet-gaps.csv")
            : null;
        if (path is null) return;
        bool header = !File.Exists(path);
        using var w = new StreamWriter(path, append: true);
        if (header)
            w.WriteLine("utc,method,services,flows,phase,operations,fallbacks,packets,wall_ms,gap_max_us,gap_p99_us,gap_p999_us,gaps_over_1ms,time_lost,publish_p50_us,publish_p99_us,publish_max_us,publish_fresh_p50_us,alloc_bytes_per_op,fallback_p50_us,fallback_max_us,alloc_bytes_per_fallback,gen0,gen1,gen2,gc_pause_ms");
        foreach (GapPhase ph in new[] { _quiet, _busy, _between })
        {
            double lost = ph.Ticks == 0 || ph == _between ? double.NaN : 1 - ph.Packets / (quietRate * ph.Ticks);
            bool ops = ph == _busy;
            w.WriteLine(string.Join(",",
                DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), method, BigCluster.Services, Flows, ph.Name,
                ops ? ph.Operations : 0, ops ? ph.Fallbacks : 0, ph.Packets, (ph.Ticks * 1000.0 / Stopwatch.Frequency).ToString("F1", CultureInfo.InvariantCulture),
                Us(ph.Gaps.Max), Us(ph.Gaps.Percentile(0.99)), Us(ph.Gaps.Percentile(0.999)), ph.Gaps.CountAtLeast(Stopwatch.Frequency / 1000),
                double.IsNaN(lost) ? "" : lost.ToString("F4", CultureInfo.InvariantCulture),
                ops ? Us(ph.Latency.Percentile(0.5)) : "", ops ? Us(ph.Latency.Percentile(0.99)) : "", ops ? Us(ph.Latency.Max) : "",
                ops && ph.FreshLatency.Count > 0 ? Us(ph.FreshLatency.Percentile(0.5)) : "",
                ops && ph.Operations > ph.Fallbacks ? (ph.OperationAllocated / (double)(ph.Operations - ph.Fallbacks)).ToString("F0", CultureInfo.InvariantCulture) : "",
                ops && ph.Fallbacks > 0 ? Us(ph.FallbackTicks.Percentile(0.5)) : "", ops && ph.Fallbacks > 0 ? Us(ph.FallbackTicks.Max) : "",
                ops && ph.Fallbacks > 0 ? (ph.FallbackAllocated / (double)ph.Fallbacks).ToString("F0", CultureInfo.InvariantCulture) : "",
                ph.Gen0, ph.Gen1, ph.Gen2, (ph.PauseTicks * 1000.0 / Stopwatch.Frequency).ToString("F2", CultureInfo.InvariantCulture)));
        }
        Console.WriteLine($"// packet-gaps: CSV rows appended to {path}");
    }
}

/// <summary>
/// One phase of <see cref="PacketGapBenchmarks"/>: the worker's gaps and packet count while it was in force (written by
/// the worker only), and the control side's wall time, operations, allocations and collections (written by the
/// benchmark thread only, between <see cref="Begin"/> and <see cref="End"/>).
/// </summary>
sealed class GapPhase(string name)
{
    public string Name { get; } = name;
    public GapHistogram Gaps { get; } = new();
    public long Packets;

    /// <summary>Publish latency per operation; for endpoint changes, of those published as deltas only.</summary>
    public GapHistogram Latency { get; } = new();

    /// <summary>Publish latency of the first deltas after each full compile, while the overlay is still small.</summary>
    public GapHistogram FreshLatency { get; } = new();

    /// <summary>Endpoint changes the delta path declined, which took the full compile.</summary>
    public GapHistogram FallbackTicks { get; } = new();
    public long Operations, Fallbacks, Ticks, Gen0, Gen1, Gen2, PauseTicks;

    /// <summary>Bytes the control thread allocated in the operations published as deltas (or reloads), and in the fallbacks.</summary>
    public long OperationAllocated, FallbackAllocated;

    long _t0, _g0, _g1, _g2;
    TimeSpan _pause0;

    public void Begin()
    {
        _g0 = GC.CollectionCount(0);
        _g1 = GC.CollectionCount(1);
        _g2 = GC.CollectionCount(2);
        _pause0 = GC.GetTotalPauseDuration();
        _t0 = Stopwatch.GetTimestamp();
    }

    public void End()
    {
        Ticks += Stopwatch.GetTimestamp() - _t0;
        // CollectionCount(n) counts collections that included generation n: a gen2 GC shows in all three counts.
        Gen0 += GC.CollectionCount(0) - _g0;
        Gen1 += GC.CollectionCount(1) - _g1;
        Gen2 += GC.CollectionCount(2) - _g2;
        PauseTicks += (long)((GC.GetTotalPauseDuration() - _pause0).TotalSeconds * Stopwatch.Frequency);
    }
}
