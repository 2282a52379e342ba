namespace DataPlane.Tests.IO;

/// <summary>
/// Locates the shared capture corpus. CI clones the repository with <c>shared/</c> beside it, so the corpus is
/// <c>&lt;repo&gt;/../shared/pcaps-corpus</c>; the repository root is the folder holding DataPlane.sln, found by
/// walking up from the test binaries (bin/&lt;config&gt;/&lt;tfm&gt;/ wherever the build put them). The environment
/// variable DATAPLANE_PCAPS_CORPUS overrides the search, for test builds made outside the repository.
/// </summary>
internal static class CaptureCorpus
{
    private static readonly Lazy<string> s_directory = new(Locate);

    /// <summary>Absolute path of the corpus folder.</summary>
    public static string Directory => s_directory.Value;

    /// <summary>Absolute path of one corpus file (see the corpus README.md for what each is).</summary>
    public static string File(string name) => System.IO.Path.Combine(Directory, name);

    private static string Locate()
    {
        string? overridden = Environment.GetEnvironmentVariable("DATAPLANE_PCAPS_CORPUS");
        if (!string.IsNullOrEmpty(overridden))
        {
            return System.IO.Path.GetFullPath(overridden);
        }

        string? root = FindRepositoryRoot(AppContext.BaseDirectory);
        if (root is null)
        {
            throw new InvalidOperationException($"DataPlane.sln not found above {AppContext.BaseDirectory}; cannot locate ../shared/pcaps-corpus.");
        }

        string corpus = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, "..", "shared", "pcaps-corpus"));
        if (!System.IO.Directory.Exists(corpus))
        {
            throw new InvalidOperationException($"capture corpus not found at {corpus} (expected shared/ beside the repository).");
        }

        return corpus;
    }

    private static string? FindRepositoryRoot(string start)
    {
        for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(System.IO.Path.Combine(dir.FullName, "DataPlane.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
