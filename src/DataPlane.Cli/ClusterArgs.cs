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

    public void AddTo(Command c)
    {
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
        return new CompileOptions { NodePortMin = min, NodePortMax = max, Warn = w => Console.Error.WriteLine($"dataplane: warning: {w}") };
    }
}
