using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;
using PacketDotNet;

namespace DataPlane.Tests.Live;

/// <summary>
/// <c>dataplane run</c> on a real TAP with real kernel traffic. A network namespace holds the TAP; its kernel side is the
/// client (198.18.0.1) and, on lo, the backend (10.244.2.9, a pod on node-2 of a small test cluster). Routes send the
/// ClusterIP range and the node address into the TAP through a permanent neighbour whose MAC is the TAP's own, so
/// frames the data plane writes back unchanged at layer 2 are addressed to the kernel and delivered. A UDP and a TCP
/// client talk to the ClusterIP and must get their echo back: request DNATed and masqueraded on the way in, reply
/// reverse-translated on the way back, every checksum right (the kernel drops a bad one), as tcpdump would show.
/// </summary>
public sealed class LiveTapEndToEndTests : IDisposable
{
    public const string Python = "/usr/bin/python3"; // the stdlib one; a pyenv shim may come first on PATH
    const string Tap = "dtap0";
    const string TapMac = "02:00:c6:12:00:01";
    const string Client = "198.18.0.1", Gateway = "198.18.0.2";
    const string Vip = "10.96.0.10", Backend = "10.244.2.9", NodeIp = "192.168.0.2";
    static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(15);

    readonly string _ns = $"dplive-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
    readonly TempDir _tmp = new("live");
    readonly StringBuilder _runOut = new(), _runErr = new();
    Process? _run;
    bool _nsCreated;

    string Control => Path.Combine(_tmp.Path, "control.sock");

    // A ClusterIP service with a UDP and a TCP port, one backend on node-2 (so not node-local), and the cluster CIDR
    // that makes the client outside it: kube-proxy masquerades it, which brings the backend's replies back to the TAP.
    const string Manifests = TestManifests.TwoNodesIptables + """
        apiVersion: v1
        kind: Service
        metadata: {name: echo, namespace: default}
        spec:
          clusterIP: 10.96.0.10
          selector: {app: echo}
          ports:
          - {name: udp, port: 80, protocol: UDP, targetPort: 8080}
          - {name: tcp, port: 80, protocol: TCP, targetPort: 8080}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: echo-1
          namespace: default
          labels: {kubernetes.io/service-name: echo}
        addressType: IPv4
        ports:
        - {name: udp, port: 8080, protocol: UDP}
        - {name: tcp, port: 8080, protocol: TCP}
        endpoints:
        - addresses: ["10.244.2.9"]
          nodeName: node-2
        """;

    [RootTapFact]
    public void ClusterIP_udp_and_tcp_through_a_tap_are_dnated_masqueraded_answered_and_listed() => EndToEnd(workers: 1);

    /// <summary>
    /// The same with two workers: the reading thread steers, each worker owns its connections' conntrack entries and
    /// writes to the TAP itself. A client port is kept only if the worker owning the connection may use it (its SNAT
    /// port class), so the translated port is read from what the backend saw.
    /// </summary>
    [RootTapFact]
    public void Two_workers_serve_the_same_traffic_and_list_it() => EndToEnd(workers: 2);

