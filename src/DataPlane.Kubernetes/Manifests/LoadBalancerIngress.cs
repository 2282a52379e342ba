namespace DataPlane.Kubernetes.Manifests;

/// <summary>One status.loadBalancer.ingress[] entry that has an IPv4 address (hostname-only and IPv6 entries are skipped).</summary>
public readonly record struct LoadBalancerIngress(uint IP, LoadBalancerIPMode IPMode);
