using System.Diagnostics;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Report;

/// <summary>
/// Debian's headless Chromium, run as a person's browser would open a report: a file:// URL, in a network namespace of
/// its own with only a loopback that is down (<c>unshare -rn</c>: a user namespace too, so it needs no root where
/// unprivileged user namespaces are allowed; nothing the page asked for could be fetched), a throwaway profile, and no
/// sandbox (Chromium's sandbox refuses to start as root, which the tests and CI are).
/// </summary>
static class Chromium
{
    public static string? Path { get; } = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);

    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>The DOM after the page loaded, serialised (<c>--dump-dom</c>).</summary>
    public static string DumpDom(string htmlPath, TempDir profile) => Run(htmlPath, profile, "--dump-dom");

    /// <summary>A screenshot of the first <paramref name="height"/> pixels of the page at a desktop width.</summary>
    public static void Screenshot(string htmlPath, string pngPath, TempDir profile, int width = 1280, int height = 2400) =>
        Run(htmlPath, profile, $"--screenshot={pngPath}", $"--window-size={width},{height}", "--hide-scrollbars");

    static string Run(string htmlPath, TempDir profile, params string[] args)
    {
        var psi = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "-rn", Path!, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", $"--user-data-dir={profile.File("profile")}" })
            psi.ArgumentList.Add(a);
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(new Uri(htmlPath).AbsoluteUri);
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(Timeout))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"chromium did not finish within {Timeout.TotalSeconds} s");
        }
        Assert.True(p.ExitCode == 0, $"chromium exited {p.ExitCode}:\n{stderr.Result}");
        return stdout.Result;
    }
}
