using System.CommandLine;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Cli;

/// <summary>
/// The one option set every command that reads a cluster takes (replay, trace, maps, cluster, env, dns, run):
/// --cluster (repeatable: files, folders, -), --strict, --service-cidr, --node, --lb-pool, --service-node-port-range,
/// the load-balancing and cluster DNS options. Loader warnings print the same way for all of them.
/// </summary>
public sealed class ClusterArgs
{
    public Option<string[]> Cluster { get; } = CreateClusterOption();

    /// <summary>--cluster, repeatable: files or folders (recursively), "-" for standard input.</summary>
    public static Option<string[]> CreateClusterOption() => new("--cluster")
    {
        Description = "Manifest file or folder (.yaml/.yml/.json, multi-document, kind: List), repeatable; - reads stdin",
        Required = true,
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<bool> Strict { get; } = CreateStrictOption();

    public static Option<bool> CreateStrictOption() => new("--strict")
    {
        Description = "Objects of kinds DataPlane does not model, and unknown fields, are errors instead of warnings",
    };

    public Option<string[]> ServiceCidr { get; } = CreateServiceCidrOption();

    public static Option<string[]> CreateServiceCidrOption() => new("--service-cidr")
    {
        Description = "Service IP range(s) when the manifests hold no ServiceCIDR (kube-apiserver's --service-cluster-ip-range); default: inferred from the cluster IPs",
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>kubectl's -n: the namespace of objects that name none (the loader's <see cref="LoadOptions.Namespace"/>).</summary>
    public Option<string?> Namespace { get; } = new("--namespace", "-n") { Description = "Namespace for objects that name none; an object naming another is an error (kubectl apply -n)" };
    public Option<string> Node { get; } = new("--node") { Description = "Name of the Node whose data plane to emulate (default: the first node, of the manifests or of the emulated topology)" };
    public Option<string> LoadBalancerPool { get; } = new("--lb-pool")
    {
        Description = "CIDR that LoadBalancer services without status.loadBalancer.ingress get their address from, as MetalLB would",
        DefaultValueFactory = _ => LoadBalancerAllocator.DefaultPool.ToString(),
    };
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
        c.Options.Add(Strict);
        c.Options.Add(Namespace);
        c.Options.Add(ServiceCidr);
        c.Options.Add(Node);
        c.Options.Add(NodePortRange);
        c.Options.Add(LoadBalancerPool);
    }

    /// <summary>Loads the manifests; the loader's warnings go to stderr, one line each.</summary>
    public ClusterManifests Load(ParseResult pr) => ControlPlane.Load(pr.GetValue(Cluster) ?? [], LoadOptionsOf(pr, Cluster, Strict, ServiceCidr, Namespace), Warn);

    /// <summary>
    /// Loads and resolves the cluster once (<see cref="ResolvedCluster"/>): every view of a command reads this one
    /// model. <paramref name="adjust"/> changes the options first (dns forces answering).
    /// </summary>
    public ResolvedCluster Resolve(ParseResult pr, Func<CompileOptions, CompileOptions>? adjust = null)
    {
        CompileOptions options = Options(pr);
        return ControlPlane.Resolve(Load(pr), adjust is null ? options : adjust(options));
    }

    /// <summary>
    /// The node <c>--node</c> names (it must be a node of the cluster: the same error every command gives), else
    /// <paramref name="fallback"/>, else the cluster's first node.
    /// </summary>
    public string NodeOf(ParseResult pr, ResolvedCluster c, string? fallback = null)
    {
        if (pr.GetValue(Node) is not { } name) return fallback ?? c.Nodes[0].Name;
        return c.RequireNode(name).Name;
    }

    /// <summary>Whether --node was given.</summary>
    public bool HasNode(ParseResult pr) => pr.GetValue(Node) is not null;

