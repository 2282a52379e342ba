using BenchmarkDotNet.Attributes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Benchmarks;

/// <summary>
/// What turning workloads into pods adds to a compile: 1 k Deployments x 10 replicas (100 x 10 in the dry run) behind
/// one Service each, on 50 nodes. Baseline: compiling the same cluster already expanded (its pods as a dump would hold
/// them); Expand: the controllers, scheduler and IPAM alone; ExpandAndCompile: what a load does now.
/// </summary>
[MemoryDiagnoser]
public class WorkloadExpansionBenchmarks
{
    const int Replicas = 10, Nodes = 50;
    ClusterManifests _raw = null!, _expanded = null!;
    int _deployments;

    [GlobalSetup]
    public void Setup()
    {
        _deployments = Scale.Pick(1_000, 100);
        var nodes = Enumerable.Range(1, Nodes).Select(i => new Node
        {
            Name = $"node-{i}",
            SourceFile = "bench",
            Addresses = [new NodeAddress(NodeAddressType.InternalIP, $"192.168.{i / 256}.{i % 256}", 0xC0A80000u + (uint)i)],
            PodCIDR = new Cidr4(0x0AF40000u + ((uint)i << 8), 24),
            Labels = new Dictionary<string, string> { ["kubernetes.io/os"] = "linux" },
        }).ToArray();
        var workloads = new List<Workload>();
        var services = new List<Service>();
        for (int d = 0; d < _deployments; d++)
        {
            var labels = new Dictionary<string, string> { ["app"] = $"app-{d}" };
            workloads.Add(new Workload
            {
                Name = $"app-{d}", Namespace = "default", SourceFile = "bench", Kind = WorkloadKind.Deployment, Replicas = Replicas,
                Template = new PodTemplate
                {
                    Labels = labels,
                    ContainerPorts = [new ContainerPort("http", 8080, PortProtocol.TCP)],
                    Canonical = $"{{metadata:{{labels:{{app:\"app-{d}\",}},}},spec:{{containers:[{{name:\"c\",}},],}},}}",
                },
            });
            services.Add(new Service
            {
                Name = $"app-{d}", Namespace = "default", SourceFile = "bench", ClusterIPMode = ClusterIPMode.Assigned,
                ClusterIP = 0x0A600000u + 10 + (uint)d, ClusterIPs = [0x0A600000u + 10 + (uint)d], Selector = labels,
                Ports = [new ServicePort { Name = "http", Port = 80, TargetPort = new TargetPort(0, "http") }],
            });
        }
        _raw = new ClusterManifests { Nodes = nodes, Workloads = workloads, Services = services, Files = ["bench"] };
        _expanded = WorkloadExpander.Expand(_raw);
        if (_expanded.Pods.Count != _deployments * Replicas || _expanded.Pods.Any(p => p.PodIP is null))
            throw new InvalidOperationException($"expansion made {_expanded.Pods.Count} pods, expected {_deployments * Replicas}, all addressed");
    }

    [Benchmark(Baseline = true)]
    public MapSet CompileExpanded() => Check(ClusterCompiler.Compile(_expanded, "node-1"));

    [Benchmark]
    public int Expand()
    {
        int n = WorkloadExpander.Expand(_raw).Pods.Count;
        if (n != _deployments * Replicas) throw new InvalidOperationException($"{n} pods");
        return n;
    }

    [Benchmark]
    public MapSet ExpandAndCompile() => Check(ClusterCompiler.Compile(_raw, "node-1"));

    MapSet Check(MapSet m)
    {
        int backends = 0;
        m.ForEachFrontend((_, v) => backends += EmulatedServices.IsEmulatedPort(m.ServiceName(v.RevNatIndex)) ? 0 : v.Count); // the cluster's own services aside
        if (backends != _deployments * Replicas) throw new InvalidOperationException($"{backends} backend slots, expected {_deployments * Replicas}");
        return m;
    }
}