    void EndToEnd(int workers)
    {
        string cluster = Path.Combine(_tmp.Path, "cluster");
        Directory.CreateDirectory(cluster);
        File.WriteAllText(Path.Combine(cluster, "cluster.yaml"), Manifests);
        CreateNamespace();
        StartRun(cluster, workers);

        // Real clients and servers in the namespace; the frames seen on the TAP's kernel side come back with them.
        var traffic = Tool("ip", "netns", "exec", _ns, Python, Repo.Path_("tests", "DataPlane.Tests", "Live", "live-traffic.py"),
            Tap, Vip, "80", Backend, "8080");
        Assert.True(traffic.Exit == 0, $"traffic helper failed\n{traffic}\n{RunLog()}");
        using var json = JsonDocument.Parse(traffic.Stdout);
        JsonElement r = json.RootElement;
        string context = $"{traffic.Stdout}\n{RunLog()}";

        // The clients got their echo, from the service address: the replies were reverse-translated.
        Assert.True(r.GetProperty("udp").GetString() == "echo:hello-udp", $"UDP echo missing\n{context}");
        Assert.Equal($"{Vip}:80", r.GetProperty("udp_from").GetString());
        Assert.True(r.GetProperty("tcp").GetString() == "echo:hello-tcp", $"TCP echo missing\n{context}");
        ushort udpPort = PortOf(r.GetProperty("udp_client").GetString()!);
        ushort tcpPort = PortOf(r.GetProperty("tcp_client").GetString()!);
        // The backend saw the node address (masquerade of an off-cluster client), the client's port kept (in SNAT range)
        // with one worker; with several, a port of the owning worker's class.
        string udpSaw = r.GetProperty("backend_saw").GetProperty("udp").GetString()!, tcpSaw = r.GetProperty("backend_saw").GetProperty("tcp").GetString()!;
        ushort udpNat = PortOf(udpSaw), tcpNat = PortOf(tcpSaw);
        Assert.Equal($"{NodeIp}:{udpNat}", udpSaw);
        Assert.Equal($"{NodeIp}:{tcpNat}", tcpSaw);
        if (workers == 1) Assert.Equal((udpPort, tcpPort), (udpNat, tcpNat));
        else Assert.All(new[] { udpNat, tcpNat }, p => Assert.InRange(p, (ushort)32768, (ushort)65535));

        // What the data plane wrote into the TAP, parsed by PacketDotNet, checksums recomputed from scratch.
        var written = r.GetProperty("frames").EnumerateArray()
            .Where(f => f.GetProperty("dir").GetString() == "in")
            .Select(f => Convert.FromHexString(f.GetProperty("hex").GetString()!)).ToList();
        Assert.NotEmpty(written);
        foreach (byte[] f in written) Oracle.AssertChecksums(f);
        IPv4Packet udpOut = Single(written, ProtocolType.Udp, NodeIp, udpNat, Backend, 8080, context);
        Assert.Equal("hello-udp", Encoding.ASCII.GetString(udpOut.PayloadPacket.PayloadData));
        Assert.NotEqual(0, ((UdpPacket)udpOut.PayloadPacket).Checksum); // the kernel sent one; it must be rewritten, not zeroed
        Assert.Equal(63, udpOut.TimeToLive); // forwarded: TTL - 1
        IPv4Packet udpBack = Single(written, ProtocolType.Udp, Vip, 80, Client, udpPort, context);
        Assert.Equal("echo:hello-udp", Encoding.ASCII.GetString(udpBack.PayloadPacket.PayloadData));
        IPv4Packet syn = written.Select(Oracle.Ip).First(p => p.PayloadPacket is TcpPacket { Synchronize: true, Acknowledgment: false });
        Assert.Equal((NodeIp, Backend, (ushort)8080), (syn.SourceAddress.ToString(), syn.DestinationAddress.ToString(), ((TcpPacket)syn.PayloadPacket).DestinationPort));
        Assert.Contains(written.Select(Oracle.Ip), p => p.PayloadPacket is TcpPacket { Synchronize: true, Acknowledgment: true } t &&
                                                        p.SourceAddress.ToString() == Vip && t.SourcePort == 80 && t.DestinationPort == tcpPort);

        // The running data plane lists both connections, read beside the packet thread, seconds left on the live clock.
        var ct = CliTests.Run("ct", "list", "--control", Control);
        Assert.True(ct.ExitCode == 0, $"{ct}\n{RunLog()}");
        Assert.Matches(new Regex(
            $@"^udp\s+17 (5\d|60) src={Re(Client)} dst={Re(Vip)} sport={udpPort} dport=80 src={Re(Backend)} dst={Re(NodeIp)} sport=8080 dport={udpNat} " +
            $@"\[ASSURED\] backend={Re(Backend)}:8080 service=default/echo:udp flow=\d+$", RegexOptions.Multiline), ct.Stdout);
        Assert.Matches(new Regex(
            $@"^tcp\s+6 \d+ \w+ src={Re(Client)} dst={Re(Vip)} sport={tcpPort} dport=80 src={Re(Backend)} dst={Re(NodeIp)} sport=8080 dport={tcpNat} " +
            $@"\[ASSURED\] backend={Re(Backend)}:8080 service=default/echo:tcp flow=\d+$", RegexOptions.Multiline), ct.Stdout);
        var nat = CliTests.Run("nat", "list", "--control", Control);
        Assert.True(nat.ExitCode == 0, nat.ToString());
        Assert.Contains($"UDP OUT {Client}:{udpPort} -> {Backend}:8080 XLATE_SRC {NodeIp}:{udpNat}", nat.Stdout);
        Assert.Contains($"TCP IN {Backend}:8080 -> {NodeIp}:{tcpNat} XLATE_DST {Client}:{tcpPort}", nat.Stdout);

        // Every frame read was forwarded and written back, and the packet thread does not allocate per frame:
        // 2000 more datagrams (and their 2000 echoes) leave its allocation count where it was.
        var before = Counters();
        Assert.Equal(before.Read, before.Written);
        var burst = Tool("ip", "netns", "exec", _ns, Python, "-c",
            // Unconnected: the echo server is gone, and the kernel's port-unreachable errors must not stop the sender.
            $"import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n" +
            $"for i in range(2000): s.sendto(b'burst', ('{Vip}', 80))");
        Assert.True(burst.Exit == 0, burst.ToString());
        var after = WaitForQuiet(before.Read + 2000);
        Assert.True(after.Read >= before.Read + 2000, $"only {after.Read - before.Read} of 2000+ burst frames reached the data plane");
        if (workers == 1) // sampled on the packet thread of the single-worker loop
            Assert.True(after.Allocated - before.Allocated < 2000,
                $"the packet thread allocated {after.Allocated - before.Allocated} bytes for {after.Read - before.Read} frames");
        else
            Assert.Contains($"workers: {workers} queue-drops=", CliTests.Run("counters", "--control", Control).Stdout);

        // SIGTERM stops it cleanly: exit 0, final counters, control socket removed.
        Assert.Equal(0, Tool("kill", "-TERM", _run!.Id.ToString()).Exit);
        Assert.True(_run.WaitForExit(10_000), $"dataplane run did not stop on SIGTERM\n{RunLog()}");
        _run.WaitForExit();
        Assert.True(_run.ExitCode == 0, RunLog());
        Assert.Contains("dataplane: stopped", _runOut.ToString());
        Assert.False(File.Exists(Control), "control socket left behind");
    }

