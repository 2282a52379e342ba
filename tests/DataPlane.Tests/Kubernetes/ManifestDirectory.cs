using DataPlane.Tests.Infrastructure;
namespace DataPlane.Tests.Kubernetes;

/// <summary>A throwaway folder of manifest files for one test; deleted on dispose.</summary>
internal sealed class ManifestDirectory : IDisposable
{
    readonly TempDir _dir = new("manifests");

    public string Root => _dir.Path;

    /// <summary>Writes <paramref name="content"/> at a path relative to <see cref="Root"/> and returns the full path.</summary>
    public string Write(string relative, string content)
    {
        var path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose() => _dir.Dispose();
}
