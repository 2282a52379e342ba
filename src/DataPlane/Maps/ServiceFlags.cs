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
    /// <summary>A second entry with scope 1 (internal) holds the cluster-wide backends for in-cluster and node-local
    /// sources (cilium SVC_FLAG_TWO_SCOPES; kube-proxy's pod short-circuit for externalTrafficPolicy Local).</summary>
    TwoScopes = 1 << 11,
    /// <summary>Count 0 means "none in this policy's scope": drop (no-service-backend), not reject — kube-proxy DROPs
    /// when a Local traffic policy finds no local endpoint while other nodes have some.</summary>
    DropWhenEmpty = 1 << 12,
    /// <summary>A healthCheckNodePort: the node itself answers (verdict local).</summary>
    HealthCheck = 1 << 13,
    /// <summary>nftables' per-ClusterIP catch-all (port 0, proto 0): a cluster IP on a port it does not serve is rejected.</summary>
    Wildcard = 1 << 14,
    /// <summary>New connections pick their backend from the frontend's Maglev table (cilium loadBalancer.algorithm=maglev).</summary>
    Maglev = 1 << 15,
    /// <summary>The external kinds of frontend.</summary>
    External = NodePort | ExternalIp | LoadBalancer,
}
