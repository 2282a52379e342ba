using System.Diagnostics;
using System.Text.Json;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;
using DataPlane.Tests.Live;

namespace DataPlane.Tests.Lab;

/// <summary>
/// <c>dataplane lab</c> with real network stacks: the Service matrix of <c>lab check</c> over the regression cluster
/// and over the seeds' manifests (the copies in tests/DataPlane.Tests/Seeds/manifests, each naming its seed and
/// section), the seeds' own curl and nslookup typed into the lab's pods, and teardown after a killed <c>lab up</c>.
/// </summary>
public sealed class LabTests
{
    static string Seed(string file) => Repo.Path_("tests", "DataPlane.Tests", "Seeds", "manifests", file);

    static JsonElement Check(LabRun lab, out CliTests.Result r)
    {
        r = CliTests.Run("lab", "check", lab.Name, "--json");
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.Clone();
    }

    static JsonElement Cell(JsonElement check, string service, string frontendStart, string client) =>
        check.GetProperty("cells").EnumerateArray().Single(c => c.GetProperty("service").GetString() == service &&
            c.GetProperty("frontend").GetString()!.StartsWith(frontendStart, StringComparison.Ordinal) && c.GetProperty("client").GetString() == client);

    /// <summary>
    /// pcaps/cluster: every cell as promised, and the promises that matter shown by real connections: an
    /// externalTrafficPolicy Local NodePort keeps the external client's address, a Cluster one masquerades it, a pod
    /// reaching a ClusterIP keeps its own, no endpoints is refused, sessionAffinity keeps one backend, DNS answers.
    /// </summary>
    [LabFact]
    public void Check_over_the_regression_cluster_agrees_with_every_promise()
    {
        using var lab = new LabRun();
        lab.Up("--cluster", Repo.Cluster);
        JsonElement check = Check(lab, out var r);
        Assert.True(r.ExitCode == 0 && check.GetProperty("disagree").GetInt32() == 0, r.ToString());

        JsonElement local = Cell(check, "default/local-web:http", "NodePort 192.168.0.2:30090", "external");
        Assert.Equal("served", local.GetProperty("result").GetString());
        Assert.StartsWith("203.0.113.10:", local.GetProperty("sourceSeen").GetString());
        // A pod on another node through this node's Local NodePort: a cluster-CIDR source, so every endpoint and its own address.
        Assert.StartsWith("10.244.2.254:", Cell(check, "default/local-web:http", "NodePort 192.168.0.2:30090", "remote").GetProperty("sourceSeen").GetString());
        JsonElement cluster = Cell(check, "default/web:http", "NodePort 192.168.0.2:30080", "external");
        Assert.Equal("served", cluster.GetProperty("result").GetString());
        Assert.StartsWith("192.168.0.2:", cluster.GetProperty("sourceSeen").GetString());
        JsonElement clusterIp = Cell(check, "default/web:http", "ClusterIP", "pod");
        Assert.StartsWith("10.244.1.254:", clusterIp.GetProperty("sourceSeen").GetString());
        Assert.Equal("refused", Cell(check, "default/empty:http", "ClusterIP", "pod").GetProperty("result").GetString());
        Assert.DoesNotContain(",", Cell(check, "default/sticky:http", "ClusterIP", "pod").GetProperty("backend").GetString());
        Assert.Contains(check.GetProperty("cells").EnumerateArray(), c => c.GetProperty("frontend").GetString()!.StartsWith("DNS", StringComparison.Ordinal) &&
            c.GetProperty("result").GetString()!.StartsWith("answered", StringComparison.Ordinal) && c.GetProperty("agrees").GetBoolean());

        // The table says the same; ct list shows the lab's flows.
        var table = CliTests.Run("lab", "check", lab.Name);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("all as Kubernetes promises", table.Stdout);
        var ct = CliTests.Run("ct", "list", "--control", $"/run/dataplane-lab/{lab.Name}/control.sock");
        Assert.True(ct.ExitCode == 0, ct.ToString());
        Assert.Contains("src=203.0.113.10 dst=192.168.0.2", ct.Stdout);
    }

