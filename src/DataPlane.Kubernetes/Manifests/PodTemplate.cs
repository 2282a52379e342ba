namespace DataPlane.Kubernetes.Manifests;

/// <summary>
/// A workload's spec.template: what every Pod it makes starts from, as much as scheduling, the endpoints controller
/// and DNS need.
/// </summary>
public sealed record PodTemplate
{
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<ContainerPort> ContainerPorts { get; init; } = [];
    public string? NodeName { get; init; }
    public IReadOnlyDictionary<string, string> NodeSelector { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<Toleration> Tolerations { get; init; } = [];
    public string? Hostname { get; init; }
    public string? Subdomain { get; init; }
    public bool HostNetwork { get; init; }

    /// <summary>spec.enableServiceLinks (default true): whether the kubelet puts the namespace's services in the environment.</summary>
    public bool EnableServiceLinks { get; init; } = true;

    /// <summary>
    /// The template written out canonically (mapping keys sorted, the <see cref="Pod.ReadyAnnotation"/> left out), the
    /// input of the pod-template-hash.
    /// </summary>
    public string Canonical { get; init; } = "";
}
