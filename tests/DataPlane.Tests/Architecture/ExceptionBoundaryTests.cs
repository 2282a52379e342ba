using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using DataPlane.IO.Reload;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Architecture;

/// <summary>
/// One definition of "fatal" (<see cref="Fatal.Is"/>) for every exception boundary: the list is pinned here, the
/// boundaries are checked to let through exactly that list, and the sources to have no catch-all with a list of its own.
/// </summary>
public partial class ExceptionBoundaryTests
{
#pragma warning disable CA2201 // the runtime's own exceptions are exactly what the list is about: made here, thrown below
    /// <summary>What no boundary may swallow: the process is unsound after them, or the thread was asked to stop.</summary>
    static readonly Exception[] s_fatal =
    [
        new OutOfMemoryException(), new InsufficientMemoryException(), new StackOverflowException(),
        new AccessViolationException(), new SEHException(), new ThreadInterruptedException(),
    ];

    /// <summary>Failures a boundary turns into one line (bugs and limits included: the last good state stays).</summary>
    static readonly Exception[] s_recoverable =
    [
        new ManifestException("f.yaml", null, null, "bad"), new InvalidOperationException(), new InsufficientExecutionStackException(),
        new NullReferenceException(), new IndexOutOfRangeException(), new ArgumentException(), new OverflowException(),
        new KeyNotFoundException(), new FormatException(), new IOException(), new UnauthorizedAccessException(),
        new NotSupportedException(), new ObjectDisposedException("x"), new OperationCanceledException(),
    ];
#pragma warning restore CA2201

    [Fact]
    public void The_fatal_list_is_pinned()
    {
        Assert.All(s_fatal, e => Assert.True(Fatal.Is(e), e.GetType().Name));
        Assert.All(s_recoverable, e => Assert.False(Fatal.Is(e), e.GetType().Name));
    }

    [Fact]
    public void The_reload_boundary_and_the_control_plane_boundary_let_through_exactly_the_fatal_ones()
    {
        foreach (Exception e in s_fatal)
        {
            Assert.Same(e, Assert.ThrowsAny<Exception>(() => ReloadBoundary.Try(() => throw e)));
            Assert.Same(e, Assert.ThrowsAny<Exception>(() => ControlPlane.Boundary<int>(() => throw e)));
        }
        foreach (Exception e in s_recoverable)
        {
            Assert.NotNull(ReloadBoundary.Try(() => throw e));
            // The control plane lets out only ManifestException: its own as it is, anything else wrapped.
            var m = Assert.Throws<ManifestException>(() => ControlPlane.Boundary<int>(() => throw e));
            Assert.True(e is ManifestException ? ReferenceEquals(m, e) : ReferenceEquals(m.InnerException, e), e.GetType().Name);
        }
    }

    /// <summary>
    /// Files allowed a catch-all without <see cref="Fatal.Is"/>: they carry an exception to another thread and rethrow
    /// it there as it was (a thread with a bigger stack, a thread inside another network namespace).
    /// </summary>
    static readonly string[] s_transports = ["src/DataPlane.IO/Reload/ReloadBoundary.cs", "src/DataPlane.IO/Tap/TapDevice.cs"];

    [GeneratedRegex(@"catch\s*\(\s*(System\.)?Exception\b[^)]*\)(?<filter>\s*when\s*\((?<cond>.*)\))?")]
    private static partial Regex CatchAll();

    [Fact]
    public void Every_catch_all_in_src_uses_the_shared_fatal_list()
    {
        var offenders = new List<string>();
        foreach (string file in Directory.EnumerateFiles(Repo.Path_("src"), "*.cs", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(Repo.Root, file).Replace('\\', '/');
            if (rel.Contains("/obj/") || rel.Contains("/bin/")) continue;
            string[] lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                Match m = CatchAll().Match(lines[i]);
                if (!m.Success) continue;
                string cond = m.Groups["cond"].Value;
                // A filter that names what it catches (`when (e is SocketException or IOException)`) is no catch-all.
                bool narrow = cond.Length > 0 && !cond.Contains("not", StringComparison.Ordinal) && !cond.Contains('!', StringComparison.Ordinal);
                bool shared = cond.Contains("Fatal.Is(", StringComparison.Ordinal);
                bool transport = cond.Length == 0 && s_transports.Contains(rel);
                if (!(narrow || shared || transport)) offenders.Add($"{rel}:{i + 1}: {lines[i].Trim()}");
            }
        }
        Assert.True(offenders.Count == 0, "a catch-all must let Fatal.Is(e) through (src/DataPlane/Fatal.cs):\n" + string.Join("\n", offenders));
    }
}
