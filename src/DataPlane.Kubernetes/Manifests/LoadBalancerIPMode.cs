namespace DataPlane.Kubernetes.Manifests;

/// <summary>
/// core/v1 LoadBalancerIPMode. VIP (the default when unset): the node intercepts traffic to the IP. Proxy: the load
/// balancer delivers to the node with its own address, so kube-proxy installs no rule for the IP
/// (proxier_test <c>TestLoadBalancerIngressRouteTypeProxy</c>).
/// </summary>
public enum LoadBalancerIPMode { VIP, Proxy }
