using DataPlane.Packets;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>How <see cref="ManifestLoader"/> reads: the CLI's --strict, --service-cidr, -n and what "-" (stdin) holds.</summary>
public sealed record LoadOptions
{
    /// <summary>
    /// --strict: objects of kinds DataPlane does not model, and unknown fields, are errors (kubectl apply
    /// --validate=strict for the fields); otherwise they are skipped with a warning.
    /// </summary>
    public bool Strict { get; init; }

    /// <summary>--service-cidr: the service ranges when the manifests hold no ServiceCIDR object.</summary>
    public IReadOnlyList<Cidr4> ServiceCidrs { get; init; } = [];

    /// <summary>--service-cidr's IPv6 range (kube-apiserver takes one per family, the first given being the primary).</summary>
    public IReadOnlyList<Cidr6> ServiceCidrs6 { get; init; } = [];

    /// <summary>The family of the first --service-cidr: the cluster's primary family (IPv4 when none is given).</summary>
    public IPFamily ServiceCidrPrimary { get; init; }

    /// <summary>
    /// kubectl's -n/--namespace: objects of namespaced kinds without metadata.namespace go there (<c>kubectl apply -n
    /// argocd -f install.yaml</c>), and one naming another namespace is kubectl's error. Null: "default", and objects
    /// keep the namespaces they name.
    /// </summary>
    public string? Namespace { get; init; }

    /// <summary>The bytes a path "-" stands for (standard input, read once by the caller so reloads see the same text).</summary>
    public byte[]? Stdin { get; init; }

    /// <summary>The name stdin gets in messages.</summary>
    public const string StdinName = "<stdin>";
}
