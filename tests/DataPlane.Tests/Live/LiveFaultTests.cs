using System.Net.Sockets;
using System.Text;
using DataPlane.IO.Live;
using DataPlane.Tests.Cli;

namespace DataPlane.Tests.Live;

/// <summary>
/// <c>dataplane run</c> under the faults an operator meets: broken and hostile reloads, reload storms, SIGHUP under
/// nohup, idle and excess control clients, the TAP deleted, the namespace removed, <c>kill -9</c> and a restart. Each
/// must leave either a data plane serving its last good configuration or a clean exit (one line, non-zero) — never a
/// wedged process or a stack trace.
/// </summary>
public sealed class LiveFaultTests : IDisposable
{
    readonly LiveRun _run = new();

    public void Dispose() => _run.Dispose();

    [RootTapFact]
    public void Broken_and_hostile_reloads_keep_the_last_good_generation_and_say_so_in_one_line()
    {
        _run.Start();
        Assert.Equal(1, _run.Generation());
        int errors = 0;
        foreach (var (name, text) in HostileManifests.All())
        {
            string file = Path.Combine(_run.Cluster, name);
            File.WriteAllText(file, text);
            long before = _run.Generation();
            int ok = _run.Count("dataplane: reloaded", stderr: false);
            _run.Signal("HUP");
            _run.WaitFor(() => _run.Count("dataplane: error: reload:", stderr: true) > errors || _run.Count("dataplane: reloaded", stderr: false) > ok,
                $"the reload of {name} to finish");
            Assert.False(_run.Process!.HasExited, $"{name} killed the data plane\n{_run.Log}");
            if (_run.Count("dataplane: error: reload:", stderr: true) > errors)
            {
                errors++;
                Assert.Equal(before, _run.Generation()); // the last good generation stays
                string line = _run.Stderr.Split('\n').Last(l => l.Contains("reload:"));
                Assert.Contains($"keeping generation {before}", line);
                Assert.DoesNotContain("   at ", _run.Stderr);
            }
            else Assert.Equal(before + 1, _run.Generation()); // accepted (what a real cluster accepts)
            File.Delete(file);
        }
        // Every one of these is refused by at least the API server's rules or the single-frontend rule.
        Assert.True(errors >= 3, _run.Log);
        // And a good reload afterwards still works.
        long last = _run.Generation();
        _run.Signal("HUP");
        _run.WaitFor(() => _run.Generation() == last + 1, "a good reload after the bad ones");
        _run.Signal("TERM");
        Assert.Equal(0, _run.WaitForExit());
        Assert.False(File.Exists(_run.Control), "control socket left behind");
    }

    /// <summary>
    /// Three nodes with /16 podCIDRs and a Deployment of 2 000 000 000 replicas: the reload makes the 150 000 pods the
    /// cluster holds, their EndpointSlices and their zone — seconds of work, so the signals below arrive while it runs.
    /// </summary>
    static string HugeReload => string.Concat(Enumerable.Range(0, 3).Select(i => $$"""
        apiVersion: v1
        kind: Node
        metadata: {name: big-{{i}}}
        spec: {podCIDR: 10.{{100 + i}}.0.0/16}
        status: {addresses: [{type: InternalIP, address: 192.168.0.{{20 + i}}}]}
        ---

        """)) + """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: huge}
        spec:
          replicas: 2000000000
          selector: {matchLabels: {app: huge}}
          template:
            metadata: {labels: {app: huge}}
            spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: huge}
        spec: {clusterIP: None, selector: {app: huge}, ports: [{name: http, port: 80, targetPort: http}]}
        """;

