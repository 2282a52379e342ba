using DataPlane.Packets;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>A kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration, IPv4 view, defaults applied.</summary>
public sealed record KubeProxyConfig
{
    /// <summary>The values kube-proxy uses with no config file.</summary>
    public static KubeProxyConfig Default { get; } = new();

    public ProxyMode Mode { get; init; }

    /// <summary>IPv4 parts of the comma-separated clusterCIDR. Empty = no local-traffic detector under ClusterCIDR mode.</summary>
    public IReadOnlyList<Cidr4> ClusterCIDRs { get; init; } = [];

    /// <summary>Whether <see cref="ClusterCIDRs"/> was inferred from the emulated nodes' pod CIDRs rather than configured.</summary>
    public bool ClusterCidrInferred { get; init; }

    public LocalDetectMode DetectLocalMode { get; init; }

    /// <summary>Masquerade every ClusterIP connection (<c>TestInternalExternalMasquerade</c> "masqueradeAll").</summary>
    public bool MasqueradeAll { get; init; }

    /// <summary>IPv4 CIDRs of nodePortAddresses. Empty and <see cref="NodePortAddressesPrimary"/> false = the mode's default.</summary>
    public IReadOnlyList<Cidr4> NodePortAddresses { get; init; } = [];

    /// <summary>nodePortAddresses was ["primary"]: NodePorts only on the node's primary IP (nftables' default).</summary>
    public bool NodePortAddressesPrimary { get; init; }

    /// <summary>iptables.localhostNodePorts, default true: 127.0.0.1:nodePort is served (iptables mode, IPv4 only).</summary>
    public bool LocalhostNodePorts { get; init; } = true;

    /// <summary>hostnameOverride: the node name kube-proxy uses to decide which endpoints are local; null = the host name.</summary>
    public string? HostnameOverride { get; init; }

    /// <summary>The mode as written: "iptables", "nftables" or "ipvs" (which runs with <see cref="ProxyMode.IPTables"/> semantics).</summary>
    public string RequestedMode { get; init; } = "iptables";

    /// <summary>Null for <see cref="Default"/>.</summary>
    public string? SourceFile { get; init; }
}
