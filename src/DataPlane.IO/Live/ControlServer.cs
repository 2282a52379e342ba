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
/// Concurrency: one thread accepts connections and reads their request lines, all of them at once, by polling
/// (<see cref="Socket.Select"/>) non-blocking sockets: a client that connects and stays silent costs a socket and a
/// 256-byte buffer, never a thread, until <see cref="RequestTimeout"/> closes it. At most <see cref="MaxPending"/>
/// connections wait for their request line; one more closes the one that has waited longest (it is the closest to its
/// deadline anyway), so however many silent connections are opened, a client that sends its request within
/// <see cref="RequestTimeout"/> is served unless <see cref="MaxPending"/> newer connections arrive before it does.
/// A complete request is answered on its own short-lived thread, at most <see cref="MaxClients"/> at a time (one
/// more is told <c>error: busy</c>): only a client that has asked and then does not read its answer holds a slot,
/// for at most <see cref="SendTimeout"/> per write. Answers read conntrack entries through the map's seqlock
/// snapshots and counters through their seqlock snapshots, so a listing never stops or slows the packet threads
/// beyond cache traffic.
/// </para>
/// </summary>
public sealed class ControlServer : IDisposable
{
    /// <summary>Where <c>dataplane run</c> listens unless told otherwise: one socket per TAP, under /run like other daemons.</summary>
    public const string DefaultDirectory = "/run/dataplane";
    /// <summary>A request is one short line; anything longer is not a client of ours.</summary>
    const int MaxRequestBytes = 256;
    /// <summary>Answers written at once, each on its own thread (a request has been read: the client is a real one).</summary>
    public const int MaxClients = 32;
    /// <summary>
    /// Connections waiting for their request line, polled by the accepting thread. Bounded so a flood of silent
    /// connections cannot exhaust the process's file descriptors (the default soft limit is 1024), and evicted oldest
    /// first so the flood cannot keep a newer, real client out.
    /// </summary>
    public const int MaxPending = 256;
    /// <summary>How often the polling thread looks at its deadlines and at <see cref="Dispose"/> when nothing arrives.</summary>
    const int PollMicroseconds = 100_000;
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

    /// <summary>A connection whose request line is still being read.</summary>
    sealed class Pending(Socket socket, long deadline)
    {
        public readonly Socket Socket = socket;
        public readonly long Deadline = deadline;
        public readonly byte[] Buffer = new byte[MaxRequestBytes];
        public int Used;
    }

    void Serve()
    {
        var pending = new List<Pending>();
        var readable = new List<Socket>();
        try
        {
            while (!_stopping)
            {
                readable.Clear();
                readable.Add(_listener);
                foreach (Pending p in pending) readable.Add(p.Socket);
                try
                {
                    Socket.Select(readable, null, null, PollMicroseconds);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    if (_stopping) return;
                    continue;
                }
                long now = Environment.TickCount64;
                for (int i = pending.Count - 1; i >= 0; i--)
                {
                    Pending p = pending[i];
                    if (readable.Contains(p.Socket))
                    {
                        string? request = Read(p);
                        if (request is null) continue;
                        pending.RemoveAt(i);
                        if (p.Used == 0) Close(p.Socket); // gone without a word
                        else Dispatch(p.Socket, request);
                    }
                    else if (now >= p.Deadline)
                    {
                        // Silent past its deadline: not a client of ours (a real one sends its line at once).
                        pending.RemoveAt(i);
                        Close(p.Socket);
                    }
                }
                if (readable.Contains(_listener)) AcceptInto(pending);
            }
        }
        finally
        {
            foreach (Pending p in pending) Close(p.Socket);
        }
    }

    /// <summary>Takes every connection the backlog holds (up to a round's worth), so a flood is drained, not queued.</summary>
    void AcceptInto(List<Pending> pending)
    {
        for (int i = 0; i < MaxPending; i++)
        {
            Socket client;
            try
            {
                if (i > 0 && !_listener.Poll(0, SelectMode.SelectRead)) return;
                client = _listener.Accept();
                client.Blocking = false;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            Admit(pending, client);
        }
    }

    static void Admit(List<Pending> pending, Socket client)
    {
        if (pending.Count >= MaxPending)
        {
            int oldest = 0;
            for (int i = 1; i < pending.Count; i++)
                if (pending[i].Deadline < pending[oldest].Deadline) oldest = i;
            Close(pending[oldest].Socket);
            pending.RemoveAt(oldest);
        }
        pending.Add(new Pending(client, Environment.TickCount64 + (long)RequestTimeout.TotalMilliseconds));
    }

    /// <summary>
    /// Reads what has arrived: the request once its line is complete (or the buffer is full, or the client has shut
    /// down its side); null while more is to come. A connection that failed yields an empty request and is closed by
    /// its answer.
    /// </summary>
    static string? Read(Pending p)
    {
        int n;
        try
        {
            n = p.Socket.Receive(p.Buffer, p.Used, p.Buffer.Length - p.Used, SocketFlags.None);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
        {
            return null;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            n = 0;
        }
        int nl = n > 0 ? Array.IndexOf(p.Buffer, (byte)'\n', p.Used, n) : -1;
        p.Used += n;
        if (n > 0 && nl < 0 && p.Used < p.Buffer.Length) return null;
        string text = Encoding.UTF8.GetString(p.Buffer, 0, nl >= 0 ? nl : p.Used);
        return text.Trim();
    }

    /// <summary>Answers a complete request on its own thread, or says busy when <see cref="MaxClients"/> are being answered.</summary>
    void Dispatch(Socket client, string request)
    {
        if (Interlocked.Increment(ref _clients) > MaxClients)
        {
            Interlocked.Decrement(ref _clients);
            Refuse(client);
            return;
        }
        _served.TryAdd(client, 0);
        var t = new Thread(() => ServeClient(client, request)) { IsBackground = true, Name = "dataplane-control-client" };
        t.Start();
    }

    static void Close(Socket s)
    {
        try { s.Dispose(); }
        catch (SocketException) { }
    }

    void ServeClient(Socket client, string request)
    {
        try
        {
            using (client) Answer(client, request);
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

    /// <summary>Over the limit: say so without waiting on the client, so the refusal itself cannot be stalled.</summary>
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

    void Answer(Socket client, string request)
    {
        client.Blocking = true;
        client.SendTimeout = (int)SendTimeout.TotalMilliseconds;
        using var stream = new NetworkStream(client, ownsSocket: false);
        using (var w = new StreamWriter(stream, new UTF8Encoding(false), bufferSize: 64 * 1024) { NewLine = "\n" })
            Execute(request, w);
        client.Shutdown(SocketShutdown.Send);
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
        _thread.Join(SendTimeout); // the poll wakes within PollMicroseconds and closes the connections still pending
        _listener.Dispose();
        foreach (Socket client in _served.Keys)
        {
            try { client.Shutdown(SocketShutdown.Both); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        }
        SpinWait.SpinUntil(() => Volatile.Read(ref _clients) == 0, SendTimeout);
        try { File.Delete(Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