    static string Re(string s) => Regex.Escape(s);

    static ushort PortOf(string endpoint) => ushort.Parse(endpoint[(endpoint.LastIndexOf(':') + 1)..]);

    static IPv4Packet Single(List<byte[]> frames, ProtocolType proto, string src, ushort sport, string dst, ushort dport, string context)
    {
        var match = frames.Select(Oracle.Ip).Where(p =>
            p.Protocol == proto && p.SourceAddress.ToString() == src && p.DestinationAddress.ToString() == dst &&
            p.PayloadPacket is TransportPacket t && t.SourcePort == sport && t.DestinationPort == dport).ToList();
        Assert.True(match.Count >= 1, $"no {proto} {src}:{sport} -> {dst}:{dport} frame written to the TAP\n{context}");
        return match[0];
    }

    /// <summary>The TAP in a fresh namespace, addressed and routed as the class comment describes.</summary>
    void CreateNamespace()
    {
        Ip("netns", "add", _ns);
        _nsCreated = true;
        Ip("-n", _ns, "link", "set", "lo", "up");
        Ip("-n", _ns, "tuntap", "add", "mode", "tap", "name", Tap);
        Ip("-n", _ns, "link", "set", Tap, "address", TapMac);
        Ip("-n", _ns, "link", "set", Tap, "txqueuelen", "10000"); // the burst below must not overflow the TAP queue
        // No IPv6 noise (MLD, router solicitations), and no reverse-path filter between the TAP and lo.
        Must(Tool("ip", "netns", "exec", _ns, "sysctl", "-qw", $"net.ipv6.conf.{Tap}.disable_ipv6=1",
            "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0", $"net.ipv4.conf.{Tap}.rp_filter=0"));
        Ip("-n", _ns, "addr", "add", $"{Client}/24", "dev", Tap);
        Ip("-n", _ns, "addr", "add", $"{Backend}/32", "dev", "lo");
        Ip("-n", _ns, "link", "set", Tap, "up");
        Ip("-n", _ns, "neigh", "add", Gateway, "lladdr", TapMac, "dev", Tap, "nud", "permanent");
        Ip("-n", _ns, "route", "add", "10.96.0.0/16", "via", Gateway, "dev", Tap);
        Ip("-n", _ns, "route", "add", $"{NodeIp}/32", "via", Gateway, "dev", Tap);
    }

