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
    const nint SIG_DFL = 0;
    const nint SIG_IGN = 1;

    [LibraryImport("libc", EntryPoint = "signal", SetLastError = true)]
    private static partial nint Signal(int signum, nint handler);

    [LibraryImport("libc", EntryPoint = "sigaction", SetLastError = true)]
    private static unsafe partial int SigAction(int signum, void* act, void* oldact);

    /// <summary>
    /// Resets <paramref name="signum"/> to SIG_DFL when it was inherited as ignored; returns whether it was ignored.
    /// Any other disposition (the default, or a handler the runtime installed) is only read, never rewritten.
    /// Call before <see cref="PosixSignalRegistration.Create"/> for that signal.
    /// </summary>
    public static unsafe bool ResetIfIgnored(int signum)
    {
        if (!OperatingSystem.IsLinux()) return false;
        // glibc's struct sigaction starts with the handler (a union of sa_handler and sa_sigaction) on every Linux
        // architecture; 256 bytes is more than its size anywhere (152 on x86-64 and arm64).
        byte* old = stackalloc byte[256];
        if (SigAction(signum, null, old) != 0) return false;
        if (*(nint*)old != SIG_IGN) return false;
        Signal(signum, SIG_DFL);
        return true;
    }
}
