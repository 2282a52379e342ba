namespace DataPlane.Maps;

/// <summary>
/// Per-frontend behaviour, resolved when a generation is compiled (cilium's SVC_FLAG_*), so stages test bits instead of
/// consulting configuration.
/// </summary>
[Flags]
public enum ServiceFlags : ushort
{
    None = 0,
    ClusterIp = 1 << 0,
    NodePort = 1 << 1,
    ExternalIp = 1 << 2,
    LoadBalancer = 1 << 3,
    /// <summary>Masquerade every new connection (kube-proxy: external destinations with externalTrafficPolicy Cluster, masqueradeAll).</summary>
    MasqueradeAll = 1 << 4,
    /// <summary>Masquerade sources outside the cluster CIDR (kube-proxy's ClusterIP rule "! -s clusterCIDR -j KUBE-MARK-MASQ").</summary>
    MasqueradeOffCluster = 1 << 5,
    ExtLocal = 1 << 6,
    IntLocal = 1 << 7,
    Affinity = 1 << 8,
    SourceRange = 1 << 9,
    /// <summary>The frontend address is one of this node's addresses: traffic takes the kernel's INPUT path, not FORWARD.</summary>
    LocalAddress = 1 << 10,
}