    void StartRun(string cluster, int workers)
    {
        var psi = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Repo.Root,
        };
        foreach (string a in new[] { CliDll(), "run", "--tap", Tap, "--netns", _ns, "--manifests", cluster, "--node", "node-1",
                                     "--control", Control, "--ct-max", "4096", "--workers", workers.ToString() })
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_NOLOGO"] = "1";
        _run = Process.Start(psi) ?? throw new InvalidOperationException("could not start dataplane run");
        _run.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_runOut) _runOut.AppendLine(e.Data); };
        _run.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_runErr) _runErr.AppendLine(e.Data); };
        _run.BeginOutputReadLine();
        _run.BeginErrorReadLine();
        // Ready when it says so and its control socket answers (retried: the socket appears just before the loop starts).
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < ToolTimeout)
        {
            Assert.False(_run.HasExited, $"dataplane run exited early\n{RunLog()}");
            bool ready;
            lock (_runOut) ready = _runOut.ToString().Contains("dataplane: running");
            if (ready && File.Exists(Control) && CliTests.Run("counters", "--control", Control).ExitCode == 0) return;
            Thread.Sleep(100);
        }
        Assert.Fail($"dataplane run not ready within {ToolTimeout.TotalSeconds} s\n{RunLog()}");
    }

    (long Read, long Written, long Allocated) Counters()
    {
        var c = CliTests.Run("counters", "--control", Control);
        Assert.True(c.ExitCode == 0, c.ToString());
        var frames = Regex.Match(c.Stdout, @"frames: read=(\d+) written=(\d+) write-errors=0");
        var alloc = Regex.Match(c.Stdout, @"packet thread allocated: (\d+) bytes");
        Assert.True(frames.Success && alloc.Success, c.ToString());
        return (long.Parse(frames.Groups[1].Value), long.Parse(frames.Groups[2].Value), long.Parse(alloc.Groups[1].Value));
    }

    /// <summary>Counters once the frames have arrived and the loop has gone idle (it publishes allocations then).</summary>
    (long Read, long Written, long Allocated) WaitForQuiet(long atLeast)
    {
        var last = Counters();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            Thread.Sleep(250);
            var now = Counters();
            if (now.Read >= atLeast && now == last) return now;
            last = now;
        }
        return last;
    }

    string RunLog()
    {
        lock (_runOut) lock (_runErr)
            return $"--- dataplane run stdout ---\n{_runOut}--- dataplane run stderr ---\n{_runErr}";
    }

    static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";

    /// <summary>src/DataPlane.Cli/bin/&lt;Config&gt;/&lt;tfm&gt;/dataplane.dll, as CliTests finds it.</summary>
    static string CliDll()
    {
        var tfmDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string dll = Repo.Path_("src", "DataPlane.Cli", "bin", tfmDir.Parent?.Name ?? "Debug", tfmDir.Name, "dataplane.dll");
        Assert.True(File.Exists(dll), $"CLI not built: {dll} is missing");
        return dll;
    }

    sealed record ToolResult(int Exit, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {Exit}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
    }

    static void Ip(params string[] args) => Must(Tool("ip", args));

    static void Must(ToolResult r) => Assert.True(r.Exit == 0, r.ToString());

    static ToolResult Tool(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(ToolTimeout))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish within {ToolTimeout.TotalSeconds} s");
        }
        p.WaitForExit();
        return new ToolResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    public void Dispose()
    {
        if (_run is { HasExited: false })
        {
            try { _run.Kill(entireProcessTree: true); _run.WaitForExit(5000); } catch (InvalidOperationException) { }
        }
        _run?.Dispose();
        // Deleting the namespace deletes the TAP and the processes' last link to it.
        if (_nsCreated) Tool("ip", "netns", "del", _ns);
        _tmp.Dispose();
    }
}
