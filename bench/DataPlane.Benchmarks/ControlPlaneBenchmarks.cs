using System.Diagnostics;
using System.Text;
using BenchmarkDotNet.Attributes;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Benchmarks;

/// <summary>A synthetic cluster written once as YAML: 10 k services (1 k in the dry run) x 10 endpoints, two nodes.</summary>
static class BigCluster
{
    public static int Services => Scale.Pick(10_000, 1_000);
    public const int Endpoints = 10;

    public static string Write()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"dataplane-bench-cluster-{Services}");
        string services = Path.Combine(dir, "services.yaml");
        if (File.Exists(services)) return dir;
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "nodes.yaml"), """
            apiVersion: v1
            kind: Node
            metadata: {name: node-1}
            spec: {podCIDR: 10.244.1.0/24}
            status:
              addresses: [{type: InternalIP, address: 192.168.0.2}]
            ---
            apiVersion: v1
            kind: Node
            metadata: {name: node-2}
            spec: {podCIDR: 10.244.2.0/24}
            status:
              addresses: [{type: InternalIP, address: 192.168.0.3}]
            ---
            apiVersion: kubeproxy.config.k8s.io/v1alpha1
            kind: KubeProxyConfiguration
            mode: iptables
            clusterCIDR: 10.244.0.0/16
            """);
        var sb = new StringBuilder();
        for (int i = 0; i < Services; i++)
        {
            sb.Append($"""
                apiVersion: v1
                kind: Service
                metadata: {"{"}name: svc-{i}, namespace: default{"}"}
                spec:
                  clusterIP: {Ip4.Format(BenchCluster.Vip(i))}
                  ports: [{"{"}name: http, port: 80, targetPort: 8080{"}"}]
                ---

                """);
            sb.Append(Slice(i, 0)).Append("---\n");
        }
        File.WriteAllText(services + ".tmp", sb.ToString());
        File.Move(services + ".tmp", services);
        return dir;
    }

    /// <summary>Service i's EndpointSlice; <paramref name="variant"/> changes one endpoint's address (the single change).</summary>
    public static string Slice(int service, int variant)
    {
        var sb = new StringBuilder($"""
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: svc-{service}-abc
              namespace: default
              labels: {"{"}kubernetes.io/service-name: svc-{service}{"}"}
            addressType: IPv4
            ports: [{"{"}name: http, port: 8080, protocol: TCP{"}"}]
            endpoints:

            """);
        for (int j = 0; j < Endpoints; j++)
        {
            uint a = Ip4.Parse("10.200.0.0") + (uint)(service * Endpoints + j) + (j == 0 ? (uint)variant * 0x80000 : 0);
            sb.Append($"- {"{"}addresses: [\"{Ip4.Format(a)}\"], nodeName: node-{1 + (j & 1)}{"}"}\n");
        }
        return sb.ToString();
    }
}

/// <summary>
/// Control-plane cost of a full cluster (README, Benchmarks): 10 k services x 10 endpoints. LoadYaml (baseline, the reference
/// cost: parsing and validating the manifests) and Compile (manifests already in memory -> one MapSet generation for
/// node-1: endpoints, ids, frontends, maps) are measured separately. Results are per cluster, not per packet.
/// </summary>
[MemoryDiagnoser]
public class ClusterCompileBenchmarks
{
    string _dir = "";
    ClusterManifests _manifests = null!;

    [GlobalSetup]
    public void Setup()
    {
        _dir = BigCluster.Write();
        _manifests = ManifestLoader.Load(_dir);
    }

    [Benchmark(Baseline = true)]
    public int LoadYaml()
    {
        var m = ManifestLoader.Load(_dir);
        return m.Services.Count == BigCluster.Services ? m.Services.Count : throw new InvalidOperationException("services not loaded");
    }

    [Benchmark]
    public int Compile()
    {
        MapSet maps = ClusterCompiler.Compile(_manifests, "node-1");
        return maps.Services.Count >= BigCluster.Services ? maps.Services.Count : throw new InvalidOperationException($"compiled {maps.Services.Count} frontends");
    }
}

/// <summary>
/// Publishing one endpoint change among 10 k services while a packet-processing thread keeps running (README,
/// target 100 us per change). PublishOneEndpointChange: ControlPlane.Apply of one decoded EndpointSlice (what a watch
/// delivers), which recompiles only that service's endpoints and publishes them as a delta over the last full
/// generation (EndpointChangeCompiler); the check fails if it fell back to a full compile. Baseline: the previous way, a
/// full reload (YAML load + compile + publish), what ControlPlane.Reload does.
/// The packet thread forwards established flows through the published generation all along; GlobalCleanup reports how
/// many packets it processed during the updates and its longest stall, and fails if it processed none.
/// </summary>
[MemoryDiagnoser]
public class EndpointUpdateBenchmarks
{
    string _dir = "";
    ClusterManifests[] _overlays = [];
    ControlPlane _control = null!;
    MapSetHolder _holder = null!;
    int _variant;

