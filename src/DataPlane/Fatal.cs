using System.Runtime.InteropServices;

namespace DataPlane;

/// <summary>
/// The one list of failures no exception boundary may swallow. Every boundary — the control plane's around loading
/// and compiling, the reload boundary of <c>run</c>'s SIGHUP and <c>replay --apply-at</c>, the control socket's per
/// client, the CLI's start-up load — catches every other exception and lets these through: after them the process
/// itself cannot be trusted to keep serving, as the kubelet and kube-proxy keep running on a bad sync and exit only on
/// what they cannot recover from.
/// </summary>
public static class Fatal
{
    /// <summary>
    /// Out of memory; a corrupted stack or heap (a stack overflow, which .NET cannot even catch, so the loader bounds
    /// its own recursion; an access violation or a native fault surfacing as <see cref="SEHException"/>); and a
    /// thread interrupt, which asks the thread to stop rather than reporting a failure of the work it was doing.
    /// </summary>
    public static bool Is(Exception e) =>
        e is OutOfMemoryException or StackOverflowException or AccessViolationException or SEHException or ThreadInterruptedException;
}
