namespace DataPlane.Kubernetes.Resolved;

/// <summary>Which of a service port's addresses a frontend is.</summary>
public enum FrontendKind : byte
{
    ClusterIP,
    NodePort,
    LoadBalancer,
    ExternalIP,
}
