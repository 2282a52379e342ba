namespace DataPlane.Kubernetes.Manifests;

/// <summary>core/v1 ServiceType; each value includes the ones before it (a LoadBalancer is also a NodePort and a ClusterIP service).</summary>
public enum ServiceType { ClusterIP, NodePort, LoadBalancer, ExternalName }
