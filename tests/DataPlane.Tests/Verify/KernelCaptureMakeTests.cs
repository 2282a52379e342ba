using System.Diagnostics;
using DataPlane.FixtureBuilder.Verify;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Verify;

/// <summary>
/// tests/kernel-captures/make.sh run for real (root): the kernel, under kube-proxy's iptables and nftables rules, makes
/// captures of the same shape as the kept fixtures, from the same manifests, and the script leaves no namespace behind.
/// </summary>
public sealed class KernelCaptureMakeTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    [KernelCaptureFact]
    public void Make_sh_captures_a_kernel_node_in_both_modes_and_cleans_up()
    {
        using var tmp = new TempDir("kcap");
        var before = Namespaces();
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Repo.Root };
        psi.ArgumentList.Add(Repo.Path_("tests", "kernel-captures", "make.sh"));
        psi.ArgumentList.Add(tmp.Path);
        using var p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(Timeout))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"make.sh did not finish within {Timeout.TotalMinutes} min");
        }
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"make.sh exited {p.ExitCode}\n{stdout.Result}\n{stderr.Result}");

        Assert.Equal(before, Namespaces()); // every kc<pid>-* namespace it made is gone
        foreach (var (mode, link) in new[] { ("iptables", KernelCapture.LinkSll2), ("nftables", KernelCapture.LinkSll) })
        {
            string dir = Path.Combine(tmp.Path, $"kernel-{mode}");
            KernelCaptureShape.Check(dir, link);
            // The same cluster as the kept fixture: the manifests are written from the same table as the rules.
            foreach (string yaml in new[] { "nodes.yaml", "kube-proxy.yaml", "services.yaml" })
                Assert.Equal(File.ReadAllText(Repo.Path_("pcaps", "verify", $"kernel-{mode}", "cluster", yaml)), File.ReadAllText(Path.Combine(dir, "cluster", yaml)));
            Assert.Equal(64, File.ReadAllLines(Path.Combine(dir, "traffic.txt")).Length);
        }
    }

    static List<string> Namespaces()
    {
        using var p = Process.Start(new ProcessStartInfo("ip", ["netns", "list"]) { RedirectStandardOutput = true })!;
        string text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).Where(n => n.StartsWith("kc", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];
    }
}
