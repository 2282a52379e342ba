using DataPlane.Packets;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>How <see cref="ManifestLoader"/> reads: the CLI's --strict, --service-cidr and what "-" (stdin) holds.</summary>
public sealed record LoadOptions
{
    /// <summary>
    /// --strict: objects of kinds DataPlane does not model, and unknown fields, are errors (kubectl apply
    /// --validate=strict for the fields); otherwise they are skipped with a warning.
    /// </summary>
    public bool Strict { get; init; }

    /// <summary>--service-cidr: the service ranges when the manifests hold no ServiceCIDR object.</summary>
    public IReadOnlyList<Cidr4> ServiceCidrs { get; init; } = [];

    /// <summary>The bytes a path "-" stands for (standard input, read once by the caller so reloads see the same text).</summary>
    public byte[]? Stdin { get; init; }

    /// <summary>The name stdin gets in messages.</summary>
    public const string StdinName = "<stdin>";
}