    Thread? _packetThread;
    volatile bool _stop;
    long _packets, _maxStallTicks;
    long _updates, _packetsDuringUpdates, _updateTicks;

    [GlobalSetup]
    public void Setup()
    {
        _dir = BigCluster.Write();
        _overlays = new ClusterManifests[2];
        for (int v = 0; v < 2; v++)
        {
            string file = Path.Combine(Path.GetTempPath(), $"dataplane-bench-change-{v}.yaml");
            File.WriteAllText(file, BigCluster.Slice(0, v + 1));
            _overlays[v] = ManifestLoader.Load(file);
        }
        // --dns proxy: with the emulated kube-dns answering (no CoreDNS pods), an endpoint change also changes the zone
        // the data plane answers from and takes the full compile; this measures the delta path.
        _control = new ControlPlane(_dir, "node-1", new CompileOptions { Dns = new DnsOptions { Mode = DataPlane.Dns.DnsMode.Proxy } });
        _holder = _control.Holder;
        _stop = false;
        _packetThread = new Thread(PacketLoop) { IsBackground = true, Name = "packets" };
        _packetThread.Start();
        while (Volatile.Read(ref _packets) == 0) Thread.Sleep(1);
    }

    /// <summary>512 established pod flows to the first 100 services, forwarded over and over; counts every packet.</summary>
    void PacketLoop()
    {
        var pipeline = new PacketPipeline(_holder, new PipelineOptions { CtCapacity = 1 << 12 });
        var frames = new FramePool(BenchData.Batch);
        byte[] buf = new byte[256], reply = new byte[2048];
        for (int i = 0; i < BenchData.Batch; i++)
        {
            var (ip, port) = BenchCluster.PodClient(i);
            frames.Add(i, IpProto.Tcp, ip, port, BenchCluster.Vip(i % 100), 80, L4.TcpAck, 64);
        }
        long last = Stopwatch.GetTimestamp();
        while (!_stop)
        {
            int forwarded = 0;
            for (int i = 0; i < 64; i++)
            {
                Span<byte> f = frames[(int)((_packets + i) & (BenchData.Batch - 1))];
                f.CopyTo(buf);
                if (pipeline.Process(buf.AsSpan(0, f.Length), BenchData.Now, reply, out int _) == Verdict.Forward) forwarded++;
            }
            if (forwarded != 64) throw new InvalidOperationException("packet thread: frames not forwarded");
            Volatile.Write(ref _packets, _packets + 64);
            long now = Stopwatch.GetTimestamp();
            if (now - last > _maxStallTicks) _maxStallTicks = now - last;
            last = now;
        }
    }

    [Benchmark(Baseline = true)]
    public long FullReload()
    {
        return Check(_control.Reload());
    }

    [Benchmark]
    public long PublishOneEndpointChange()
    {
        long before = Volatile.Read(ref _packets), t0 = Stopwatch.GetTimestamp();
        _variant ^= 1;
        MapSet next = _control.Apply(_overlays[_variant]);
        if (next.Delta is null) throw new InvalidOperationException("the endpoint change took the full-compile path");
        _updateTicks += Stopwatch.GetTimestamp() - t0;
        _packetsDuringUpdates += Volatile.Read(ref _packets) - before;
        _updates++;
        return Check(next);
    }

    long Check(MapSet next) =>
        _holder.Current == next && next.Services.Count >= BigCluster.Services ? next.Generation : throw new InvalidOperationException("generation not published");

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop = true;
        _packetThread?.Join();
        double stallUs = _maxStallTicks * 1e6 / Stopwatch.Frequency;
        if (_updates > 0)
        {
            double perUpdateUs = _updateTicks * 1e6 / Stopwatch.Frequency / _updates;
            string line = $"endpoint change among {BigCluster.Services} services: {_updates} updates, {perUpdateUs:F0} us each (wall), " +
                $"{_packetsDuringUpdates} packets forwarded by the packet thread during them ({(double)_packetsDuringUpdates / _updates:F0} per update), " +
                $"longest packet-thread stall {stallUs:F0} us";
            Notes.Write("control-plane", line);
            if (_packetsDuringUpdates == 0) throw new InvalidOperationException("the packet thread processed nothing during the updates: blocked");
        }
        else Notes.Write("control-plane", $"full reload of {BigCluster.Services} services with packets running: longest packet-thread stall {stallUs:F0} us");
        _packets = 0; _maxStallTicks = 0; _updates = 0; _packetsDuringUpdates = 0; _updateTicks = 0;
    }
}

/// <summary>Side results (not timings) for RESULTS.md: appended to $DATAPLANE_BENCH_NOTES when set, always printed.</summary>
static class Notes
{
    public static void Write(string key, string line)
    {
        Console.WriteLine($"// {key}: {line}");
        if (Environment.GetEnvironmentVariable("DATAPLANE_BENCH_NOTES") is { Length: > 0 } path)
            File.AppendAllText(path, $"{key}\t{line}\n");
    }
}
