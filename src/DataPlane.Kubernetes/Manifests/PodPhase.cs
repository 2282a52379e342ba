namespace DataPlane.Kubernetes.Manifests;

/// <summary>core/v1 PodPhase.</summary>
public enum PodPhase { Pending, Running, Succeeded, Failed, Unknown }
