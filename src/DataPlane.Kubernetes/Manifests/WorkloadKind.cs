namespace DataPlane.Kubernetes.Manifests;

/// <summary>The controllers that make Pods from a pod template.</summary>
public enum WorkloadKind
{
    Deployment,
    ReplicaSet,
    ReplicationController,
    StatefulSet,
    DaemonSet,
}
