namespace DataPlane.Tests.Infrastructure;

/// <summary>
/// A test's scratch folder: <c>dp-&lt;purpose&gt;-&lt;random&gt;</c> under the temporary directory (<c>$TMPDIR</c>,
/// else /tmp), deleted with everything in it on <see cref="Dispose"/>. The one way tests make temporary files, so
/// every run cleans up after itself: a test holds it in a <c>using</c> or in a field its class disposes.
/// <c>TempDirTests</c> checks that no other code in the tests creates temporary folders, and <c>tests/run-all.sh</c>
/// that a whole run leaves no <c>dp-*</c> folder behind.
/// </summary>
public sealed class TempDir : IDisposable
{
    /// <summary>What every scratch folder's name starts with.</summary>
    public const string Prefix = "dp-";

    public TempDir(string purpose) => Path = Directory.CreateTempSubdirectory($"{Prefix}{purpose}-").FullName;

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    /// <summary>A path inside the folder (nothing is created).</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    public override string ToString() => Path;

    public void Dispose()
    {
        // Already gone (a test that deleted it itself) is fine; anything else (a file still open on another OS, a
        // permission) is left to fail the test, so a leak is seen where it happens.
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}
