namespace DataPlane.Kubernetes.Manifests;

/// <summary>A Service's spec.ipFamilies entry (core/v1 IPFamily): the API server accepts exactly these two names.</summary>
public enum IPFamily
{
    IPv4,
    IPv6,
}