    [RootTapFact]
    public void A_huge_reload_is_abandoned_for_a_newer_sighup_and_sigterm_does_not_wait_for_it()
    {
        _run.Start();
        string huge = Path.Combine(_run.Cluster, "huge.yaml");
        File.WriteAllText(huge, HugeReload);
        _run.Signal("HUP");
        Thread.Sleep(300); // the huge reload is under way
        // The operator takes the change back and reloads again: the running reload is abandoned, the newer one
        // publishes the next generation without waiting for it.
        File.Delete(huge);
        _run.Signal("HUP");
        _run.WaitFor(() => _run.Stdout.Contains("dataplane: reload abandoned: a newer reload request came (keeping generation 1)")
                           && _run.Stdout.Contains("maps generation 2"), "the newer reload");
        Assert.Equal(2, _run.Generation());

        File.WriteAllText(huge, HugeReload);
        _run.Signal("HUP");
        Thread.Sleep(300);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        _run.Signal("TERM");
        Assert.Equal(0, _run.WaitForExit());
        // The README's promise is 200 ms; the bound here leaves room for a loaded test machine while still failing
        // the old behaviour (a 2 s join on a reload that never looked at a token, 4.1 s in the report).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"SIGTERM took {clock.Elapsed.TotalMilliseconds:0} ms\n{_run.Log}");
        Assert.Contains("dataplane: stopped", _run.Stdout);
        Assert.DoesNotContain("   at ", _run.Stderr);
    }

    [RootTapFact]
    public void A_reload_storm_coalesces_and_leaves_a_serving_data_plane()
    {
        _run.Start();
        const int signals = 200;
        for (int i = 0; i < signals; i++) _run.Signal("HUP");
        // Every signal sent before a reload started is covered by it: the storm ends with the data plane on a
        // generation newer than before it, having done at most one reload per signal, and serving.
        _run.WaitFor(() => _run.Generation() >= 2, "a reload after the storm");
        long g1 = _run.Generation();
        Thread.Sleep(500);
        long g2 = _run.Generation();
        Assert.InRange(g2, g1, 1 + signals);
        Assert.Equal(string.Empty, _run.Stderr);
        _run.Signal("TERM");
        Assert.Equal(0, _run.WaitForExit());
    }

    [RootTapFact]
    public void Sighup_reloads_when_started_under_nohup()
    {
        // nohup execs the data plane with SIGHUP ignored; the reload signal must still work.
        _run.Start(wrapper: "/usr/bin/nohup");
        _run.Signal("HUP");
        _run.WaitFor(() => _run.Stdout.Contains("dataplane: reloaded"), "a reload under nohup");
        Assert.Equal(2, _run.Generation());
        _run.Signal("TERM");
        Assert.Equal(0, _run.WaitForExit());
    }

