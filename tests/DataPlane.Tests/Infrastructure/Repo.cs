namespace DataPlane.Tests.Infrastructure;

/// <summary>
/// Paths inside the repository. The one repository-root finder of the tests: the folder holding DataPlane.sln, found by
/// walking up from the test binaries (bin/&lt;config&gt;/&lt;tfm&gt;/ wherever the build put them).
/// </summary>
public static class Repo
{
    public static string Root { get; } = Find();

    static string Find()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "DataPlane.sln"))) return d.FullName;
        throw new InvalidOperationException("DataPlane.sln not found above " + AppContext.BaseDirectory);
    }

    public static string Path_(params string[] parts) => Path.Combine([Root, .. parts]);
    public static string Cluster => Path_("pcaps", "cluster");
    public static string Cases => Path_("pcaps", "cases");

    /// <summary>
    /// The capture corpus: <c>pcaps/corpus</c> in the repository (origins and licences in its README.md), or the folder
    /// named by the environment variable DATAPLANE_PCAPS_CORPUS, for test builds run against another copy.
    /// </summary>
    public static string Corpus { get; } = LocateCorpus();

    static string LocateCorpus()
    {
        string? overridden = Environment.GetEnvironmentVariable("DATAPLANE_PCAPS_CORPUS");
        return Path.GetFullPath(string.IsNullOrEmpty(overridden) ? Path_("pcaps", "corpus") : overridden);
    }
}
