namespace DataPlane.Kubernetes.Manifests;

/// <summary>
/// A Deployment, ReplicaSet, ReplicationController, StatefulSet or DaemonSet: an object whose controller makes Pods
/// from <see cref="Template"/>.
/// </summary>
public sealed record Workload : ManifestObject
{
    public WorkloadKind Kind { get; init; }

    /// <summary>spec.replicas, 1 when absent (the API server's default); meaningless for a DaemonSet.</summary>
    public int Replicas { get; init; } = 1;

    /// <summary>StatefulSet spec.serviceName: the governing headless service, the pods' subdomain.</summary>
    public string? ServiceName { get; init; }

    public required PodTemplate Template { get; init; }

    public IReadOnlyList<OwnerReference> OwnerReferences { get; init; } = [];
}
