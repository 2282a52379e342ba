namespace DataPlane.Kubernetes.Manifests;

/// <summary>What spec.clusterIP / spec.clusterIPs asked for, IPv4 view.</summary>
public enum ClusterIPMode
{
    /// <summary>Not set: the API server allocates one from the ServiceCIDRs.</summary>
    Allocate,
    /// <summary>An IPv4 address was given; see <see cref="Service.ClusterIP"/>.</summary>
    Assigned,
    /// <summary>"None": headless, no proxying (kube-proxy <c>TestBuildServiceMapServiceHeadless</c>).</summary>
    Headless,
    /// <summary>Only IPv6 cluster IPs were given: the service has no IPv4 cluster IP and none must be allocated.</summary>
    OtherFamily,
    /// <summary>type ExternalName: the API forbids cluster IPs; the service is a DNS CNAME only.</summary>
    None,
}
