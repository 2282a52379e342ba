using System.Runtime.InteropServices;

namespace DataPlane.IO.Live;

/// <summary>
/// The one exception boundary around loading and compiling new manifests while a data plane runs (<c>run</c>'s SIGHUP
/// reload, <c>replay --apply-at</c>). Whatever a new configuration makes the loader or compiler throw — a
/// <c>ManifestException</c> for what it names, but also any bug it did not foresee (an
/// <see cref="InvalidOperationException"/> from a map builder, an overflow, a recursion cut short by
/// <see cref="InsufficientExecutionStackException"/>) — becomes one line while the last good generation stays
/// published: the control plane publishes only after a whole compile succeeded, so nothing half-built is ever seen by
/// the packet workers. Only failures that leave the process itself unsound propagate (<see cref="IsFatal"/>), as the
/// kubelet and kube-proxy keep running on a bad sync and exit only on what they cannot recover from.
/// </summary>
public static class ReloadBoundary
{
    /// <summary>
    /// Failures after which the process cannot be trusted to keep serving: out of memory, a corrupted stack or heap.
    /// (A real stack overflow cannot be caught in .NET at all; the loader bounds its own recursion for that.)
    /// </summary>
    public static bool IsFatal(Exception e) =>
        e is OutOfMemoryException or StackOverflowException or AccessViolationException or SEHException;

    /// <summary>
    /// Runs <paramref name="load"/>; returns null when it succeeded, otherwise the one-line reason it failed (every
    /// non-fatal exception, message flattened to one line).
    /// </summary>
    public static string? Try(Action load)
    {
        try
        {
            load();
            return null;
        }
        catch (Exception e) when (!IsFatal(e))
        {
            return Describe(e);
        }
    }

    /// <summary>
    /// One line for an exception: the message alone for the errors users are meant to read (a bad manifest, a file
    /// problem), prefixed with the type for anything else, so a bug still says what it is without a stack trace.
    /// </summary>
    public static string Describe(Exception e)
    {
        string message = e.Message.ReplaceLineEndings(" ").Trim();
        string type = e.GetType().Name;
        bool userFacing = type is "ManifestException" or "CaptureFormatException" || e is IOException or UnauthorizedAccessException;
        return userFacing ? message : $"{message} ({type})";
    }
}
