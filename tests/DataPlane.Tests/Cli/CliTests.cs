using System.Diagnostics;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Cli;

/// <summary>
/// The built <c>dataplane</c> executable run as a child process: a good replay, and every kind of bad input. Errors for
/// bad input must be one line on stderr starting <c>dataplane: error: </c>, exit code 1, and never a stack trace.
/// </summary>
/// <remarks>
/// The CLI project is not referenced by the test project (it is an executable); it is taken from the same configuration
/// the tests were built in: tests/DataPlane.Tests/bin/&lt;Config&gt;/net10.0 maps to src/DataPlane.Cli/bin/&lt;Config&gt;/net10.0.
/// Build the solution (<c>dotnet build DataPlane.sln</c>) before running these.
/// </remarks>
public sealed class CliTests : IDisposable
{
    const string ErrorPrefix = "dataplane: error: ";
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    static string Case001 => Path.Combine(Repo.Cases, "001-clusterip-tcp");
    static string Input001 => Path.Combine(Case001, "input.pcap");

    readonly TempDir _tmp = new("cli");

    public void Dispose()
    {
        _tmp.Dispose();
    }

    /// <summary>src/DataPlane.Cli/bin/&lt;Config&gt;/net10.0/dataplane.dll for the configuration these tests were built in.</summary>
    internal static string CliDll()
    {
        // AppContext.BaseDirectory = <repo>/tests/DataPlane.Tests/bin/<Config>/<tfm>/
        var tfmDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        string tfm = tfmDir.Name;
        string config = tfmDir.Parent?.Name ?? "Debug";
        string dll = Repo.Path_("src", "DataPlane.Cli", "bin", config, tfm, "dataplane.dll");
        Assert.True(File.Exists(dll),
            $"CLI not built: {dll} is missing. Run `dotnet build DataPlane.sln -c {config}` first (the test project does not reference the CLI).");
        return dll;
    }

