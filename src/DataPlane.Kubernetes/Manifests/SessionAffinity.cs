namespace DataPlane.Kubernetes.Manifests;

/// <summary>core/v1 ServiceAffinity.</summary>
public enum SessionAffinity { None, ClientIP }
