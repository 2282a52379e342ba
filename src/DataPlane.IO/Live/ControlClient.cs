using System.Net.Sockets;
using System.Text;

namespace DataPlane.IO.Live;

/// <summary>The other end of <see cref="ControlServer"/>: sends one request line and copies the answer to a writer.</summary>
public static class ControlClient
{
    /// <summary>
    /// Sends <paramref name="request"/> to the control socket at <paramref name="path"/> and writes the answer to
    /// <paramref name="output"/>. Throws <see cref="IOException"/> with one line saying what is wrong when nothing
    /// listens there, the server stalls past <paramref name="timeout"/> or answers with an error.
    /// </summary>
    public static void Request(string path, string request, TextWriter output, TimeSpan timeout)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.ReceiveTimeout = socket.SendTimeout = (int)timeout.TotalMilliseconds;
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e)
        {
            string why = !File.Exists(path) ? "no such socket"
                : e.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused: a stale socket, its data plane is gone"
                : e.SocketErrorCode == SocketError.AccessDenied ? "permission denied: run as the data plane's user (root)"
                : e.Message;
            throw new IOException($"{path}: no running `dataplane run` to ask ({why}); start one or pass --control PATH", e);
        }
        try
        {
            // The stream first: NetworkStream refuses a socket whose sending side is already shut down.
            using var stream = new NetworkStream(socket, ownsSocket: false);
            stream.Write(Encoding.UTF8.GetBytes(request + "\n"));
            socket.Shutdown(SocketShutdown.Send);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            string? first = reader.ReadLine();
            if (first is null) return;
            if (first.StartsWith("error: ", StringComparison.Ordinal))
                throw new IOException($"{path}: {first["error: ".Length..]}");
            output.WriteLine(first);
            char[] buffer = new char[16 * 1024];
            int n;
            while ((n = reader.Read(buffer, 0, buffer.Length)) > 0) output.Write(buffer, 0, n);
        }
        catch (Exception e) when (e is SocketException || e is IOException { InnerException: SocketException })
        {
            // A stalled or vanished server: name the socket, keep it one line.
            throw new IOException($"{path}: {e.Message}", e);
        }
    }
}