    /// <summary>The maps of <paramref name="node"/> for the resolved cluster, behind the control plane's exception boundary.</summary>
    public static MapSet Compile(ResolvedCluster c, string node, TopologyReport? topology = null) =>
        ControlPlane.Boundary(() => ClusterCompiler.Compile(c, node, topology));

    /// <summary>A control plane that keeps the manifests and ids for later changes (replay --apply-at, live reloads).</summary>
    /// <param name="node">The node to emulate when --node was not given (null: the first).</param>
    public ControlPlane CreateControlPlane(ParseResult pr, string? node = null) =>
        new(pr.GetValue(Cluster) ?? [], LoadOptionsOf(pr, Cluster, Strict, ServiceCidr, Namespace), pr.GetValue(Node) ?? node, Options(pr));

    /// <summary>The manifests, loaded without printing their warnings (the control plane that loads them next prints them).</summary>
    public ClusterManifests LoadQuietly(ParseResult pr) => ControlPlane.Load(pr.GetValue(Cluster) ?? [], LoadOptionsOf(pr, Cluster, Strict, ServiceCidr, Namespace), null);

    static void Warn(string w) => Console.Error.WriteLine($"dataplane: warning: {w}");

    static LoadOptions LoadOptionsOf(ParseResult pr, Option<string[]> cluster, Option<bool> strict, Option<string[]> serviceCidr, Option<string?> ns)
    {
        // kube-apiserver's --service-cluster-ip-range: at most one range per family, the first being the primary
        // (ValidateServiceCIDRs in pkg/controlplane/apiserver/options); "a,b" and a repeated flag are the same list.
        var cidrs = new List<Cidr4>();
        var cidrs6 = new List<Cidr6>();
        IPFamily? primary = null;
        foreach (string text in (pr.GetValue(serviceCidr) ?? []).SelectMany(t => t.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            if (Cidr4.TryParse(text, out Cidr4 c))
            {
                if (cidrs.Count > 0)
                    throw new UsageException($"--service-cidr: '{text}' is a second IPv4 range (kube-apiserver takes one range per IP family; a ServiceCIDR object adds more)");
                cidrs.Add(c);
                primary ??= IPFamily.IPv4;
            }
            else if (Cidr6.TryParse(text, out Cidr6 c6, out _))
            {
                if (cidrs6.Count > 0)
                    throw new UsageException($"--service-cidr: '{text}' is a second IPv6 range (kube-apiserver takes one range per IP family; a ServiceCIDR object adds more)");
                cidrs6.Add(c6);
                primary ??= IPFamily.IPv6;
            }
            else
                throw new UsageException($"--service-cidr: '{text}' is not a CIDR like 10.96.0.0/12 or fd00:10:96::/112");
        }
        // Standard input is read once, so a reload sees the same manifests (a pipe cannot be read twice).
        byte[]? stdin = null;
        if ((pr.GetValue(cluster) ?? []).Contains("-"))
        {
            using var ms = new MemoryStream();
            using (Stream input = Console.OpenStandardInput()) input.CopyTo(ms);
            stdin = ms.ToArray();
        }
        return new LoadOptions { Strict = pr.GetValue(strict), ServiceCidrs = cidrs, ServiceCidrs6 = cidrs6, ServiceCidrPrimary = primary ?? IPFamily.IPv4, Stdin = stdin, Namespace = pr.GetValue(ns) };
    }

    public CompileOptions Options(ParseResult pr)
    {
        string pool = pr.GetValue(LoadBalancerPool)!;
        if (!Cidr4.TryParse(pool, out Cidr4 lbPool))
            throw new UsageException($"--lb-pool: '{pool}' is not an IPv4 CIDR like {LoadBalancerAllocator.DefaultPool}");
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
            NodePortMin = min, NodePortMax = max, Algorithm = algorithm, MaglevTableSize = size, LoadBalancerPool = lbPool,
            Dns = Dns.Options(pr), Warn = Warn,
        };
    }
}
