using DataPlane.IO.Reload;

namespace DataPlane.IO.Live;

/// <summary>
/// Runs configuration reloads on one dedicated thread, off the signal dispatcher: a SIGHUP only sets a request, so a
/// storm of signals coalesces into at most one reload in progress and one pending (every signal sent before a reload
/// starts is reflected by it, as with systemd's or nginx's reload), and a slow or hostile reload never delays SIGTERM
/// handling or the packet workers. Each reload goes through <see cref="ReloadBoundary"/>: a failure is one line on
/// the error writer and the running generation stays. A reload still running when the next request comes, or when the
/// data plane stops, is abandoned cooperatively: its token is cancelled, the control plane's loops see it within a few
/// hundred pods or services and give up without publishing, so a hostile reload neither delays the next one nor
/// SIGTERM (which exits within 200 ms).
/// <para>
/// The thread gets <see cref="ReloadBoundary.StackBytes"/> of stack so a deeply nested (but legal) manifest is parsed
/// rather than overflowing — a stack overflow is the one failure .NET cannot turn into an exception.
/// </para>
/// </summary>
public sealed class Reloader : IDisposable
{
    /// <summary>
    /// How long <see cref="Dispose"/> waits for an abandoned reload to notice: the compile checks its token every few
    /// hundred pods or services, so it is gone in microseconds; the wait is capped well inside the 200 ms SIGTERM
    /// promise, and the thread is a background one, so an exit never waits for it beyond this.
    /// </summary>
    static readonly TimeSpan StopWait = TimeSpan.FromMilliseconds(100);

    readonly Func<CancellationToken, string> _reload;
    readonly Func<string> _describeKept;
    readonly TextWriter _out, _err;
    readonly SemaphoreSlim _request = new(0, 1);
    readonly Thread _thread;
    readonly Lock _gate = new();
    CancellationTokenSource? _running; // the reload in progress (under _gate); cancelled by a newer request or Dispose
    volatile bool _stopping;
    long _completed, _failed, _abandoned;

    /// <param name="reload">Loads, compiles and publishes, giving up (<see cref="OperationCanceledException"/>) when its
    /// token is cancelled; returns the line to print on success.</param>
    /// <param name="describeKept">What stays in service after a failure, e.g. "keeping generation 3".</param>
    public Reloader(Func<CancellationToken, string> reload, Func<string> describeKept, TextWriter output, TextWriter error)
    {
        _reload = reload;
        _describeKept = describeKept;
        _out = output;
        _err = error;
        _thread = new Thread(Loop, ReloadBoundary.StackBytes) { IsBackground = true, Name = "dataplane-reload" };
        _thread.Start();
    }

    /// <summary>A reload that cannot be abandoned (it runs to its end even when a newer request comes).</summary>
    public Reloader(Func<string> reload, Func<string> describeKept, TextWriter output, TextWriter error)
        : this(_ => reload(), describeKept, output, error) { }

    /// <summary>Reloads finished (successful, failed or abandoned) so far, failed, and abandoned for a newer request.</summary>
    public long Completed => Interlocked.Read(ref _completed);
    public long Failed => Interlocked.Read(ref _failed);
    public long Abandoned => Interlocked.Read(ref _abandoned);

    /// <summary>
    /// Asks for a reload; returns at once. Safe from any thread, any number of times. A reload still running is
    /// abandoned: the newer request supersedes it (it would publish what the files held before this request), and the
    /// next reload starts as soon as it has given up.
    /// </summary>
    public void Request()
    {
        lock (_gate) _running?.Cancel();
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
            using var cancel = new CancellationTokenSource();
            lock (_gate)
            {
                if (_stopping) return;
                _running = cancel;
            }
            string? success = null;
            bool abandoned = false;
            string? failure = ReloadBoundary.Try(() =>
            {
                try { success = _reload(cancel.Token); }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested) { abandoned = true; }
            });
            lock (_gate) _running = null;
            if (abandoned)
            {
                Interlocked.Increment(ref _abandoned);
                // Shutting down: nothing to say. Superseded: say so, the next reload is already pending.
                if (!_stopping) Write(_out, $"dataplane: reload abandoned: a newer reload request came ({_describeKept()})");
            }
            else if (failure is null) Write(_out, success!);
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

    /// <summary>Abandons a reload in progress and stops the thread, waiting at most <see cref="StopWait"/> for it.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopping) return;
            _stopping = true;
            _running?.Cancel();
        }
        try { _request.Release(); } catch (SemaphoreFullException) { }
        _thread.Join(StopWait);
    }
}
