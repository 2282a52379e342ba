namespace DataPlane.Tests.Infrastructure;

/// <summary>
/// Test runs clean up after themselves: <see cref="TempDir"/> deletes what it made, and it is the only code in the
/// tests that makes temporary folders (every other creator would be one more folder left in /tmp per run).
/// </summary>
public class TempDirTests
{
    [Fact]
    public void Dispose_deletes_the_folder_and_everything_in_it()
    {
        string path;
        using (var d = new TempDir("selftest"))
        {
            path = d.Path;
            Assert.StartsWith(TempDir.Prefix + "selftest-", Path.GetFileName(path));
            Assert.Equal(Path.GetFullPath(Path.GetTempPath()), Path.GetFullPath(Path.GetDirectoryName(path)! + Path.DirectorySeparatorChar));
            Directory.CreateDirectory(d.File("sub"));
            File.WriteAllText(Path.Combine(d.File("sub"), "x.yaml"), "x");
        }
        Assert.False(Directory.Exists(path));
    }

    [Fact]
    public void Disposing_twice_or_after_the_test_deleted_it_is_fine()
    {
        var d = new TempDir("selftest");
        Directory.Delete(d.Path);
        d.Dispose();
        d.Dispose();
    }

    /// <summary>Calls that make temporary files or folders outside <see cref="TempDir"/>, which nothing would delete.</summary>
    static readonly string[] Creators = ["CreateTempSubdirectory(", "GetTempPath(", "GetTempFileName(", "\"/tmp"];

    [Fact]
    public void No_test_makes_temporary_files_except_through_TempDir()
    {
        string root = Repo.Path_("tests", "DataPlane.Tests");
        string self = Path.Combine(root, "Infrastructure", "TempDir.cs"), thisFile = Path.Combine(root, "Infrastructure", "TempDirTests.cs");
        var offenders = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Where(f => f != self && f != thisFile)
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(x => Creators.Any(c => x.line.Contains(c, StringComparison.Ordinal)))
            .Select(x => $"{Path.GetRelativePath(Repo.Root, x.f)}:{x.i + 1}: {x.line.Trim()}")
            .ToArray();
        Assert.True(offenders.Length == 0, "use TempDir (tests/DataPlane.Tests/Infrastructure/TempDir.cs) instead:\n" + string.Join("\n", offenders));
    }
}
