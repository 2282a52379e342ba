using DataPlane.IO.Live;
using DataPlane.IO.Reload;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Live;

/// <summary>
/// The one exception boundary around loading new manifests (SIGHUP reload, <c>replay --apply-at</c>, start-up):
/// any non-fatal failure becomes one line and the last good generation stays; reload requests coalesce.
/// </summary>
public sealed class ReloadBoundaryTests : IDisposable
{
    readonly TempDir _tmp = new("reload");

    public void Dispose()
    {
        _tmp.Dispose();
    }

    [Fact]
    public void Boundary_turns_any_non_fatal_failure_into_one_line()
    {
        Assert.Null(ReloadBoundary.Try(() => { }));
        // A manifest error is already the one line users read: its message, nothing added.
        string bad = Path.Combine(_tmp.Path, "garbage.yaml");
        File.WriteAllText(bad, HostileManifests.Garbage);
        var expected = Assert.Throws<ManifestException>(() => ManifestLoader.Load(bad));
        Assert.Equal(expected.Message.ReplaceLineEndings(" ").Trim(), ReloadBoundary.Try(() => ManifestLoader.Load(bad)));
        Assert.Equal("duplicate frontend 203.0.113.50:80/tcp (InvalidOperationException)",
            ReloadBoundary.Try(() => throw new InvalidOperationException("duplicate frontend\n203.0.113.50:80/tcp")));
        Assert.Contains("(InsufficientExecutionStackException)", ReloadBoundary.Try(() => throw new InsufficientExecutionStackException()));
#pragma warning disable CA2201 // the boundary is about exactly these runtime exceptions: thrown here as a failing reload would
        Assert.Contains("(NullReferenceException)", ReloadBoundary.Try(() => throw new NullReferenceException()));
        // A process that ran out of memory is not one to keep serving from.
        Assert.Throws<OutOfMemoryException>(() => ReloadBoundary.Try(() => throw new OutOfMemoryException()));
#pragma warning restore CA2201
    }

    [Fact]
    public void A_failed_reload_is_one_line_and_the_next_one_succeeds()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int call = 0;
        using var reloader = new Reloader(
            () => ++call == 1 ? throw new InvalidOperationException("duplicate frontend 203.0.113.50:80/tcp") : "reloaded: generation 2",
            () => "keeping generation 1", output, error);
        reloader.Request();
        WaitUntil(() => reloader.Completed == 1);
        reloader.Request();
        WaitUntil(() => reloader.Completed == 2);
        Assert.Equal(1, reloader.Failed);
        Assert.Equal("dataplane: error: reload: duplicate frontend 203.0.113.50:80/tcp (InvalidOperationException) (keeping generation 1)\n",
            error.ToString().ReplaceLineEndings("\n"));
        Assert.Equal("reloaded: generation 2\n", output.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_storm_of_requests_during_a_reload_coalesces_into_one_more_reload()
    {
        using var entered = new SemaphoreSlim(0);
        using var gate = new ManualResetEventSlim(false);
        int calls = 0;
        using var reloader = new Reloader(() =>
        {
            Interlocked.Increment(ref calls);
            entered.Release();
            gate.Wait();
            return "ok";
        }, () => "", TextWriter.Null, TextWriter.Null);
        reloader.Request();
        Assert.True(entered.Wait(TimeSpan.FromSeconds(30)), "first reload did not start");
        for (int i = 0; i < 1000; i++) reloader.Request(); // all while the first one runs
        gate.Set();
        WaitUntil(() => reloader.Completed == 2);
        Assert.Equal(2, Volatile.Read(ref calls));
        reloader.Request(); // a later request is a later reload
        WaitUntil(() => reloader.Completed == 3);
        Assert.Equal(3, Volatile.Read(ref calls));
    }

    [Fact]
    public void Run_start_up_with_manifests_a_real_cluster_refuses_is_one_line()
    {
        string dir = Path.Combine(_tmp.Path, "cluster");
        Directory.CreateDirectory(dir);
        foreach (string f in Directory.GetFiles(Repo.Cluster)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        File.WriteAllText(Path.Combine(dir, "bad.yaml"), HostileManifests.InvalidName);
        // The manifests are loaded before the TAP is opened, so no device or root is needed to see the error.
        string line = CliTests.AssertOneLineError(CliTests.Run("run", "--tap", "dpnx0", "--cluster", dir, "--node", "node-1",
            "--control", Path.Combine(_tmp.Path, "c.sock")));
        Assert.Contains("Not_A_Label", line);
    }

    [Fact]
    public void Replay_apply_at_of_manifests_a_real_cluster_refuses_keeps_the_generation_and_finishes()
    {
        string bad = Path.Combine(_tmp.Path, "bad.yaml");
        File.WriteAllText(bad, HostileManifests.InvalidName);
        var r = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1",
            Repo.Path_("pcaps", "cases", "001-clusterip-tcp", "input.pcap"), "-q", "--apply-at", $"0={bad}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(string.Empty, r.Stderr);
        Assert.Contains($"+0s apply {bad}, first met by frame 1 (+0s): rejected, keeping generation 1: ", r.Stdout);
        Assert.Contains("Not_A_Label", r.Stdout);
        Assert.Contains("8 frames", r.Stdout);
    }

    [Fact]
    public void Replay_apply_at_of_a_deeply_nested_document_finishes()
    {
        // 25 000 nested flow sequences in an 50 KB line: parsed on the deep reload stack or refused with one line, but
        // the replay itself always finishes (a stack overflow would end it with exit 134).
        string deep = Path.Combine(_tmp.Path, "deep.yaml");
        File.WriteAllText(deep, HostileManifests.Deep(25_000));
        var r = CliTests.Run("replay", "--cluster", Repo.Cluster, "--node", "node-1",
            Repo.Path_("pcaps", "cases", "001-clusterip-tcp", "input.pcap"), "-q", "--apply-at", $"0={deep}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"+0s apply {deep}, first met by frame 1 (+0s): ", r.Stdout);
        Assert.Contains("8 frames", r.Stdout);
    }

    static void WaitUntil(Func<bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "condition not reached");
            Thread.Sleep(5);
        }
    }
}
