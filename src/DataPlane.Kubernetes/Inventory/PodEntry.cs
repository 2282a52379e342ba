namespace DataPlane.Kubernetes.Inventory;

/// <summary>A pod as <c>kubectl get pods -o wide</c> shows it; <see cref="Owner"/> is "Kind/name" of its controller.</summary>
public sealed record PodEntry(string Namespace, string Name, string? IP, string? Node, bool Ready, string Phase, string? Owner, string? Hostname, string? Subdomain, bool Emulated)
{
    /// <summary>status.podIPs: the IPv4 address then, for a dual-stack pod, the IPv6 one.</summary>
    public IReadOnlyList<string> IPs { get; init; } = [];
}
