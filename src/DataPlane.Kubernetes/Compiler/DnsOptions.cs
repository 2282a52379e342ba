using DataPlane.Dns;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// The cluster DNS server's settings: CoreDNS's kubernetes plugin options (<c>kubernetes cluster.local in-addr.arpa
/// ip6.arpa { pods insecure; ttl 30 }</c> in kubeadm's Corefile, ttl 5 by default in the plugin) and where it listens.
/// </summary>
public sealed record DnsOptions
{
    /// <summary>--cluster-domain (kubelet's clusterDomain).</summary>
    public string ClusterDomain { get; init; } = "cluster.local";
    /// <summary>--dns-ttl: the plugin's ttl option (0-3600; default 5).</summary>
    public uint Ttl { get; init; } = 5;
    /// <summary>--cluster-dns: the DNS address given explicitly (it implies answering, <see cref="DnsMode.Answer"/>).</summary>
    public uint? ClusterDns { get; init; }
    /// <summary>--dns auto|answer|proxy.</summary>
    public DnsMode Mode { get; init; } = DnsMode.Auto;
    public DnsPodsMode Pods { get; init; } = DnsPodsMode.Insecure;
    /// <summary>endpoint_pod_names: endpoints without a hostname are named after their pod rather than their dashed IP.</summary>
    public bool EndpointPodNames { get; init; }
    /// <summary>--upstream-answer: REFUSED (default) or NXDOMAIN for names outside the zones we serve.</summary>
    public int UpstreamRcode { get; init; } = DnsRcode.Refused;

    /// <summary>The kubeadm / default-topology DNS service address (10.96.0.10: the tenth address of 10.96.0.0/12).</summary>
    public const uint DefaultClusterDns = 0x0A60000A;
}
