using System.Buffers.Binary;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Pipeline;

/// <summary>
/// Spreads frames over N workers so that every packet of a connection, in both directions and after NAT, reaches the
/// worker that owns its conntrack entry: each worker then owns its tables outright (no sharing, no locks), the way a
/// NIC's RSS queues feed per-CPU datapaths.
/// <para>
/// Plain RSS hashes the 5-tuple as it arrives, which NAT breaks: a reply comes back on other addresses. The key here
/// is the connection's client port, which both directions carry (VPP's NAT44 worker hand-off works the same way):
/// port p is in flow class p mod K (<see cref="PipelineOptions.ClassOf"/>: K = 64 by default, a property of the
/// configuration; the ports below 1024 are one class) and class c belongs to worker c mod N:
/// <list type="bullet">
/// <item>to a masquerade address (a node IP, the pod gateway) on a port masquerade can allocate: the reply of a
/// masqueraded connection, by that port (the pipeline chose it in the client port's class, or kept the client's
/// port);</item>
/// <item>to a service frontend address, or to a service endpoint (address, port, protocol): a connection's original
/// direction, or a direct flow the pipeline tracks because it can clash with one, by the source port;</item>
/// <item>anything else (a DNAT-only reply going back to its client, untracked traffic): by the destination port.</item>
/// </list>
/// So every packet of a class reaches one worker, in capture order, and the pipeline's decisions depend only on the
/// packet, its connection and other connections of its class (a SNAT port clash, <see cref="Stages.ConntrackStage"/>):
/// verdicts and bytes do not depend on the worker count.
/// ICMP errors are steered by the datagram they quote, read the same way; later fragments (no ports) follow their
/// first fragment through the caller's <see cref="FragmentSteering"/>.
/// </para>
/// <para>
/// Limits: a frontend on a masquerade address at a port masquerade can allocate would be taken for a reply: a NodePort
/// inside the SNAT port range (the defaults, 30000-32767 and 32768-65535, do not overlap), or below 1024 while
/// privileged client ports keep their class; ICMP echo and foreign protocols go by source address; a client that is
/// itself an endpoint and talks from its served port to another endpoint (both ends endpoints, different ports)
/// is steered by one port one way and by the other back.
/// </para>
/// </summary>
public sealed class FlowSteering
{
    readonly int _workers, _classes;
    readonly PipelineOptions _options;
    readonly FragmentSteering _fragments = new();

    public FlowSteering(int workers, PipelineOptions options)
    {
        if (workers < 1) throw new ArgumentOutOfRangeException(nameof(workers));
        _workers = workers;
        _options = options;
        _classes = options.FlowClasses;
    }

    public int Workers => _workers;

    /// <summary>The worker for <paramref name="frame"/> (an Ethernet frame); malformed frames go to worker 0.</summary>
    public int WorkerFor(ReadOnlySpan<byte> frame, MapSet maps) => _workers == 1 ? 0 : WorkerFor(FrameKey.Read(frame), frame, maps);

    /// <summary>The same, for a frame whose <see cref="FrameKey"/> the caller has read (and keeps for its prefetch hints).</summary>
    public int WorkerFor(in FrameKey k, ReadOnlySpan<byte> frame, MapSet maps)
    {
        if (_workers == 1 || !k.IsIpv4) return 0;
        if (k.IsLaterFragment)
            return _fragments.TryGet(k.Src, k.Dst, k.Proto, k.Id, out int owner) ? owner : Hash(k.Src, 0);
        int worker;
        if (k.HasPorts)
            worker = Steer(k.Src, k.SrcPort, k.Dst, k.DstPort, k.Proto, maps);
        else if (k.Proto == IpProto.Icmp && frame.Length >= k.L4Offset + 8 + 20 && frame[k.L4Offset] is L4.IcmpDestUnreachable or L4.IcmpTimeExceeded)
            worker = SteerQuoted(frame[(k.L4Offset + 8)..], maps);
        else
            worker = Hash(k.Src, 0);
        if (k.HasMoreFragments) _fragments.Remember(k.Src, k.Dst, k.Proto, k.Id, worker);
        return worker;
    }

