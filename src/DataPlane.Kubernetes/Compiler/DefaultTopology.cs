using DataPlane.Kubernetes.Manifests;
using DataPlane.Packets;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// The nodes DataPlane emulates when the manifests hold no Node object.
/// <list type="bullet">
/// <item>No Node and no pod bound to a node: the default cluster, three nodes <c>node-1</c>..<c>node-3</c> with
/// InternalIPs 192.168.0.2..192.168.0.4 and podCIDRs 10.244.1.0/24..10.244.3.0/24, cut from the cluster CIDR
/// 10.244.0.0/16 (kubeadm + flannel's <c>--pod-network-cidr</c>, the node-ipam controller's /24 per node), the same
/// addressing as the bundled <c>pcaps/cluster</c>. Services come from 10.96.0.0/12 (kube-apiserver's default), so
/// kube-dns would be 10.96.0.10.</item>
/// <item>No Node but pods with <c>spec.nodeName</c> and a status.podIP or status.hostIP (a <c>kubectl get pods -o yaml</c>
/// dump): one node per name, in order
/// of first appearance; its InternalIP is the <c>status.hostIP</c> of its pods (or a hostNetwork pod's IP), else the
/// next free 192.168.0.x; its podCIDR is the /24 holding its first non-hostNetwork pod's IP (the per-node /24 of
/// host-local IPAM), else the next free 10.244.N.0/24.</item>
/// </list>
/// </summary>
public static class DefaultTopology
{
    public const int NodeCount = 3;
    public static readonly Cidr4 ClusterCidr = new(0x0AF40000, 16); // 10.244.0.0/16
    const uint FirstNodeIp = 0xC0A80002; // 192.168.0.2

    /// <summary>kind's default IPv6 pod subnet (fd00:10:244::/56), cut into a /64 per node on a dual-stack cluster.</summary>
    public static readonly Cidr6 ClusterCidr6 = Cidr6.TryParse("fd00:10:244::/56", out Cidr6 c, out _) ? c : default;

    /// <summary>The nodes of <paramref name="m"/>: its own if it has any, else the emulated ones described above.</summary>
    public static IReadOnlyList<Node> NodesFor(ClusterManifests m)
    {
        if (m.Nodes.Count > 0) return m.Nodes;
        var names = new List<string>();
        // Only pods that ran somewhere (a status with podIP or hostIP: a dump) say which nodes exist; a hand-written pod
        // pinned with nodeName but without status is placed on the emulated nodes like any other.
        foreach (Pod p in m.Pods)
            if (!string.IsNullOrEmpty(p.NodeName) && (p.PodIP is not null || p.HostIP is not null) && !names.Contains(p.NodeName)) names.Add(p.NodeName);
        if (names.Count == 0)
        {
            // A dual-stack cluster (its service ranges are) gets dual-stack nodes: each node also holds a /64 of
            // kind's dual-stack pod subnet fd00:10:244::/56 in spec.podCIDRs. Listed only; pods stay IPv4.
            bool dual = m.ServiceCidrsInForce.IsDualStack;
            return [.. Enumerable.Range(1, NodeCount).Select(i => MakeNode($"node-{i}", FirstNodeIp + (uint)(i - 1), new Cidr4(ClusterCidr.Prefix + ((uint)i << 8), 24)) with
            {
                IPv6PodCIDRs = dual ? [new Cidr6(ClusterCidr6.Prefix + ((UInt128)(uint)i << 64), 64)] : [],
            })];
        }

        var usedIps = new HashSet<uint>();
        var usedCidrs = new HashSet<uint>();
        var inferred = new List<(string Name, uint? Ip, Cidr4? Cidr)>();
        foreach (string name in names)
        {
            var pods = m.Pods.Where(p => p.NodeName == name).ToArray();
            uint? ip = pods.Select(p => p.HostIP).FirstOrDefault(h => h is not null)
                ?? pods.Where(p => p.HostNetwork).Select(p => p.PodIP).FirstOrDefault(h => h is not null);
            uint? podIp = pods.Where(p => !p.HostNetwork).Select(p => p.PodIP).FirstOrDefault(h => h is not null);
            Cidr4? cidr = podIp is uint a ? new Cidr4(a, 24) : null;
            if (ip is uint x) usedIps.Add(x);
            if (cidr is { } c) usedCidrs.Add(c.Prefix);
            inferred.Add((name, ip, cidr));
        }
        uint nextIp = FirstNodeIp, nextCidr = ClusterCidr.Prefix + (1u << 8);
        var result = new List<Node>();
        foreach (var (name, ip, cidr) in inferred)
        {
            uint address = ip ?? Next(ref nextIp, 1, usedIps);
            Cidr4 podCidr = cidr ?? new Cidr4(Next(ref nextCidr, 1u << 8, usedCidrs), 24);
            result.Add(MakeNode(name, address, podCidr));
        }
        return result;
    }

    static uint Next(ref uint next, uint step, HashSet<uint> used)
    {
        while (!used.Add(next)) next += step;
        uint v = next;
        next += step;
        return v;
    }

    static Node MakeNode(string name, uint ip, Cidr4 podCidr) => new()
    {
        Name = name,
        SourceFile = "(emulated)",
        Addresses = [new NodeAddress(NodeAddressType.InternalIP, Ip4.Format(ip), ip), new NodeAddress(NodeAddressType.Hostname, name, null)],
        PodCIDR = podCidr,
        PodCIDRs = [podCidr],
        Labels = new Dictionary<string, string>
        {
            ["kubernetes.io/hostname"] = name,
            ["kubernetes.io/os"] = "linux",
            ["kubernetes.io/arch"] = "amd64",
        },
        Generated = true,
    };
}
