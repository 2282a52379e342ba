using System.Runtime.InteropServices;

namespace DataPlane.IO.Live;

/// <summary>
/// Signal dispositions a daemon inherits. <c>nohup</c> (and shells starting background jobs) exec the program with
/// SIGHUP set to SIG_IGN, and an ignored disposition survives exec (signal(7): "A child created via fork(2) inherits
/// a copy of its parent's signal dispositions. During an execve(2), the dispositions of handled signals are reset to
/// the default; the dispositions of ignored signals are left unchanged"). The .NET runtime keeps an inherited SIG_IGN
/// as the "original" disposition and does not deliver the signal to a <see cref="PosixSignalRegistration"/> then, so
/// a daemon that asks for SIGHUP as its reload signal (as nginx, sshd and HAProxy do) resets it to SIG_DFL before
/// registering.
/// </summary>
public static partial class SignalDisposition
{
    /// <summary>SIGHUP on Linux (all architectures .NET supports).</summary>
    public const int SIGHUP = 1;
    static readonly nint SIG_DFL = 0;
    static readonly nint SIG_IGN = 1;

    [LibraryImport("libc", EntryPoint = "signal", SetLastError = true)]
    private static partial nint Signal(int signum, nint handler);

    /// <summary>
    /// Resets <paramref name="signum"/> to SIG_DFL when it was inherited as ignored; returns whether it was ignored.
    /// Call before <see cref="PosixSignalRegistration.Create"/> for that signal.
    /// </summary>
    public static bool ResetIfIgnored(int signum)
    {
        if (!OperatingSystem.IsLinux()) return false;
        nint previous = Signal(signum, SIG_DFL);
        if (previous == SIG_IGN) return true;
        // It was not ignored: put back whatever was there (the runtime's own handler, or the default).
        if (previous != SIG_DFL && previous != -1) Signal(signum, previous);
        return false;
    }
}
