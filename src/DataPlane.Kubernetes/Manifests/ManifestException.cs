namespace DataPlane.Kubernetes.Manifests;

/// <summary>
/// The only exception the loader lets out for bad input. <see cref="Exception.Message"/> is one line:
/// "file: object: field.path: problem", where object is "Kind namespace/name", "Kind name" or "document N".
/// </summary>
public sealed class ManifestException : Exception
{
    internal ManifestException(string file, string? objectRef, string? fieldPath, string problem, Exception? inner = null)
        : base(Compose(file, objectRef, fieldPath, problem), inner)
    {
        FilePath = file;
        ObjectRef = objectRef;
        FieldPath = fieldPath;
        Problem = problem;
    }

    /// <summary>The file (or folder) the problem is in, as the caller spelled the path.</summary>
    public string FilePath { get; }

    /// <summary>"Service default/web", "Node node-1", "document 2", or null for file-level problems.</summary>
    public string? ObjectRef { get; }

    /// <summary>Dotted field path inside the object, e.g. "spec.ports[1].port"; null when the object as a whole is wrong.</summary>
    public string? FieldPath { get; }

    /// <summary>
    /// "kube-apiserver" (or "kube-proxy" for its configuration) when a real cluster refuses the same input, so the CLI
    /// can say so; null for problems of the file itself (YAML syntax, limits), --strict refusals and internal errors.
    /// </summary>
    public string? RefusedBy { get; internal set; }

    /// <summary>What is wrong, without the location prefix.</summary>
    public string Problem { get; }

    private static string Compose(string file, string? objectRef, string? fieldPath, string problem)
    {
        var text = file;
        if (!string.IsNullOrEmpty(objectRef))
            text += ": " + objectRef;
        if (!string.IsNullOrEmpty(fieldPath))
            text += ": " + fieldPath;
        // Keep the message on one line even when a YAML library message or a value carries newlines.
        return text + ": " + problem.ReplaceLineEndings(" ");
    }
}