    /// <summary>
    /// Seed 000's migo ReplicationController behind its externalTrafficPolicy Local NodePort ("Understanding the
    /// peculiarities of external connections") and its sessionAffinity ClientIP Service, and seed 003's ms-hello /
    /// ms-bye lab with its NodePort: every cell as promised.
    /// </summary>
    [LabFact]
    public void Check_over_the_seeds_manifests_agrees_with_every_promise()
    {
        using (var lab = new LabRun())
        {
            lab.Up("--cluster", Seed("000-migo-rc.yaml"), "--cluster", Seed("000-migo-nodeport-local.yaml"), "--cluster", Seed("000-migo-svc-affinity.yaml"));
            JsonElement check = Check(lab, out var r);
            Assert.True(r.ExitCode == 0 && check.GetProperty("disagree").GetInt32() == 0, r.ToString());
            Assert.Contains(check.GetProperty("cells").EnumerateArray(), c => c.GetProperty("service").GetString() == "default/migo-nodeport:80");
        }
        using (var lab = new LabRun())
        {
            lab.Up("--cluster", Seed("003-ms-bye-dep.yaml"), "--cluster", Seed("003-ms-hello-dep.yaml"), "--cluster", Seed("003-ms-svcs.yaml"), "--cluster", Seed("003-np-hello-svc.yaml"));
            JsonElement check = Check(lab, out var r);
            Assert.True(r.ExitCode == 0 && check.GetProperty("disagree").GetInt32() == 0, r.ToString());
            Assert.Equal("served", Cell(check, "default/np-hello-svc:17", "NodePort", "external").GetProperty("result").GetString());
        }
    }

    /// <summary>
    /// Seed 003 as a reader types it, with the real programs: from a ms-bye pod, <c>curl -X GET http://CLUSTER-IP:17</c>
    /// reaches a ms-hello pod, which sees the ms-bye pod's own address ("client ip adress is ms-bye-dep pod ip
    /// adress"); <c>nslookup ms-hello-svc</c> and <c>nslookup np-hello-svc</c> (busybox's in the seed, Debian's here)
    /// answer the cluster IPs through the pod's resolv.conf search path; <c>curl NODE-IP:31000</c> from outside is
    /// served; and the lab's own example, curl of a NodePort's /clientip from the external client, prints the address
    /// the backend saw.
    /// </summary>
    [LabFact]
    public void Seed_003_curl_and_nslookup_run_in_the_lab_with_the_real_programs()
    {
        using var lab = new LabRun();
        var up = lab.Up("--cluster", Seed("003-ms-bye-dep.yaml"), "--cluster", Seed("003-ms-hello-dep.yaml"), "--cluster", Seed("003-ms-svcs.yaml"), "--cluster", Seed("003-np-hello-svc.yaml"));
        string[] rows = up.Stdout.Split('\n');
        string byeRow = rows.First(l => l.StartsWith("default/ms-bye-dep-", StringComparison.Ordinal));
        string bye = byeRow.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], byeIp = byeRow.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        string[] helloPods = [.. rows.Where(l => l.StartsWith("default/ms-hello-dep-", StringComparison.Ordinal)).Select(l => l.Split(' ')[0])];
        Assert.Equal(2, helloPods.Length);
        var cluster = CliTests.Run("cluster", "--cluster", Seed("003-ms-bye-dep.yaml"), "--cluster", Seed("003-ms-hello-dep.yaml"), "--cluster", Seed("003-ms-svcs.yaml"), "--cluster", Seed("003-np-hello-svc.yaml"), "--json");
        using var cj = JsonDocument.Parse(cluster.Stdout);
        string ClusterIpOf(string svc) => cj.RootElement.GetProperty("services").EnumerateArray().Single(s => s.GetProperty("name").GetString() == svc).GetProperty("clusterIP").GetString()!;
        string helloVip = ClusterIpOf("ms-hello-svc"), npVip = ClusterIpOf("np-hello-svc");

        var curl = lab.Exec(bye, "curl", "-s", "-m", "5", "-X", "GET", $"http://{helloVip}:17");
        Assert.True(curl.ExitCode == 0, curl.ToString());
        string[] answer = curl.Stdout.Trim().Split(' ');
        Assert.Contains(answer[0], helloPods);
        Assert.StartsWith(byeIp + ":", answer[1]);

