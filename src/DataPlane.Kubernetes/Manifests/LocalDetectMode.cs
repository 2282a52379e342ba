namespace DataPlane.Kubernetes.Manifests;

/// <summary>How kube-proxy tells pod traffic from the rest; BridgeInterface and InterfaceNamePrefix are not emulated.</summary>
public enum LocalDetectMode { ClusterCIDR, NodeCIDR }
