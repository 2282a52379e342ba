using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Live;

/// <summary>
/// One <c>dataplane run --create</c> in a network namespace of its own (named after this test process and a random
/// suffix, so helpers running tests concurrently never share one), with its stdout and stderr collected, and the
/// waits the fault tests need: each waits for an event (a line, an exit, an answer) with a generous deadline that
/// only turns a wedged process into a failure instead of a hung test.
/// </summary>
sealed class LiveRun : IDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public readonly string Namespace = $"dpf{Environment.ProcessId % 100000}-{Guid.NewGuid().ToString("N")[..6]}";
    public readonly string Tap = "dpf" + Guid.NewGuid().ToString("N")[..8];
    readonly TempDir _dir = new("live-fault");
    public string Dir => _dir.Path;
    readonly StringBuilder _out = new(), _err = new();
    bool _nsCreated;

    public Process? Process { get; private set; }
    public string Control => Path.Combine(Dir, "control.sock");
    public string Cluster => Path.Combine(Dir, "cluster");

    public LiveRun()
    {
        Directory.CreateDirectory(Cluster);
        foreach (string f in Directory.GetFiles(Repo.Cluster)) File.Copy(f, Path.Combine(Cluster, Path.GetFileName(f)));
        Must("ip", "netns", "add", Namespace);
        _nsCreated = true;
    }

    public string Stdout { get { lock (_out) return _out.ToString(); } }
    public string Stderr { get { lock (_err) return _err.ToString(); } }
    public string Log => $"--- dataplane run stdout ---\n{Stdout}--- dataplane run stderr ---\n{Stderr}";

    /// <summary>Starts <c>run</c> (optionally under <paramref name="wrapper"/>, e.g. nohup) and waits until it serves.</summary>
    public void Start(string? wrapper = null, int workers = 1)
    {
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var psi = new ProcessStartInfo(wrapper ?? host)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            UseShellExecute = false, WorkingDirectory = Repo.Root,
        };
        if (wrapper is not null) psi.ArgumentList.Add(host);
        foreach (string a in new[] { CliDll(), "run", "--tap", Tap, "--netns", Namespace, "--create", "--manifests", Cluster,
                                     "--node", "node-1", "--control", Control, "--ct-max", "1024", "--workers", workers.ToString() })
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_NOLOGO"] = "1";
        lock (_out) _out.Clear();
        lock (_err) _err.Clear();
        var p = System.Diagnostics.Process.Start(psi) ?? throw new InvalidOperationException("could not start dataplane run");
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_out) _out.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_err) _err.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        Process = p;
        WaitFor(() => Stdout.Contains("dataplane: running") && File.Exists(Control) && Counters().ExitCode == 0, "run serving");
    }

    public CliTests.Result Counters() => CliTests.Run("counters", "--control", Control);

    /// <summary>The maps generation the running data plane reports (its control socket must answer).</summary>
    public long Generation()
    {
        var c = Counters();
        Assert.True(c.ExitCode == 0, $"counters did not answer\n{c}\n{Log}");
        var m = System.Text.RegularExpressions.Regex.Match(c.Stdout, @"maps: generation (\d+)");
        Assert.True(m.Success, c.ToString());
        return long.Parse(m.Groups[1].Value);
    }

    public void Signal(string signal) => Must("kill", "-" + signal, Process!.Id.ToString());

    public void WaitFor(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Deadline)
        {
            if (condition()) return;
            Thread.Sleep(50);
        }
        Assert.Fail($"waited {Deadline.TotalSeconds} s for {what}\n{Log}");
    }

    public int Count(string text, bool stderr) =>
        (stderr ? Stderr : Stdout).Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal));

    public int WaitForExit()
    {
        Assert.True(Process!.WaitForExit(Deadline), $"dataplane run did not exit\n{Log}");
        Process.WaitForExit(); // drains the output readers
        return Process.ExitCode;
    }

    public static void Must(string file, params string[] args)
    {
        var r = Tool(file, args);
        Assert.True(r.Exit == 0, $"{file} {string.Join(' ', args)}: exit {r.Exit}\n{r.Output}");
    }

    public static (int Exit, string Output) Tool(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
        Task<string> o = p.StandardOutput.ReadToEndAsync(), e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(Deadline))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish");
        }
        p.WaitForExit();
        return (p.ExitCode, o.Result + e.Result);
    }

    static string CliDll()
    {
        var tfmDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string dll = Repo.Path_("src", "DataPlane.Cli", "bin", tfmDir.Parent?.Name ?? "Debug", tfmDir.Name, "dataplane.dll");
        Assert.True(File.Exists(dll), $"CLI not built: {dll} is missing");
        return dll;
    }

    /// <summary>Opens a control connection and sends nothing (an idle or stuck client).</summary>
    public Socket Idle()
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(Control));
        return s;
    }

    public void Dispose()
    {
        if (Process is { HasExited: false })
        {
            try { Process.Kill(entireProcessTree: true); Process.WaitForExit(5000); } catch (InvalidOperationException) { }
        }
        Process?.Dispose();
        if (_nsCreated) Tool("ip", "netns", "del", Namespace);
        _dir.Dispose();
    }
}