        var ns = lab.Exec(bye, "nslookup", "ms-hello-svc");
        Assert.True(ns.ExitCode == 0, ns.ToString());
        Assert.Contains("Name:\tms-hello-svc.default.svc.cluster.local", ns.Stdout);
        Assert.Contains($"Address: {helloVip}", ns.Stdout);
        var np = lab.Exec(bye, "nslookup", "np-hello-svc");
        Assert.True(np.ExitCode == 0, np.ToString());
        Assert.Contains($"Address: {npVip}", np.Stdout);

        var inside = lab.Exec(bye, "curl", "-s", "-m", "5", "np-hello-svc:17");
        Assert.True(inside.ExitCode == 0 && helloPods.Contains(inside.Stdout.Split(' ')[0]), inside.ToString());
        var outside = lab.Exec("external", "curl", "-s", "-m", "5", "http://192.168.0.2:31000/clientip");
        Assert.True(outside.ExitCode == 0, outside.ToString());
        // externalTrafficPolicy Cluster: the backend saw the node (its address, or its gateway toward a local pod), not 203.0.113.10.
        Assert.Matches(@"^(192\.168\.0\.2|10\.244\.1\.1):\d+$", outside.Stdout.Trim());
    }

    /// <summary>
    /// Teardown: <c>lab up</c> killed with SIGKILL while it builds the namespaces, then <c>lab down</c> leaves no
    /// namespace, link, process, /etc/netns folder or state folder; so does a second down (nothing to remove).
    /// </summary>
    [LabFact]
    public void Lab_down_after_a_killed_lab_up_leaves_nothing_behind()
    {
        string name = $"k{Environment.ProcessId % 10000}{Guid.NewGuid().ToString("N")[..5]}";
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var psi = new ProcessStartInfo(host) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { CliTests.CliDll(), "lab", "up", "--name", name, "--cluster", Repo.Cluster }) psi.ArgumentList.Add(a);
        try
        {
            using (Process up = Process.Start(psi)!)
            {
                up.BeginOutputReadLine();
                up.BeginErrorReadLine();
                // Mid-way: the node and a few members exist, the rest (and the servers, and run) do not yet.
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed < LiveRun.Deadline && !up.HasExited &&
                       LiveRun.Tool("ip", "netns", "list").Output.Split('\n').Count(l => l.StartsWith($"lab-{name}-", StringComparison.Ordinal)) < 4)
                    Thread.Sleep(10);
                Assert.False(up.HasExited, "lab up finished before it could be killed mid-way");
                up.Kill();
                up.WaitForExit();
            }
            Assert.NotEmpty(LabRun.Leftovers(name));
            var down = CliTests.Run("lab", "down", name);
            Assert.True(down.ExitCode == 0, down.ToString());
            Assert.Contains("removed", down.Stdout);
            List<string> left = LabRun.Leftovers(name);
            Assert.True(left.Count == 0, "lab down left:\n" + string.Join('\n', left));
            var again = CliTests.Run("lab", "down", name);
            Assert.Contains("nothing to remove", again.Stdout);
        }
        finally
        {
            CliTests.Run("lab", "down", name);
        }
    }

    /// <summary>
    /// The kernel reference: the same lab with the node's kernel doing the Services (kube-proxy's iptables and nftables
    /// rule shapes, written from the same promises) keeps the same matrix, so the promises are checked against Linux as well as
    /// against DataPlane. DNS is the data plane's and is reported skipped there.
    /// </summary>
    [LabFact]
    public void Check_holds_the_kernels_iptables_and_nftables_rules_to_the_same_promises()
    {
        foreach (string datapath in new[] { "iptables", "nftables" })
        {
            using var lab = new LabRun();
            lab.Up("--cluster", Repo.Cluster, "--datapath", datapath);
            JsonElement check = Check(lab, out var r);
            Assert.True(r.ExitCode == 0 && check.GetProperty("disagree").GetInt32() == 0, $"{datapath}\n{r}");
            Assert.StartsWith("203.0.113.10:", Cell(check, "default/local-web:http", "NodePort 192.168.0.2:30090", "external").GetProperty("sourceSeen").GetString());
            Assert.Equal("refused", Cell(check, "default/empty:http", "ClusterIP", "pod").GetProperty("result").GetString());
            Assert.DoesNotContain(",", Cell(check, "default/sticky:http", "ClusterIP", "pod").GetProperty("backend").GetString());
        }
    }

    /// <summary>
    /// lab bench runs its three measurements through a DataPlane lab of pcaps/examples/bench.yaml and restores the
    /// pod's server afterwards (no numbers are asserted: timings are not tests, the README shows a run).
    /// </summary>
    [LabFact]
    public void Bench_measures_through_the_lab_and_restores_the_pods_server()
    {
        using var lab = new LabRun();
        lab.Up("--cluster", Repo.Path_("pcaps", "examples", "bench.yaml"));
        var bench = CliTests.Run("lab", "bench", lab.Name, "--seconds", "1");
        Assert.True(bench.ExitCode == 0, bench.ToString());
        Assert.Matches(@"^datapath dataplane: tcp-connections/s \d+ .* tcp-bulk [\d.]+ Gbit/s .* udp-64B received \d+ pkt/s", bench.Stdout.Trim());
        // The bulk stream crossed the TAP as GSO packets (offloads on with one worker), every one translated with its
        // partial checksum: iperf3's bytes arrived, so the kernel accepted each segment's completed checksum.
        var counters = CliTests.Run("counters", "--control", $"/run/dataplane-lab/{lab.Name}/control.sock");
        Assert.True(counters.ExitCode == 0, counters.ToString());
        Assert.Matches(@"offload: vnet-hdr tso gso-frames=[1-9]\d* checksums-completed=[1-9]\d*", counters.Stdout);
        JsonElement check = Check(lab, out var r);
        Assert.True(r.ExitCode == 0 && check.GetProperty("disagree").GetInt32() == 0, r.ToString());

        // With the pod's server gone (every process of its namespace, the lab's first pod), nothing is measured: an
        // error naming the server, not a rate of zero.
        LiveRun.Must("sh", "-c", $"ip netns pids lab-{lab.Name}-p0 | xargs -r kill");
        var none = CliTests.Run("lab", "bench", lab.Name, "--seconds", "1");
        Assert.True(none.ExitCode == 1, none.ToString());
        Assert.Contains("no connection", none.Stderr);
    }

    /// <summary>An interrupted <c>lab up</c> (SIGTERM while it builds) takes its own lab down: nothing is left, no down needed.</summary>
    [LabFact]
    public void An_interrupted_lab_up_takes_its_lab_down()
    {
        string name = $"i{Environment.ProcessId % 10000}{Guid.NewGuid().ToString("N")[..5]}";
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var psi = new ProcessStartInfo(host) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { CliTests.CliDll(), "lab", "up", "--name", name, "--cluster", Repo.Cluster }) psi.ArgumentList.Add(a);
        try
        {
            using Process up = Process.Start(psi)!;
            Task<string> err = up.StandardError.ReadToEndAsync();
            _ = up.StandardOutput.ReadToEndAsync();
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < LiveRun.Deadline && !up.HasExited &&
                   LiveRun.Tool("ip", "netns", "list").Output.Split('\n').Count(l => l.StartsWith($"lab-{name}-", StringComparison.Ordinal)) < 4)
                Thread.Sleep(10);
            Assert.False(up.HasExited, "lab up finished before it could be interrupted");
            LiveRun.Must("kill", "-TERM", up.Id.ToString());
            Assert.True(up.WaitForExit(LiveRun.Deadline), "lab up did not stop");
            up.WaitForExit();
            Assert.Equal(1, up.ExitCode);
            Assert.Contains("interrupted; taking lab", err.Result);
            List<string> left = LabRun.Leftovers(name);
            Assert.True(left.Count == 0, "an interrupted lab up left:\n" + string.Join('\n', left));
        }
        finally
        {
            CliTests.Run("lab", "down", name);
        }
    }

    /// <summary>A lab that is not up, and a bad name: one line each, no stack trace.</summary>
    [Fact]
    public void Exec_of_a_lab_that_is_not_up_and_a_bad_name_are_one_line_errors()
    {
        string line = CliTests.AssertOneLineError(CliTests.Run("lab", "exec", "nosuchlab0", "pod", "--", "true"));
        Assert.Contains("lab 'nosuchlab0' is not up", line);
        line = CliTests.AssertOneLineError(CliTests.Run("lab", "up", "--name", "Bad-Name", "--cluster", Repo.Cluster));
        Assert.Contains("--name: 'Bad-Name'", line);
    }
}