    // Every connection is steered by its client's port, in both directions: the original direction by its source port,
    // replies by their destination port, which is the client's own port or a SNAT port of the same flow class.
    // A direct flow to a service endpoint goes by its source port too: it is tracked (ConntrackStage.Direct) and its
    // reply tuple can clash with a service connection from the same client port, so both must meet in one table.
    int Steer(uint src, ushort sport, uint dst, ushort dport, byte proto, MapSet maps)
    {
        if (IsSnatPort(dport, _options) && IsMasqueradeAddress(dst, maps.Node)) return Owner(dport);
        if (maps.IsFrontendAddress(dst) || maps.IsEndpoint(dst, dport, proto)) return Owner(sport);
        return Owner(dport);
    }

    /// <summary>
    /// An ICMP error travels towards the sender of the datagram it quotes. If that datagram came from a frontend (a
    /// translated reply), the error is about the reply direction and belongs to the quoted destination, the client;
    /// otherwise to the quoted source (the client, or the masquerade address and SNAT port).
    /// </summary>
    int SteerQuoted(ReadOnlySpan<byte> inner, MapSet maps)
    {
        int ihl = (inner[0] & 0xF) * 4;
        if (ihl < 20 || inner.Length < ihl + 4 || inner[9] is not (IpProto.Tcp or IpProto.Udp or IpProto.Sctp)) return 0;
        uint qsrc = BinaryPrimitives.ReadUInt32BigEndian(inner[12..]), qdst = BinaryPrimitives.ReadUInt32BigEndian(inner[16..]);
        ushort qsport = BinaryPrimitives.ReadUInt16BigEndian(inner[ihl..]), qdport = BinaryPrimitives.ReadUInt16BigEndian(inner[(ihl + 2)..]);
        // A masqueraded packet's source is a node address, which is also a NodePort frontend address: its SNAT port
        // decides first, as for the replies themselves.
        if (IsSnatPort(qsport, _options) && IsMasqueradeAddress(qsrc, maps.Node)) return Owner(qsport);
        if (maps.IsFrontendAddress(qsrc) || maps.IsEndpoint(qsrc, qsport, inner[9])) return Owner(qdport);
        return Owner(qsport);
    }

    /// <summary>A port masquerade may allocate: the SNAT range, and the privileged classes when they apply.</summary>
    static bool IsSnatPort(ushort port, PipelineOptions o) =>
        (port >= o.SnatPortMin && port <= o.SnatPortMax) || (o.SnatPrivilegedClasses && port is >= 1 and <= 511 or >= 600 and <= 1023);

    static bool IsMasqueradeAddress(uint a, NodeInfo node) => node.IsNodeAddress(a) || (node.PodCidr is { } pod && pod.At(1) == a);

    int Hash(uint ip, ushort port) => HashWorker(ip, port, _workers);

    static int HashWorker(uint ip, ushort port, int workers) => (int)((ulong)HashMix.Mix(((ulong)ip << 16) | port, 0, 0x5EEDu) * (ulong)workers >> 32);

    /// <summary>The worker that owns <paramref name="port"/>'s flow class.</summary>
    int Owner(ushort port) => PipelineOptions.ClassOf(port, _classes) % _workers;
}

/// <summary>Datagram (src, dst, proto, id) → the worker its first fragment went to; bounded, oldest overwritten.</summary>
public sealed class FragmentSteering
{
    const int Size = 4096;
    readonly ulong[] _keys = new ulong[Size];
    readonly int[] _workers = new int[Size];

    static ulong Key(uint src, uint dst, byte proto, ushort id) => ((ulong)HashMix.Mix(((ulong)src << 32) | dst, ((ulong)proto << 16) | id, 0) << 32) | ((ulong)proto << 16) | id | 1UL << 31;

    public void Remember(uint src, uint dst, byte proto, ushort id, int worker)
    {
        ulong k = Key(src, dst, proto, id);
        int slot = (int)((k >> 32) & (Size - 1));
        _keys[slot] = k;
        _workers[slot] = worker;
    }

    public bool TryGet(uint src, uint dst, byte proto, ushort id, out int worker)
    {
        ulong k = Key(src, dst, proto, id);
        int slot = (int)((k >> 32) & (Size - 1));
        worker = _workers[slot];
        return _keys[slot] == k;
    }
}
