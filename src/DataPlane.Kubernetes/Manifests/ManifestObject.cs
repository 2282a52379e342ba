namespace DataPlane.Kubernetes.Manifests;

/// <summary>What every loaded object carries: identity and where it came from, for later error messages.</summary>
public abstract record ManifestObject
{
    public required string Name { get; init; }

    /// <summary>Namespace for namespaced kinds ("default" when the manifest omits it, as kubectl applies it); null for cluster-scoped kinds.</summary>
    public string? Namespace { get; init; }

    /// <summary>The file the object was read from, as the path passed to <see cref="ManifestLoader.Load"/> spelled it.</summary>
    public required string SourceFile { get; init; }

    /// <summary>1-based YAML document index in <see cref="SourceFile"/>.</summary>
    public int Document { get; init; }

    /// <summary>metadata.creationTimestamp when written (a dump), else null: the object is created when applied.</summary>
    public DateTimeOffset? CreationTimestamp { get; init; }

    /// <summary>"namespace/name" or "name", the way Kubernetes tools print object keys.</summary>
    public string Key => Namespace is null ? Name : $"{Namespace}/{Name}";
}
