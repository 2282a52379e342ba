using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Benchmarks;

/// <summary>
/// Endpoint selection with topology narrowing against without. The narrowing happens when the maps are compiled
/// (DataPlane compiles for one node, as kube-proxy writes one node's rules), so a new connection's per-packet cost
/// should be the same: both clusters have 1 k services (100 in the dry run) x 10 endpoints, one with zone hints on every
/// endpoint (5 for node-1's zone-a, 5 for zone-b), one without. Two groups, each with its own baseline (no hints):
/// "packet" = a new ClusterIP flow through the whole pipeline, ns per packet; "compile" = the compile of the loaded
/// manifests (YAML parsing excluded), what the hint rule adds per sync. Self-checks: every packet is a new forwarded
/// flow, and with hints its backend is one of the zone-a endpoints; each compile yields every service.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class TopologyBenchmarks : IDisposable
{
    const int Ring = 1 << 14;
    const int Endpoints = 10;
    const long Lap = 120_000_000_000; // past the SYN timeout: the previous lap's connections have expired
    static int Services => Scale.Pick(1_000, 100);

    ClusterManifests _plain = null!, _hinted = null!;
    PacketPipeline _plainPipeline = null!, _hintedPipeline = null!;
    FramePool _frames = null!;
    readonly byte[] _buffer = new byte[2048];
    readonly byte[] _reply = new byte[2048];
    int _plainCursor, _hintedCursor;
    long _plainNow = BenchData.Now, _hintedNow = BenchData.Now;

    static uint Vip(int i) => Ip4.Parse("10.96.0.0") + 1 + (uint)i;
    static string Endpoint(int i, int j) => $"10.{100 + i / 250}.{i % 250}.{j + 1}";

    static ClusterManifests Write(bool hints)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"dataplane-bench-topology-{Services}-{hints}");
        Directory.CreateDirectory(dir);
        var sb = new StringBuilder("""
            apiVersion: v1
            kind: Node
            metadata: {name: node-1, labels: {topology.kubernetes.io/zone: zone-a}}
            spec: {podCIDR: 10.244.1.0/24}
            status: {addresses: [{type: InternalIP, address: 192.168.0.2}]}
            ---
            apiVersion: kubeproxy.config.k8s.io/v1alpha1
            kind: KubeProxyConfiguration
            clusterCIDR: 10.0.0.0/8
            ---

            """);
        for (int i = 0; i < Services; i++)
        {
            sb.Append($"apiVersion: v1\nkind: Service\nmetadata: {{name: svc-{i}, namespace: default}}\n")
              .Append($"spec: {{clusterIP: {Ip4.Format(Vip(i))}, ports: [{{name: http, port: 80, targetPort: 8080}}]}}\n---\n")
              .Append($"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: svc-{i}-1, namespace: default, labels: {{kubernetes.io/service-name: svc-{i}}}}}\n")
              .Append("addressType: IPv4\nports: [{name: http, port: 8080}]\nendpoints:\n");
            for (int j = 0; j < Endpoints; j++)
            {
                string zone = j < Endpoints / 2 ? "zone-a" : "zone-b";
                sb.Append($"- {{addresses: [{Endpoint(i, j)}], nodeName: node-{(j < Endpoints / 2 ? 1 : 3)}, zone: {zone}")
                  .Append(hints ? $", hints: {{forZones: [{{name: {zone}}}]}}}}\n" : "}\n");
            }
            sb.Append("---\n");
        }
        string file = Path.Combine(dir, "cluster.yaml");
        File.WriteAllText(file, sb.ToString());
        return ManifestLoader.Load(file);
    }

    /// <summary>Releases the tables' native memory once BenchmarkDotNet is done with this instance.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _plainPipeline?.Dispose();
        _hintedPipeline?.Dispose();
        GC.SuppressFinalize(this);
    }

    [GlobalSetup]
    public void Setup()
    {
        _plain = Write(hints: false);
        _hinted = Write(hints: true);
        _plainPipeline = new PacketPipeline(new MapSetHolder(ClusterCompiler.Compile(_plain, "node-1")), new PipelineOptions { CtCapacity = 2 * Ring });
        _hintedPipeline = new PacketPipeline(new MapSetHolder(ClusterCompiler.Compile(_hinted, "node-1")), new PipelineOptions { CtCapacity = 2 * Ring });
        var rng = new Random(42);
        _frames = new FramePool(Ring);
        for (int i = 0; i < Ring; i++)
        {
            var (ip, port) = BenchCluster.PodClient(i);
            _frames.Add(i, IpProto.Tcp, ip, port, Vip(rng.Next(Services)), 80, L4.TcpSyn);
        }
    }

    int Run(PacketPipeline p, ref int cursor, ref long now, bool zoneAOnly)
    {
        int ok = 0, c = cursor;
        if (c == 0) now += Lap;
        Span<byte> buf = _buffer;
        for (int i = 0; i < BenchData.Batch; i++, c++)
        {
            Span<byte> f = _frames[c];
            f.CopyTo(buf);
            if (p.Process(buf.Slice(0, f.Length), now, _reply, out PacketResult r) == Verdict.Forward && r.NewFlow && r.OutDstPort == 8080
                && (!zoneAOnly || (r.OutDstIp & 0xFF) <= Endpoints / 2))
                ok++;
        }
        cursor = c & (Ring - 1);
        return ok == BenchData.Batch ? ok : throw new InvalidOperationException($"{BenchData.Batch - ok} of {BenchData.Batch} packets were not new flows to the expected endpoints");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch), BenchmarkCategory("packet")]
    public int NewFlowWithoutHints() => Run(_plainPipeline, ref _plainCursor, ref _plainNow, zoneAOnly: false);

    [Benchmark(OperationsPerInvoke = BenchData.Batch), BenchmarkCategory("packet")]
    public int NewFlowNarrowedByZoneHints() => Run(_hintedPipeline, ref _hintedCursor, ref _hintedNow, zoneAOnly: true);

    [Benchmark(Baseline = true), BenchmarkCategory("compile")]
    public int CompileWithoutHints() => Check(ClusterCompiler.Compile(_plain, "node-1"));

    [Benchmark, BenchmarkCategory("compile")]
    public int CompileWithZoneHints() => Check(ClusterCompiler.Compile(_hinted, "node-1"));

    static int Check(MapSet m)
    {
        int n = 0;
        m.ForEachFrontend((_, v) => n += EmulatedServices.IsEmulatedPort(m.ServiceName(v.RevNatIndex)) ? 0 : 1); // the cluster's own services aside
        return n == Services ? n : throw new InvalidOperationException($"{n} frontends compiled, {Services} expected");
    }
}
