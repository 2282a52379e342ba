using DataPlane.IO.Reload;

namespace DataPlane.IO.Live;

/// <summary>
/// Runs configuration reloads on one dedicated thread, off the signal dispatcher: a SIGHUP only sets a request, so a
/// storm of signals coalesces into at most one reload in progress and one pending (every signal sent before a reload
/// starts is reflected by it, as with systemd's or nginx's reload), and a slow or hostile reload never delays SIGTERM
/// handling or the packet workers. Each reload goes through <see cref="ReloadBoundary"/>: a failure is one line on
/// the error writer and the running generation stays.
/// <para>
/// The thread gets <see cref="ReloadBoundary.StackBytes"/> of stack so a deeply nested (but legal) manifest is parsed
/// rather than overflowing — a stack overflow is the one failure .NET cannot turn into an exception.
/// </para>
/// </summary>
public sealed class Reloader : IDisposable
{
    readonly Func<string> _reload;
    readonly Func<string> _describeKept;
    readonly TextWriter _out, _err;
    readonly SemaphoreSlim _request = new(0, 1);
    readonly Thread _thread;
    volatile bool _stopping;
    long _completed, _failed;

    /// <param name="reload">Loads, compiles and publishes; returns the line to print on success.</param>
    /// <param name="describeKept">What stays in service after a failure, e.g. "keeping generation 3".</param>
    public Reloader(Func<string> reload, Func<string> describeKept, TextWriter output, TextWriter error)
    {
        _reload = reload;
        _describeKept = describeKept;
        _out = output;
        _err = error;
        _thread = new Thread(Loop, ReloadBoundary.StackBytes) { IsBackground = true, Name = "dataplane-reload" };
        _thread.Start();
    }

    /// <summary>Reloads finished (successful or not) and failed so far.</summary>
    public long Completed => Interlocked.Read(ref _completed);
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Asks for a reload; returns at once. Safe from any thread, any number of times.</summary>
    public void Request()
    {
        try { _request.Release(); }
        catch (SemaphoreFullException) { } // one is already pending: it will see this change too
        catch (ObjectDisposedException) { }
    }

    void Loop()
    {
        while (true)
        {
            try { _request.Wait(); }
            catch (ObjectDisposedException) { return; }
            if (_stopping) return;
            string? success = null;
            string? failure = ReloadBoundary.Try(() => success = _reload());
            if (failure is null) Write(_out, success!);
            else
            {
                Interlocked.Increment(ref _failed);
                Write(_err, $"dataplane: error: reload: {failure} ({_describeKept()})");
            }
            Interlocked.Increment(ref _completed);
        }
    }

    static void Write(TextWriter w, string line)
    {
        lock (w)
        {
            w.WriteLine(line);
            w.Flush();
        }
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        try { _request.Release(); } catch (SemaphoreFullException) { }
        // A reload in progress finishes on its own (background thread); shutting down does not wait for it.
        _thread.Join(TimeSpan.FromSeconds(2));
    }
}
