namespace DataPlane.Kubernetes.Manifests;

/// <summary>A pod's spec.dnsConfig: merged by the kubelet into the resolv.conf its dnsPolicy produces.</summary>
public sealed record PodDnsConfig
{
    public IReadOnlyList<string> Nameservers { get; init; } = [];
    public IReadOnlyList<string> Searches { get; init; } = [];
    /// <summary>options[]: name and optional value (<c>ndots</c> "2").</summary>
    public IReadOnlyList<(string Name, string? Value)> Options { get; init; } = [];
}
