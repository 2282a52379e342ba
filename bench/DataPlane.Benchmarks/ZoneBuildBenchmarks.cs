using BenchmarkDotNet.Attributes;
using DataPlane.Dns;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Packets;

namespace DataPlane.Benchmarks;

/// <summary>
/// Building the cluster DNS zone for one service with 60 000 endpoints (6 000 in the dry run), the case of issue 18
/// item 2: headless, its name carried 60 000 A and 120 000 SRV records that were each checked against the name's
/// records by a scan (64 s a build). Baseline: the same endpoints behind a ClusterIP service — one name, A and PTR per
/// endpoint and nothing headless — whose cost is linear by construction; Headless adds the service name's A records and
/// the SRV records per endpoint and port, about four more records per endpoint, so with a linear build its ratio to the
/// baseline stays a small constant at every size (a quadratic one grows with the endpoint count). The cluster is
/// expanded and its EndpointSlices made in the setup: only the zone compile is measured.
/// </summary>
[MemoryDiagnoser]
public class ZoneBuildBenchmarks
{
    int _endpoints;
    Input _headless = null!, _clusterIp = null!;

    sealed record Input(ClusterManifests Manifests, Allocator Allocator, ILookup<(string?, string?), EndpointSlice> Slices,
        ILookup<(string?, string), Endpoints> Legacy);

    [GlobalSetup]
    public void Setup()
    {
        _endpoints = Scale.Pick(60_000, 6_000);
        _headless = Prepare(ClusterIPMode.Headless);
        _clusterIp = Prepare(ClusterIPMode.Allocate);
    }

    Input Prepare(ClusterIPMode mode)
    {
        // One node whose /16 podCIDR holds every replica, one Deployment, one Service selecting it.
        var node = new Node
        {
            Name = "big", SourceFile = "bench",
            Addresses = [new NodeAddress(NodeAddressType.InternalIP, "192.168.0.2", 0xC0A80002u)],
            PodCIDR = new Cidr4(0x0AF40000u, 16),
        };
        var labels = new Dictionary<string, string> { ["app"] = "web" };
        var workload = new Workload
        {
            Name = "web", Namespace = "default", SourceFile = "bench", Kind = WorkloadKind.Deployment, Replicas = _endpoints,
            Template = new PodTemplate
            {
                Labels = labels,
                ContainerPorts = [new ContainerPort("http", 8080, PortProtocol.TCP)],
                Canonical = "{metadata:{labels:{app:\"web\",},},spec:{containers:[{name:\"c\",},],},}",
            },
        };
        var service = new Service
        {
            Name = "web", Namespace = "default", SourceFile = "bench", ClusterIPMode = mode, Selector = labels,
            Ports = [new ServicePort { Name = "http", Port = 80, TargetPort = new TargetPort(0, "http") }],
        };
        ClusterManifests m = WorkloadExpander.Expand(new ClusterManifests { Nodes = [node], Workloads = [workload], Services = [service], Files = ["bench"] });
        var slices = m.EndpointSlices.Concat(EndpointsController.Build(m)).ToLookup(s => (s.Namespace, s.ServiceName));
        return new Input(m, new Allocator(m), slices, m.Endpoints.ToLookup(e => (e.Namespace, e.Name)));
    }

    static DnsZone Compile(Input i) =>
        DnsZoneCompiler.Compile(i.Manifests, new DnsOptions { Mode = DnsMode.Answer }, i.Allocator, i.Slices, i.Legacy, serial: 1);

    [Benchmark(Baseline = true)]
    public DnsZone ClusterIpEndpoints() => Check(Compile(_clusterIp), perEndpoint: 2);

    [Benchmark]
    public DnsZone HeadlessEndpoints() => Check(Compile(_headless), perEndpoint: 5);

    /// <summary>
    /// Each endpoint's records are all there: its name's A and PTR; headless also the service name's A, the named
    /// port's SRV and the bare name's SRV. Fails the benchmark when the build stops doing its work.
    /// </summary>
    DnsZone Check(DnsZone zone, int perEndpoint)
    {
        if (zone.RecordCount < perEndpoint * _endpoints)
            throw new InvalidOperationException($"{zone.RecordCount} records, expected at least {perEndpoint * _endpoints}");
        if (zone.AddressesOf("10-244-0-2.web.default.svc.cluster.local").Count != 1)
            throw new InvalidOperationException("the first endpoint's name is missing");
        return zone;
    }
}
