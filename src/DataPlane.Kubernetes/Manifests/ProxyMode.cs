namespace DataPlane.Kubernetes.Manifests;

/// <summary>KubeProxyConfiguration mode; "" means iptables on Linux. ipvs and kernelspace are not emulated.</summary>
public enum ProxyMode { IPTables, NFTables }
