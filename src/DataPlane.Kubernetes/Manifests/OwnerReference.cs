namespace DataPlane.Kubernetes.Manifests;

/// <summary>One metadata.ownerReferences entry: who made this object (the garbage collector's and controllers' link).</summary>
public readonly record struct OwnerReference(string Kind, string Name, bool Controller);
