namespace DataPlane.Kubernetes.Manifests;

/// <summary>A Node's spec.taints entry. Effect is NoSchedule, PreferNoSchedule or NoExecute.</summary>
public readonly record struct Taint(string Key, string? Value, string Effect);
