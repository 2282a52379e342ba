namespace DataPlane.Kubernetes.Manifests;

/// <summary>How a new connection picks its backend (cilium loadBalancer.algorithm).</summary>
public enum LoadBalancerAlgorithm
{
    /// <summary>A random slot: kube-proxy's statistic cascade, cilium's default.</summary>
    Random,
    /// <summary>Maglev consistent hashing of the 5-tuple: every node picks the same backend for a flow.</summary>
    Maglev,
}