    internal sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
    }

    internal static Result Run(params string[] args) => RunIn(Repo.Root, args);

    /// <summary>Runs the CLI with <paramref name="input"/> on its standard input (<c>--cluster -</c>).</summary>
    internal static Result RunWithInput(string input, params string[] args) => RunIn(Repo.Root, args, input);

    /// <summary>Runs the CLI with <paramref name="workingDirectory"/> as its current directory.</summary>
    internal static Result RunIn(string workingDirectory, params string[] args) => RunIn(workingDirectory, args, null);

    static Result RunIn(string workingDirectory, string[] args, string? input)
    {
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var psi = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        psi.ArgumentList.Add(CliDll());
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + host);
        if (input is not null) p.StandardInput.Write(input);
        p.StandardInput.Close();
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(Timeout))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            Assert.Fail($"dataplane {string.Join(' ', args)} did not exit within {Timeout.TotalSeconds} s");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    static void AssertNoStackTrace(Result r)
    {
        foreach (string text in new[] { r.Stdout, r.Stderr })
        {
            Assert.DoesNotContain("Unhandled exception", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("   at ", text);
            Assert.DoesNotContain("Exception:", text);
        }
    }

    /// <summary>Our own error: exit 1, exactly one non-empty stderr line with the prefix; returns that line.</summary>
    internal static string AssertOneLineError(Result r)
    {
        AssertNoStackTrace(r);
        Assert.True(r.ExitCode == 1, $"expected exit code 1\n{r}");
        string[] lines = r.StderrLines;
        Assert.True(lines.Length == 1, $"expected exactly one stderr line\n{r}");
        Assert.StartsWith(ErrorPrefix, lines[0]);
        Assert.True(lines[0].Length > ErrorPrefix.Length + 3, $"error line has no message\n{r}");
        return lines[0];
    }

    string Tmp(string name) => Path.Combine(_tmp.Path, name);

    // ---------------------------------------------------------------------------------------------------------------

    [Fact]
    public void Replay_of_case_001_succeeds_and_output_equals_expected_pcap()
    {
        string output = Tmp("out.pcap"), verdicts = Tmp("out.jsonl");
        Result r = Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", Input001, "-o", output, "--verdicts", verdicts);

        AssertNoStackTrace(r);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(r.Stderr.Trim().Length == 0, $"unexpected stderr\n{r}");
        Assert.Contains("8 frames, 8 emitted", r.Stdout);
        // The per-flow line: the client tuple, the verdict, the service and the backend.
        Assert.Matches(@"tcp 10\.244\.1\.5:40000 -> 10\.96\.0\.10:80\s+forward\s+service default/web:http\s+backend 10\.244\.2\.7:8080", r.Stdout);
        Assert.Contains("verdicts: forward=8", r.Stdout);

        Assert.True(File.Exists(output), $"-o {output} was not written\n{r}");
        byte[] expected = File.ReadAllBytes(Path.Combine(Case001, "expected.pcap"));
        byte[] actual = File.ReadAllBytes(output);
        Assert.True(expected.AsSpan().SequenceEqual(actual),
            $"output differs from expected.pcap (lengths {actual.Length} vs {expected.Length}; first difference at byte " +
            $"{expected.Zip(actual).TakeWhile(x => x.First == x.Second).Count()})");
        Assert.Equal(8, File.ReadAllLines(verdicts).Length);
    }

    [Fact]
    public void Quiet_replay_prints_no_flow_lines()
    {
        Result r = Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", Input001, "-q");
        AssertNoStackTrace(r);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotContain("flows:", r.Stdout);
        Assert.Contains("verdicts: forward=8", r.Stdout);
    }

    [Fact]
    public void Missing_manifest_folder_is_a_one_line_error_naming_it()
    {
        string missing = Tmp("no-such-cluster");
        Result r = Run("replay", "--cluster", missing, "--node", "node-1", Input001, "-o", Tmp("out.pcap"));
        string line = AssertOneLineError(r);
        Assert.Contains(missing, line);
    }

    [Fact]
    public void Manifest_with_invalid_yaml_syntax_is_a_one_line_error_naming_the_file()
    {
        string bad = Tmp("broken.yaml");
        File.WriteAllText(bad, "apiVersion: v1\nkind: Service\nmetadata: {name: x\n  spec: [\n");
        Result r = Run("replay", "--cluster", bad, "--node", "node-1", Input001);
        string line = AssertOneLineError(r);
        Assert.Contains("broken.yaml", line);
    }

    [Fact]
    public void Service_with_invalid_port_names_file_object_and_field()
    {
        // A copy of the bundled cluster with default/web's port out of range.
        string dir = Tmp("cluster");
        Directory.CreateDirectory(dir);
        foreach (string f in Directory.GetFiles(Repo.Cluster)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        string web = Path.Combine(dir, "web.yaml");
        string text = File.ReadAllText(web);
        Assert.Contains("\n    port: 80\n", text);
        File.WriteAllText(web, text.Replace("\n    port: 80\n", "\n    port: 70000\n"));

        Result r = Run("replay", "--cluster", dir, "--node", "node-1", Input001);
        string line = AssertOneLineError(r);
        Assert.Contains("web.yaml", line);
        Assert.Contains("Service default/web", line);
        Assert.Contains("spec.ports[0].port", line);
        Assert.Contains("70000", line);
    }

    [Fact]
    public void Unknown_node_is_a_one_line_error_naming_the_node()
    {
        Result r = Run("replay", "--cluster", Repo.Cluster, "--node", "node-9", Input001);
        string line = AssertOneLineError(r);
        Assert.Contains("node-9", line);
    }

    [Fact]
    public void Missing_input_capture_is_a_one_line_error_naming_it()
    {
        string missing = Tmp("missing.pcap");
        Result r = Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", missing, "-o", Tmp("out.pcap"));
        string line = AssertOneLineError(r);
        Assert.Contains(missing, line);
    }

    [Fact]
    public void Garbage_input_file_is_a_one_line_error_naming_it()
    {
        string garbage = Tmp("garbage.pcap");
        var bytes = new byte[4096];
        new Random(12345).NextBytes(bytes);
        File.WriteAllBytes(garbage, bytes);
        Result r = Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", garbage, "-o", Tmp("out.pcap"));
        string line = AssertOneLineError(r);
        Assert.Contains(garbage, line);
    }

    [Fact]
    public void Capture_cut_in_the_middle_of_a_record_is_a_one_line_error_naming_file_and_record()
    {
        // 24-byte file header, then 16-byte record headers: cut 20 bytes into the data of the second record.
        byte[] good = File.ReadAllBytes(Input001);
        int firstCapLen = BitConverter.ToInt32(good, 24 + 8);
        int secondData = 24 + 16 + firstCapLen + 16;
        Assert.True(good.Length > secondData + 20);
        string cut = Tmp("truncated.pcap");
        File.WriteAllBytes(cut, good[..(secondData + 20)]);

        Result r = Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", cut, "-o", Tmp("out.pcap"));
        string line = AssertOneLineError(r);
        Assert.Contains(cut, line);
        Assert.Contains("record 2", line);
    }

    [Fact]
    public void Ct_max_not_a_power_of_two_is_a_one_line_error()
    {
        Result r = Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", "--ct-max", "3", Input001);
        string line = AssertOneLineError(r);
        Assert.Contains("--ct-max", line);
    }

    [Theory]
    [InlineData("--cluster")]
    public void Missing_required_option_is_a_usage_error(string omitted)
    {
        var args = new List<string> { "replay" };
        if (omitted != "--cluster") args.AddRange(["--cluster", Repo.Cluster]);
        if (omitted != "--node") args.AddRange(["--node", "node-1"]);
        args.Add(Input001);
        Result r = Run([.. args]);

        AssertNoStackTrace(r);
        Assert.True(r.ExitCode != 0, $"expected a non-zero exit code\n{r}");
        Assert.Contains($"Option '{omitted}' is required", r.Stderr);
    }

    [Fact]
    public void Unparsable_option_value_is_a_usage_error()
    {
        Result r = Run("replay", "--cluster", Repo.Cluster, "--node", "node-1", "--ct-max", "lots", Input001);
        AssertNoStackTrace(r);
        Assert.True(r.ExitCode != 0, $"expected a non-zero exit code\n{r}");
        Assert.Contains("--ct-max", r.Stderr);
    }
}
