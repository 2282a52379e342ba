using System.Diagnostics;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;
using DataPlane.Tests.Live;

namespace DataPlane.Tests.Lab;

/// <summary>
/// One lab of a test, named after the test process and a random suffix (so helpers running tests at once never share
/// one); <see cref="Dispose"/> takes it down and checks that nothing is left.
/// </summary>
sealed class LabRun : IDisposable
{
    public readonly string Name = $"t{Environment.ProcessId % 10000}{Guid.NewGuid().ToString("N")[..5]}";

    public CliTests.Result Up(params string[] clusterArgs)
    {
        var r = CliTests.Run(["lab", "up", "--name", Name, .. clusterArgs]);
        Assert.True(r.ExitCode == 0, $"lab up failed\n{r}");
        return r;
    }

    public CliTests.Result Exec(string member, params string[] command) => CliTests.Run(["lab", "exec", Name, member, "--", .. command]);

    public CliTests.Result Down() => CliTests.Run("lab", "down", Name);

    /// <summary>The lab's namespaces, processes whose command line names its state folder, and its folders: all must be gone after down.</summary>
    public static List<string> Leftovers(string name)
    {
        var left = new List<string>();
        string prefix = $"lab-{name}-";
        var ns = LiveRun.Tool("ip", "netns", "list");
        left.AddRange(ns.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Select(n => "netns " + n));
        string state = $"/run/dataplane-lab/{name}";
        if (Directory.Exists(state)) left.Add("state folder " + state);
        if (Directory.Exists("/etc/netns")) left.AddRange(Directory.GetDirectories("/etc/netns", prefix + "*").Select(d => "folder " + d));
        foreach (string proc in Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            string cmdline;
            try { cmdline = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' '); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            if (cmdline.Contains(state + "/", StringComparison.Ordinal) || cmdline.Contains(prefix, StringComparison.Ordinal))
                left.Add($"process {Path.GetFileName(proc)}: {cmdline}");
        }
        // The lab creates no link outside its namespaces; the node side's names must not appear in the host's.
        var links = LiveRun.Tool("ip", "-o", "link", "show");
        left.AddRange(links.Output.Split('\n').Where(l => l.Contains(": cext", StringComparison.Ordinal) || l.Contains(": cpod", StringComparison.Ordinal)).Select(l => "link " + l));
        return left;
    }

    public void Dispose()
    {
        var r = Down();
        Assert.True(r.ExitCode == 0, $"lab down failed\n{r}");
        List<string> left = Leftovers(Name);
        Assert.True(left.Count == 0, "lab down left:\n" + string.Join('\n', left));
    }
}
