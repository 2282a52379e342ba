namespace DataPlane.Kubernetes.Manifests;

/// <summary>core/v1 ServiceExternalTrafficPolicy / ServiceInternalTrafficPolicy: Cluster = any ready endpoint, Local = endpoints on this node only.</summary>
public enum TrafficPolicy { Cluster, Local }
