using System.Diagnostics;
using DataPlane.IO.Live;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Tests.Dns;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Kubernetes;

/// <summary>
/// Issue 18 item 1, the reload half: a reload still running when the next SIGHUP or SIGTERM comes is abandoned
/// cooperatively. A token runs through the control plane's resolve and compile; an abandoned reload throws
/// <see cref="OperationCanceledException"/> (not a manifest error), publishes nothing and leaves the generation as it
/// was; the reload thread starts the newer reload at once and lets shutdown go without waiting for the old one.
/// </summary>
public class ReloadCancellationTests
{
    [Fact]
    public void A_cancelled_resolve_is_abandoned_not_a_manifest_error()
    {
        ClusterManifests m = WorkloadExpansionTests.Load(HeadlessZoneScaleTests.Manifest);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.Throws<OperationCanceledException>(() => ResolvedCluster.Resolve(m, cancel: cancel.Token));
        // Through the control plane's exception boundary too, when the caller's token asked for it: not wrapped as an
        // "internal error" of the manifests. A cancellation nobody asked for still is.
        Assert.Throws<OperationCanceledException>(() => ControlPlane.Boundary<int>(() => throw new OperationCanceledException(cancel.Token), cancel.Token));
        Assert.IsType<OperationCanceledException>(Assert.Throws<ManifestException>(
            () => ControlPlane.Boundary<int>(() => throw new OperationCanceledException(), CancellationToken.None)).InnerException);
    }

    /// <summary>
    /// The reload is abandoned in the middle of its resolve: the cancellation comes from the controller's own warning
    /// about a pod of the new manifests (a pod on a node that does not exist), so it lands while the endpoints controller
    /// and the DNS zone compiler still have loops to run, however fast the machine. (A timer of 200 ms, as this test
    /// had, let a quiet machine finish the whole reload first: CI failed on it once in a few runs.)
    /// </summary>
    [Fact]
    public void A_reload_cancelled_midway_publishes_nothing_and_the_next_one_works()
    {
        using var dir = new ManifestDirectory();
        dir.Write("cluster.yaml", TestManifests.Node1 + """
            apiVersion: v1
            kind: Service
            metadata: {name: small}
            spec: {clusterIP: 10.96.0.50, ports: [{port: 80}]}
            """);
        using var cancel = new CancellationTokenSource();
        var warnings = new List<string>();
        var cp = new ControlPlane(dir.Root, "node-1", new CompileOptions
        {
            Warn = w =>
            {
                warnings.Add(w);
                if (w.Contains("ghost", StringComparison.Ordinal)) cancel.Cancel();
            },
        });
        long before = cp.Holder.Current.Generation;

        // 60 000 pods, their slices and a 300 000-record zone, and one pod on a node nobody has: its warning cancels.
        using var bigDir = new ManifestDirectory();
        bigDir.Write("cluster.yaml", TestManifests.Node1 + HeadlessZoneScaleTests.Manifest + """

            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: ghost, labels: {app: web}}
            spec: {nodeName: ghost, containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
            status: {phase: Running, podIP: 10.250.0.1}
            """);
        Assert.Throws<OperationCanceledException>(() => cp.Reload(bigDir.Root, cancel.Token));
        Assert.Contains(warnings, w => w.Contains("ghost", StringComparison.Ordinal)); // cancelled from inside the resolve
        Assert.Equal(before, cp.Holder.Current.Generation);
        Assert.Equal([dir.Root], cp.ClusterPaths); // the path of the abandoned reload is not taken either

        // The next reload (of the original manifests) publishes the next generation, ids intact.
        Assert.Equal(before + 1, cp.Reload().Generation);
    }

    [Fact]
    public void A_newer_request_abandons_the_running_reload()
    {
        var output = new StringWriter();
        using var started = new SemaphoreSlim(0);
        int calls = 0;
        using var reloader = new Reloader(token =>
        {
            int call = Interlocked.Increment(ref calls);
            started.Release();
            if (call == 1)
            {
                // A reload that would run for a long time, checking its token as the compile's loops do.
                Assert.True(token.WaitHandle.WaitOne(TimeSpan.FromSeconds(30)), "the first reload was never abandoned");
                token.ThrowIfCancellationRequested();
            }
            return $"reloaded {call}";
        }, () => "keeping generation 1", output, TextWriter.Null);
        reloader.Request();
        Assert.True(started.Wait(TimeSpan.FromSeconds(30)));
        reloader.Request();
        WaitUntil(() => reloader.Completed == 2);
        Assert.Equal(1, reloader.Abandoned);
        Assert.Equal(0, reloader.Failed);
        Assert.Equal("dataplane: reload abandoned: a newer reload request came (keeping generation 1)\nreloaded 2\n",
            output.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Shutdown_does_not_wait_for_a_running_reload()
    {
        using var started = new SemaphoreSlim(0);
        using var reloader = new Reloader(token =>
        {
            started.Release();
            token.WaitHandle.WaitOne(TimeSpan.FromSeconds(30));
            token.ThrowIfCancellationRequested();
            return "done";
        }, () => "", TextWriter.Null, TextWriter.Null);
        reloader.Request();
        Assert.True(started.Wait(TimeSpan.FromSeconds(30)));
        var clock = Stopwatch.StartNew();
        reloader.Dispose();
        // Dispose cancels the reload and waits at most 100 ms for it; SIGTERM's 200 ms budget is what this protects
        // (before: a 2 s join on a reload that never looked at a token).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"Dispose took {clock.Elapsed}");
        WaitUntil(() => reloader.Abandoned == 1);
    }

    static void WaitUntil(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "condition not reached");
            Thread.Sleep(5);
        }
    }
}
