namespace DataPlane.Kubernetes.Manifests;

/// <summary>
/// spec.ipFamilyPolicy (core/v1 IPFamilyPolicy). Unset on create it becomes SingleStack, except for a headless service
/// without a selector, which becomes RequireDualStack (kube-apiserver <c>initIPFamilyFields</c>,
/// pkg/registry/core/service/storage/alloc.go).
/// </summary>
public enum IPFamilyPolicy
{
    SingleStack,
    PreferDualStack,
    RequireDualStack,
}
