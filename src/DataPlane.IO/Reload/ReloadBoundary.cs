namespace DataPlane.IO.Reload;

/// <summary>
/// The one exception boundary around loading and compiling new manifests while a data plane runs (<c>run</c>'s SIGHUP
/// reload, <c>replay --apply-at</c>). Whatever a new configuration makes the loader or compiler throw — a
/// <c>ManifestException</c> for what it names, but also any bug it did not foresee (an
/// <see cref="InvalidOperationException"/> from a map builder, an overflow, a recursion cut short by
/// <see cref="InsufficientExecutionStackException"/>) — becomes one line while the last good generation stays
/// published: the control plane publishes only after a whole compile succeeded, so nothing half-built is ever seen by
/// the packet workers. Only what <see cref="Fatal.Is"/> names propagates.
/// <para>
/// Its own folder because both live mode (<c>Live/Reloader</c>) and the replay (<c>Replay/ReplaySchedule</c>) apply
/// configurations through it: in either of theirs, the other would depend on it and close a folder cycle
/// (Replay → Live → Text → Replay).
/// </para>
/// </summary>
public static class ReloadBoundary
{
    /// <summary>
    /// Stack of the threads that load and compile manifests: generous, since only one such thread runs at a time, so
    /// a deeply nested (but legal) manifest is parsed rather than overflowing — a stack overflow is the one failure
    /// .NET cannot turn into an exception.
    /// </summary>
    public const int StackBytes = 256 * 1024 * 1024;

    /// <summary>
    /// Runs <paramref name="load"/> on a thread with <see cref="StackBytes"/> of stack and returns its result (or
    /// rethrows its exception): the start-up load and every <c>--apply-at</c> get the same depth headroom as a reload.
    /// </summary>
    public static T OnReloadStack<T>(Func<T> load)
    {
        T result = default!;
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? error = null;
        var t = new Thread(() =>
        {
            // Not a boundary: the exception is carried to the caller's thread and rethrown there as it was.
            try { result = load(); }
            catch (Exception e) { error = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e); }
        }, StackBytes)
        { Name = "dataplane-load" };
        t.Start();
        t.Join();
        error?.Throw();
        return result;
    }

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
        catch (Exception e) when (!Fatal.Is(e))
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