    [RootTapFact]
    public void Silent_control_clients_never_lock_out_a_real_one()
    {
        // Issue 18 item 12: 33 silent clients (one more than the answer limit) used to lock every real client out
        // ("error: busy" for 70 of 70 requests). Silent connections cost no answer slot now: with 100 of them
        // connected, and then with more than the server keeps pending, counters is answered every time.
        _run.Start();
        var idle = new List<Socket>();
        try
        {
            var opened = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; i < 100; i++) idle.Add(_run.Idle());
            // Asked in-process, within the silent clients' 2 s request deadline: they are all still holding on, and
            // the old server had given its 32 slots to the first 32 of them.
            for (int i = 0; i < 5; i++)
            {
                string answer = Request("counters");
                Assert.DoesNotContain("busy", answer);
                Assert.Contains("frames", answer);
            }
            if (opened.Elapsed < ControlServer.RequestTimeout / 2)
                foreach (Socket s in idle) Assert.False(s.Poll(0, SelectMode.SelectRead), "a silent client was cut off before its deadline with room to spare");

            // Past the pending bound the longest-waiting silent connections are closed to make room: a real client
            // still gets in, and the first of the silent ones see end of stream.
            for (int i = idle.Count; i < ControlServer.MaxPending + 20; i++) idle.Add(_run.Idle());
            Assert.DoesNotContain("busy", Request("counters"));
            var buf = new byte[256];
            idle[0].ReceiveTimeout = (int)LiveRun.Deadline.TotalMilliseconds;
            Assert.Equal(0, idle[0].Receive(buf));

            // Silent clients are cut off by their request deadline.
            Socket last = idle[^1];
            last.ReceiveTimeout = (int)LiveRun.Deadline.TotalMilliseconds;
            Assert.Equal(0, last.Receive(buf));
            Assert.Equal(0, _run.Counters().ExitCode);
        }
        finally
        {
            foreach (Socket s in idle) s.Dispose();
        }
    }

    [RootTapFact]
    public void Counters_sampled_under_traffic_are_never_torn()
    {
        // Two workers counting malformed frames (every one a drop with a named reason) while a sampler reads
        // `counters` as fast as it can: in every sample the drop total is the sum of the drop reasons.
        _run.Start(workers: 2);
        var sender = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ip")
        {
            ArgumentList = { "netns", "exec", _run.Namespace, LiveTapEndToEndTests.Python,
                             Infrastructure.Repo.Path_("tests", "DataPlane.Tests", "Live", "raw-frames.py"), _run.Tap, "60000", "3" },
            UseShellExecute = false, RedirectStandardError = true,
        })!;
        int samples = 0, midway = 0;
        long lastDrops = 0;
        while (true)
        {
            bool done = sender.HasExited;
            string text = Request("counters");
            var drop = System.Text.RegularExpressions.Regex.Match(text, @"verdicts:.* drop=(\d+)");
            Assert.True(drop.Success, text);
            long drops = long.Parse(drop.Groups[1].Value);
            var reasons = System.Text.RegularExpressions.Regex.Match(text, "drop reasons: (.*)");
            long sum = reasons.Success ? reasons.Groups[1].Value.Split(' ').Sum(kv => long.Parse(kv[(kv.IndexOf('=') + 1)..])) : 0;
            Assert.True(drops == sum, $"sample {samples}: drop={drops} but the reasons sum to {sum}\n{text}");
            Assert.True(drops >= lastDrops, "drop count went backwards");
            samples++;
            if (drops > lastDrops && !done) midway++;
            lastDrops = drops;
            if (done) break;
        }
        Assert.True(sender.ExitCode == 0, sender.StandardError.ReadToEnd());
        Assert.True(lastDrops > 0, "no frame reached the data plane");
        Assert.True(midway > 0, $"no sample was taken while traffic flowed ({samples} samples)");
    }

    /// <summary>One control request over the socket (faster than starting the CLI for each sample).</summary>
    string Request(string request)
    {
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(_run.Control));
        s.Send(Encoding.UTF8.GetBytes(request + "\n"));
        using var stream = new NetworkStream(s);
        return new StreamReader(stream).ReadToEnd();
    }

    [RootTapFact]
    public void Deleting_the_tap_is_a_clean_one_line_exit()
    {
        _run.Start();
        LiveRun.Must("ip", "-n", _run.Namespace, "link", "del", _run.Tap);
        int exit = _run.WaitForExit();
        Assert.NotEqual(0, exit);
        string[] errors = _run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(errors.Length == 1 && errors[0].StartsWith("dataplane: error: ") && errors[0].Contains(_run.Tap), _run.Log);
        Assert.False(File.Exists(_run.Control), "control socket left behind");
    }

    [RootTapFact]
    public void Removing_the_namespace_leaves_a_serving_data_plane_or_a_clean_exit()
    {
        _run.Start();
        LiveRun.Must("ip", "netns", "del", _run.Namespace);
        // The TAP lives while the data plane holds it (the namespace's name is only a mount): either it keeps serving
        // or it notices the device went and exits with one line. Never wedged: counters or an exit within the deadline.
        _run.WaitFor(() => _run.Process!.HasExited || _run.Counters().ExitCode == 0, "counters or an exit");
        if (_run.Process!.HasExited)
        {
            Assert.NotEqual(0, _run.Process.ExitCode);
            Assert.Single(_run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        else
        {
            Assert.Equal(1, _run.Generation());
            _run.Signal("TERM");
            Assert.Equal(0, _run.WaitForExit());
        }
        Assert.False(_run.Process.HasExited && File.Exists(_run.Control), "control socket left behind");
    }

    [RootTapFact]
    public void Kill_9_leaves_a_stale_socket_that_the_next_start_replaces()
    {
        _run.Start();
        _run.Signal("KILL");
        _run.WaitForExit();
        Assert.True(File.Exists(_run.Control), "kill -9 cannot clean up; the test expects the stale socket file");
        var stale = CliTests.Run("counters", "--control", _run.Control);
        Assert.Equal(1, stale.ExitCode);
        // The transient TAP died with its owner; the restart creates it again and takes the socket over.
        _run.Start();
        Assert.Equal(1, _run.Generation());
        _run.Signal("TERM");
        Assert.Equal(0, _run.WaitForExit());
    }
}
