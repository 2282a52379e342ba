using System.Net.Sockets;
using System.Text;
using DataPlane.IO.Text;

namespace DataPlane.IO.Live;

/// <summary>
/// The control socket of a running live session: a Unix stream socket where a client sends one request line and reads
/// the answer until the server closes the connection. Requests: <c>ct list</c> and <c>nat list</c> (the same
/// <see cref="ConntrackListing"/> text as <c>replay --dump-ct/--dump-nat</c>, seconds left counted on the live clock)
/// and <c>counters</c>. An unknown request is answered with one line starting <c>error: </c>.
/// <para>
/// Concurrency: one thread accepts; each client is served on its own short-lived thread, at most
/// <see cref="MaxClients"/> at a time (one more is told <c>error: busy</c> and closed at once), so a silent or slow
/// client holds only its own slot until its timeout (<see cref="RequestTimeout"/> to send the request line,
/// <see cref="SendTimeout"/> per write of the answer) and never delays another client. Answers read conntrack entries
/// through the map's seqlock snapshots and counters through their seqlock snapshots, so a listing never stops or
/// slows the packet threads beyond cache traffic.
/// </para>
/// </summary>
public sealed class ControlServer : IDisposable
{
    /// <summary>Where <c>dataplane run</c> listens unless told otherwise: one socket per TAP, under /run like other daemons.</summary>
    public const string DefaultDirectory = "/run/dataplane";
    /// <summary>A request is one short line; anything longer is not a client of ours.</summary>
    const int MaxRequestBytes = 256;
    /// <summary>Clients served at once; each idle one costs a thread and a socket until its timeout.</summary>
    public const int MaxClients = 32;
    /// <summary>How long a client may take to send its request line (a real client sends it at once).</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(2);
    /// <summary>How long one write of an answer may block on a client that does not read.</summary>
    public static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(5);

    int _clients;
    /// <summary>Sockets of the clients being served, so <see cref="Dispose"/> can cut their answers short.</summary>
    readonly System.Collections.Concurrent.ConcurrentDictionary<Socket, byte> _served = new();

    readonly LiveSession _session;
    readonly Socket _listener;
    readonly Thread _thread;
    volatile bool _stopping;

