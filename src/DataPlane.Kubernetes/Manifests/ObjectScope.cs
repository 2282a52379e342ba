namespace DataPlane.Kubernetes.Manifests;

/// <summary>Where the loader is: file, document, list item and, once read, the object's kind and name. Builds error messages.</summary>
internal sealed class ObjectScope(string file, int document, string? itemPath)
{
    public string File { get; } = file;

    /// <summary>1-based index of the YAML document in the file.</summary>
    public int Document { get; } = document;

    /// <summary>"items[3]" for an object inside a kind: List, otherwise null.</summary>
    public string? ItemPath { get; } = itemPath;

    public string? Kind { get; set; }
    public string? Namespace { get; set; }
    public string? Name { get; set; }

    public string Label =>
        Name is not null ? (Namespace is null ? $"{Kind} {Name}" : $"{Kind} {Namespace}/{Name}")
        : Kind is not null ? $"{Kind} in {Where}"
        : Where;

    private string Where => ItemPath is null ? $"document {Document}" : $"document {Document} {ItemPath}";

    /// <summary>A validation error of this object: what the API server (kube-proxy, for its configuration) refuses too.</summary>
    public ManifestException Error(string fieldPath, string problem) => new(File, Label, fieldPath, problem)
    {
        RefusedBy = Kind is null ? null : Kind is "KubeProxyConfiguration" or "ConfigMap" ? "kube-proxy" : "kube-apiserver",
    };
}
