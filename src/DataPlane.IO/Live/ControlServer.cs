using System.Net.Sockets;
using System.Text;
using DataPlane.IO.Listings;

namespace DataPlane.IO.Live;

/// <summary>
/// The control socket of a running live session: a Unix stream socket where a client sends one request line and reads
/// the answer until the server closes the connection. Requests: <c>ct list</c> and <c>nat list</c> (the same
/// <see cref="ConntrackListing"/> text as <c>replay --dump-ct/--dump-nat</c>, seconds left counted on the live clock)
/// and <c>counters</c>. An unknown request is answered with one line starting <c>error: </c>.
/// <para>
/// Concurrency: one control thread serves clients one at a time. It reads conntrack entries through the map's seqlock
/// snapshots and counters through volatile reads, so a listing never stops or slows the packet thread beyond cache
/// traffic; a client that stalls is cut off by the socket timeouts, and only the control thread waits for it.
/// </para>
/// </summary>
public sealed class ControlServer : IDisposable
{
    /// <summary>Where <c>dataplane run</c> listens unless told otherwise: one socket per TAP, under /run like other daemons.</summary>
    public const string DefaultDirectory = "/run/dataplane";
    /// <summary>A request is one short line; anything longer is not a client of ours.</summary>
    const int MaxRequestBytes = 256;
    static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(5);

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
            _listener.Listen(8);
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
            using (client)
            {
                try
                {
                    Answer(client);
                }
                catch (Exception e) when (e is SocketException or IOException)
                {
                    // The client went away or stalled: its problem, the next one is served.
                }
            }
        }
    }

    void Answer(Socket client)
    {
        client.ReceiveTimeout = (int)ClientTimeout.TotalMilliseconds;
        client.SendTimeout = (int)ClientTimeout.TotalMilliseconds;
        string request = ReadRequest(client);
        using var stream = new NetworkStream(client, ownsSocket: false);
        using (var w = new StreamWriter(stream, new UTF8Encoding(false), bufferSize: 64 * 1024) { NewLine = "\n" })
            Execute(request, w);
        client.Shutdown(SocketShutdown.Send);
    }

    static string ReadRequest(Socket client)
    {
        Span<byte> buf = stackalloc byte[MaxRequestBytes];
        int used = 0;
        while (used < buf.Length)
        {
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
                foreach (var p in _session.Workers) ConntrackListing.WriteCt(w, p.Conntrack, p.Maps, LiveClock.NowNs());
                break;
            case "nat list":
                foreach (var p in _session.Workers) ConntrackListing.WriteNat(w, p.Conntrack, LiveClock.NowNs());
                break;
            case "counters":
                _session.WriteCounters(w);
                break;
            default:
                w.WriteLine($"error: unknown request '{request}' (ct list, nat list, counters)");
                break;
        }
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _listener.Dispose(); // unblocks Accept
        _thread.Join(ClientTimeout * 2);
        try { File.Delete(Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