    /// <summary>Binds <paramref name="path"/> (creating its directory, replacing a stale socket file) and starts serving.</summary>
    public ControlServer(string path, LiveSession session)
    {
        Path = System.IO.Path.GetFullPath(path);
        _session = session;
        string? dir = System.IO.Path.GetDirectoryName(Path);
        if (dir is { Length: > 0 }) Directory.CreateDirectory(dir);
        RemoveStale(Path);
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            _listener.Bind(new UnixDomainSocketEndPoint(Path));
            // The listings show every client address and NAT binding on the node: for its owner only.
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            _listener.Listen(128);
        }
        catch (SocketException e)
        {
            _listener.Dispose();
            throw new IOException($"control socket {Path}: {e.Message}", e);
        }
        _thread = new Thread(Serve) { IsBackground = true, Name = "dataplane-control" };
        _thread.Start();
    }

    public string Path { get; }

    public static string DefaultPath(string tap) => System.IO.Path.Combine(DefaultDirectory, tap + ".sock");

    /// <summary>
    /// A socket file left by a process that died is replaced; one that still answers belongs to a running data plane,
    /// and taking it over would leave that one unreachable.
    /// </summary>
    static void RemoveStale(string path)
    {
        if (!File.Exists(path)) return;
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new IOException($"control socket {path}: another dataplane is listening there (pass --control PATH)");
            }
            catch (SocketException)
            {
                // Nobody listens: stale.
            }
        }
        File.Delete(path);
    }

    void Serve()
    {
        while (!_stopping)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                if (_stopping) return;
                continue;
            }
            if (Interlocked.Increment(ref _clients) > MaxClients)
            {
                Interlocked.Decrement(ref _clients);
                Refuse(client);
                continue;
            }
            _served.TryAdd(client, 0);
            var t = new Thread(() => ServeClient(client)) { IsBackground = true, Name = "dataplane-control-client" };
            t.Start();
        }
    }

    void ServeClient(Socket client)
    {
        try
        {
            using (client) Answer(client);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            // The client went away or stalled: its problem, the others are served.
        }
        catch (Exception e) when (!Fatal.Is(e))
        {
            // A listing that failed must not take the data plane down with it (an unhandled exception on this thread
            // would end the process): the client gets a cut-short answer, the packet threads never notice.
        }
        finally
        {
            _served.TryRemove(client, out _);
            Interlocked.Decrement(ref _clients);
        }
    }

    /// <summary>Over the limit: say so without reading anything, so the refusal itself cannot be stalled.</summary>
    static void Refuse(Socket client)
    {
        using (client)
        {
            try
            {
                client.Blocking = false;
                client.Send("error: busy: too many control clients, try again\n"u8);
                client.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException) { }
        }
    }

    void Answer(Socket client)
    {
        client.SendTimeout = (int)SendTimeout.TotalMilliseconds;
        string request = ReadRequest(client, Environment.TickCount64 + (long)RequestTimeout.TotalMilliseconds);
        using var stream = new NetworkStream(client, ownsSocket: false);
        using (var w = new StreamWriter(stream, new UTF8Encoding(false), bufferSize: 64 * 1024) { NewLine = "\n" })
            Execute(request, w);
        client.Shutdown(SocketShutdown.Send);
    }

    /// <summary>
    /// Reads the request line by <paramref name="deadline"/> (a whole-request deadline, so a client trickling one byte
    /// at a time cannot keep its slot longer than one that sends nothing).
    /// </summary>
    static string ReadRequest(Socket client, long deadline)
    {
        Span<byte> buf = stackalloc byte[MaxRequestBytes];
        int used = 0;
        while (used < buf.Length)
        {
            long left = deadline - Environment.TickCount64;
            if (left <= 0 || !client.Poll((int)Math.Min(left * 1000, int.MaxValue), SelectMode.SelectRead))
                throw new IOException("control client sent no request in time");
            int n = client.Receive(buf[used..]);
            if (n == 0) break;
            int nl = buf.Slice(used, n).IndexOf((byte)'\n');
            used += n;
            if (nl >= 0) break;
        }
        string text = Encoding.UTF8.GetString(buf[..used]);
        int end = text.IndexOf('\n');
        return (end >= 0 ? text[..end] : text).Trim();
    }

    /// <summary>Runs one request against the live session, writing its answer to <paramref name="w"/>.</summary>
    public void Execute(string request, TextWriter w)
    {
        switch (string.Join(' ', request.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
        {
            case "ct list":
                foreach (var p in _session.Workers.Pipelines) ConntrackListing.WriteCt(w, p.Conntrack, p.Maps, LiveClock.NowNs());
                break;
            case "nat list":
                foreach (var p in _session.Workers.Pipelines) ConntrackListing.WriteNat(w, p.Conntrack, LiveClock.NowNs());
                break;
            case "counters":
                _session.WriteCounters(w);
                break;
            default:
                w.WriteLine($"error: unknown request '{request}' (ct list, nat list, counters)");
                break;
        }
    }

    /// <summary>
    /// Stops accepting, cuts the answers in progress short (their sockets are shut down, so their next write fails)
    /// and waits for their threads: once this returns no listing reads the session's tables any more, and their owner
    /// may release them.
    /// </summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _listener.Dispose(); // unblocks Accept
        _thread.Join(SendTimeout);
        foreach (Socket client in _served.Keys)
        {
            try { client.Shutdown(SocketShutdown.Both); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        }
        SpinWait.SpinUntil(() => Volatile.Read(ref _clients) == 0, SendTimeout);
        try { File.Delete(Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
