using System.Runtime.CompilerServices;

namespace DataPlane.Dns;

/// <summary>
/// The DNS server's TCP connections of one worker (RFC 7766): a fixed-capacity, 4-way set-associative table keyed by
/// the client's address and port and the server address, holding what a socket holds for a query stream — our next
/// sequence number and oldest unacknowledged one, the client's next expected sequence number, the send MSS. The
/// handshake itself keeps no state (<see cref="DnsTcpCookie"/>, as Linux with <c>tcp_syncookies=2</c>): an entry is
/// made by the third ACK whose acknowledgement number is a valid SYN cookie, so a SYN flood cannot fill the table.
/// <para>
/// Concurrency: one writer and reader, the owning worker's thread (frames are steered to workers by connection, so one
/// connection's segments always meet the same table). Nothing is allocated after construction.
/// </para>
/// <para>
/// Bounds: <see cref="Capacity"/> connections per worker. An entry idle for <see cref="IdleNs"/> is gone (the server
/// closed it); a new connection takes a free or idle way of its bucket, else the least recently used one, whose client
/// then gets a RST for its next segment, as a server that dropped the connection would send.
/// </para>
/// </summary>
public sealed class DnsTcpTable
{
    /// <summary>Ways per bucket: 4 entries of 40 bytes, a probe touches at most three cache lines.</summary>
    public const int Ways = 4;

    /// <summary>
    /// Connections per worker: clients keep one stream to their server and close it when idle (RFC 7766 §6.2.3), so a
    /// node's pods rarely hold more than a few hundred at once; 1024 × 40 bytes is 40 KB a worker.
    /// </summary>
    public const int DefaultCapacity = 1024;

    /// <summary>
    /// A connection idle this long has been closed by the server: miekg/dns's server (which CoreDNS serves TCP
    /// through) closes a TCP connection after 8 s without a query (<c>tcpIdleTimeout</c>, RFC 7766 §6.2.3 asks for
    /// seconds).
    /// </summary>
    public const long IdleNs = 8_000_000_000;

    internal const byte Free = 0, Established = 1, LastAck = 2;

    internal struct Entry
    {
        /// <summary>Client address and server address (host order, as the packet context holds them).</summary>
        public uint Client, Server;
        public ushort ClientPort;
        /// <summary><see cref="Free"/>, <see cref="Established"/>, or <see cref="LastAck"/> (our FIN sent, awaiting its ACK).</summary>
        public byte State;
        /// <summary>The send MSS: the client's MSS as the cookie kept it (Linux's msstab value).</summary>
        public ushort Mss;
        /// <summary>Oldest unacknowledged sequence number we sent, and the next we send (RFC 9293 SND.UNA, SND.NXT).</summary>
        public uint SndUna, SndNxt;
        /// <summary>The client's next sequence number expected: every byte before it has been consumed (RCV.NXT).</summary>
        public uint RcvNxt;
        /// <summary>Clock of the last segment accepted.</summary>
        public long LastNs;
    }

    readonly Entry[] _entries;
    readonly int _bucketMask;

    /// <param name="capacity">A power of two, at least <see cref="Ways"/>.</param>
    public DnsTcpTable(int capacity = DefaultCapacity)
    {
        if (capacity < Ways || (capacity & (capacity - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(capacity), "a power of two, at least 4");
        _entries = new Entry[capacity];
        _bucketMask = capacity / Ways - 1;
    }

    public int Capacity => _entries.Length;

    /// <summary>Connections open at <paramref name="nowNs"/> (tests and listings; walks the table).</summary>
    public int Count(long nowNs)
    {
        int n = 0;
        foreach (ref Entry e in _entries.AsSpan())
            if (Live(in e, nowNs)) n++;
        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static bool Live(in Entry e, long nowNs) => e.State != Free && nowNs - e.LastNs < IdleNs;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    int Bucket(uint client, ushort port, uint server) =>
        (int)(Maps.HashMix.Mix(((ulong)client << 32) | server, port, 0x64_6e_73_74_63_70) & (uint)_bucketMask) * Ways;

    /// <summary>The open connection, or a null reference.</summary>
    internal ref Entry Find(uint client, ushort port, uint server, long nowNs)
    {
        int b = Bucket(client, port, server);
        for (int i = b; i < b + Ways; i++)
        {
            ref Entry e = ref _entries[i];
            if (e.Client == client && e.ClientPort == port && e.Server == server && Live(in e, nowNs)) return ref e;
        }
        return ref Unsafe.NullRef<Entry>();
    }

    /// <summary>A way for a new connection: a free or idle one, else the bucket's least recently used.</summary>
    internal ref Entry Insert(uint client, ushort port, uint server, long nowNs)
    {
        int b = Bucket(client, port, server), victim = b;
        for (int i = b; i < b + Ways; i++)
        {
            ref Entry e = ref _entries[i];
            if (!Live(in e, nowNs) || (e.Client == client && e.ClientPort == port && e.Server == server)) { victim = i; break; }
            if (e.LastNs < _entries[victim].LastNs) victim = i;
        }
        ref Entry v = ref _entries[victim];
        v = new Entry { Client = client, ClientPort = port, Server = server, LastNs = nowNs };
        return ref v;
    }

    internal static void Remove(ref Entry e) => e.State = Free;
}
