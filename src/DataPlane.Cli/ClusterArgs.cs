using System.CommandLine;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Maps;

namespace DataPlane.Cli;

/// <summary>The options every command that compiles a cluster shares: --cluster, --node, --service-node-port-range.</summary>
public sealed class ClusterArgs
{
    public Option<string> Cluster { get; } = new("--cluster") { Description = "Manifest file or folder (.yaml/.yml/.json, multi-document allowed)", Required = true };
    public Option<string> Node { get; } = new("--node") { Description = "Name of the Node whose data plane to emulate", Required = true };
    public Option<string> NodePortRange { get; } = new("--service-node-port-range")
    {
        Description = "Node ports allocated to services that do not name one (kube-apiserver's flag)",
        DefaultValueFactory = _ => $"{Allocator.DefaultNodePortMin}-{Allocator.DefaultNodePortMax}",
    };

    public Option<string> Algorithm { get; } = new("--lb-algorithm")
    {
        Description = "How new connections pick a backend: random or maglev (cilium's loadBalancer.algorithm; the service annotation service.cilium.io/lb-algorithm overrides it)",
        DefaultValueFactory = _ => "random",
    };
    public Option<int> MaglevSize { get; } = new("--maglev-table-size")
    {
        Description = "Slots per Maglev table, a prime among 251..131071 (cilium's --bpf-lb-maglev-table-size)",
        DefaultValueFactory = _ => MaglevTable.DefaultSize,
    };

    public DnsArgs Dns { get; } = new();

    public void AddTo(Command c)
    {
        Dns.AddTo(c);
        c.Options.Add(Algorithm);
        c.Options.Add(MaglevSize);
        c.Options.Add(Cluster);
        c.Options.Add(Node);
        c.Options.Add(NodePortRange);
    }

    /// <summary>Loads and compiles; the endpoints controller's warnings go to stderr prefixed like errors.</summary>
    public MapSet Compile(ParseResult pr) => ControlPlane.LoadAndCompile(pr.GetValue(Cluster)!, pr.GetValue(Node)!, Options(pr));

    /// <summary>A control plane that keeps the manifests and ids for later changes (replay --apply-at, live reloads).</summary>
    public ControlPlane CreateControlPlane(ParseResult pr) => new(pr.GetValue(Cluster)!, pr.GetValue(Node)!, Options(pr));

    CompileOptions Options(ParseResult pr)
    {
        string range = pr.GetValue(NodePortRange)!;
        if (!Allocator.TryParseRange(range, out int min, out int max))
            throw new UsageException($"--service-node-port-range: '{range}' is not a port range like 30000-32767");
        LoadBalancerAlgorithm algorithm = pr.GetValue(Algorithm) switch
        {
            "random" => LoadBalancerAlgorithm.Random,
            "maglev" => LoadBalancerAlgorithm.Maglev,
            var other => throw new UsageException($"--lb-algorithm: '{other}' is not random or maglev"),
        };
        int size = pr.GetValue(MaglevSize);
        if (!MaglevTable.IsSupportedSize(size))
            throw new UsageException($"--maglev-table-size: {size} is not one of {string.Join(", ", MaglevTable.SupportedSizes)}");
        return new CompileOptions
        {
            NodePortMin = min, NodePortMax = max, Algorithm = algorithm, MaglevTableSize = size, Dns = Dns.Options(pr),
            Warn = w => Console.Error.WriteLine($"dataplane: warning: {w}"),
        };
    }
}
