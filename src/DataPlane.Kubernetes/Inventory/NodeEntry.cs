namespace DataPlane.Kubernetes.Inventory;

/// <summary>A node as <c>kubectl get nodes -o wide</c> shows it. <see cref="Addresses"/>: IPv4 InternalIPs then ExternalIPs.</summary>
public sealed record NodeEntry(string Name, IReadOnlyList<string> InternalIPs, IReadOnlyList<string> ExternalIPs, string? PodCIDR, bool Unschedulable, bool Emulated)
{
    /// <summary>spec.podCIDRs: the IPv4 range then, on a dual-stack node, the IPv6 one.</summary>
    public IReadOnlyList<string> PodCIDRs { get; init; } = [];

    public IReadOnlyList<string> Addresses => [.. InternalIPs, .. ExternalIPs];
}
