namespace DataPlane.Tests.Infrastructure;

/// <summary>Paths inside the repository (found by walking up to DataPlane.sln), and shared/ beside it.</summary>
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
    public static string Corpus => Path.GetFullPath(Path.Combine(Root, "..", "shared", "pcaps-corpus"));
}
