using DataPlane.Kubernetes.Manifests;
using DataPlane.Packets;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>Settings of a compile that do not come from the manifests (the API server's and the CLI's flags).</summary>
public sealed record CompileOptions
{
    /// <summary>--service-node-port-range, 30000-32767 by default as in kube-apiserver.</summary>
    public int NodePortMin { get; init; } = Allocator.DefaultNodePortMin;
    public int NodePortMax { get; init; } = Allocator.DefaultNodePortMax;
    /// <summary>Where the endpoints controller's warnings go (e.g. a pod on a node that is not in the manifests).</summary>
    public Action<string>? Warn { get; init; }
    /// <summary>
    /// The control plane's id registry, kept across compiles so service-port and backend ids stay stable for the
    /// conntrack entries that hold them; null: a fresh registry (a one-off compile).
    /// </summary>
    public Maps.IdRegistry? Ids { get; init; }
    /// <summary>cilium's loadBalancer.algorithm: the default for services without the lb-algorithm annotation.</summary>
    public LoadBalancerAlgorithm Algorithm { get; init; } = LoadBalancerAlgorithm.Random;
    /// <summary>cilium's --bpf-lb-maglev-table-size: slots per Maglev table, one of <see cref="Maps.MaglevTable.SupportedSizes"/>.</summary>
    public int MaglevTableSize { get; init; } = Maps.MaglevTable.DefaultSize;
    /// <summary>Where the compile records its topology decisions (trace and maps print them); null: not recorded.</summary>
    public TopologyReport? Topology { get; init; }
    /// <summary>--lb-pool: where LoadBalancer services without an ingress get their address (<see cref="LoadBalancerAllocator"/>).</summary>
    public Cidr4 LoadBalancerPool { get; init; } = LoadBalancerAllocator.DefaultPool;
    /// <summary>The cluster DNS server (zone, TTL, address, when to answer); compiled with every full generation.</summary>
    public DnsOptions Dns { get; init; } = new();
}
