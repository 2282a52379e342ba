namespace DataPlane.Tests.Kubernetes;

/// <summary>A throwaway folder of manifest files for one test; deleted on dispose.</summary>
internal sealed class ManifestDirectory : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "dataplane-manifests-" + Guid.NewGuid().ToString("N"));

    public ManifestDirectory() => Directory.CreateDirectory(Root);

    /// <summary>Writes <paramref name="content"/> at a path relative to <see cref="Root"/> and returns the full path.</summary>
    public string Write(string relative, string content)
    {
        var path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder must not fail a test.
        }
    }
}
