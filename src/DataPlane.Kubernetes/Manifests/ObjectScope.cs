namespace DataPlane.Kubernetes.Manifests;

/// <summary>Where the loader is: file, document, list item and, once read, the object's kind and name. Builds error messages.</summary>
internal sealed class ObjectScope(string file, int document, string? itemPath)
{
    public string File { get; } = file;

    /// <summary>1-based index of the YAML document in the file.</summary>
    public int Document { get; } = document;

    /// <summary>
    /// "items[3]" for an object inside a kind: List ("items[1].items[0]" in a nested one), otherwise null. Composed
    /// from <see cref="ListScope"/> only when a message needs it, so deeply nested lists cost no path strings.
    /// </summary>
    public string? ItemPath
    {
        get
        {
            if (ListScope is null)
                return itemPath;
            var parts = new List<string>();
            for (var s = this; s is not null; s = s.ListScope)
                if (s.OwnItemPath is { } p) parts.Add(p);
            parts.Reverse();
            return string.Join(".", parts);
        }
    }

    /// <summary>This scope's own step: the item's path inside the list that holds it.</summary>
    private string? OwnItemPath => itemPath;

    /// <summary>Whether the object is an item of a list (without composing <see cref="ItemPath"/>).</summary>
    public bool IsListItem => itemPath is not null;

    /// <summary>The scope of the list this item is in, when that list is itself an item of a list.</summary>
    public ObjectScope? ListScope { get; init; }

    /// <summary>
    /// The namespace an object without metadata.namespace goes to: kubectl's -n, else the context's "default".
    /// </summary>
    public string DefaultNamespace { get; init; } = "default";

    /// <summary>
    /// For an item of a typed list (ServiceList): the kind and apiVersion it takes when it names neither, as the API
    /// server returns them (apimachinery unstructured <c>decodeToList</c> sets them from the list's).
    /// </summary>
    public string? InheritedKind { get; init; }

    /// <inheritdoc cref="InheritedKind"/>
    public string? InheritedApiVersion { get; init; }

    public string? Kind { get; set; }

    /// <summary>The object's apiVersion once read (a typed list's item may inherit it).</summary>
    public string? ApiVersion { get; set; }
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
        // The kube-proxy ConfigMap's embedded configuration is kube-proxy's to refuse; the ConfigMap itself (its name, its
        // namespace) is the API server's, like any other object.
        RefusedBy = Kind is null ? null
            : Kind is "KubeProxyConfiguration" || (Kind is "ConfigMap" && fieldPath.StartsWith("data[config.conf]", StringComparison.Ordinal)) ? "kube-proxy"
            : "kube-apiserver",
    };
}
