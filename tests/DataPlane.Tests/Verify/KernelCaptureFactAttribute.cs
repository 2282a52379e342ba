namespace DataPlane.Tests.Verify;

/// <summary>
/// A fact that runs tests/kernel-captures/make.sh: Linux, root (network namespaces, iptables, nft) and the tools the
/// script uses (.ci/setup-tests.sh installs them). Skipped, saying which is missing, otherwise.
/// </summary>
public sealed class KernelCaptureFactAttribute : FactAttribute
{
    static readonly string[] Tools = ["ip", "iptables-restore", "iptables-save", "nft", "tcpdump", "ethtool", "xxd"];

    public KernelCaptureFactAttribute()
    {
        string? missing =
            !OperatingSystem.IsLinux() ? "not Linux" :
            !Environment.IsPrivilegedProcess ? "not root (network namespaces, iptables and nft need it)" :
            !File.Exists("/usr/bin/python3") ? "/usr/bin/python3 is missing (the traffic helper)" :
            Tools.FirstOrDefault(t => !OnPath(t)) is { } tool ? $"{tool} is not installed (bash .ci/setup-tests.sh installs it)" :
            NetnsProbe.Value;
        if (missing is not null) Skip = $"kernel capture test skipped: {missing}";
    }

    /// <summary>Whether this machine lets us make a network namespace (a container may not): null when it does.</summary>
    static readonly Lazy<string?> NetnsProbe = new(() =>
    {
        string ns = $"kcprobe{Environment.ProcessId}";
        try
        {
            using var add = System.Diagnostics.Process.Start("ip", ["netns", "add", ns])!;
            add.WaitForExit();
            if (add.ExitCode != 0) return "`ip netns add` fails here (no network namespaces in this container?)";
            using var del = System.Diagnostics.Process.Start("ip", ["netns", "del", ns])!;
            del.WaitForExit();
            return null;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"ip could not run: {e.Message}";
        }
    });

    static readonly string[] Bins = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    internal static bool OnPath(string tool) => Bins.Any(d => File.Exists(Path.Combine(d, tool)));
}
