namespace DataPlane.Pipeline;

/// <summary>Data-plane settings that are not part of a map generation.</summary>
public sealed record PipelineOptions
{
    /// <summary>Seed of backend selection, SNAT port choice and ICMP ids (replay determinism; <see cref="DeterministicRandom"/>).</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>Conntrack capacity (power of two). 2^20 holds 1 M flows at 96 B each.</summary>
    public int CtCapacity { get; init; } = 1 << 20;
    /// <summary>SNAT source-port range: cilium's NodePort SNAT range, nodePort max + 1 .. 65535.</summary>
    public ushort SnatPortMin { get; init; } = 32768;
    public ushort SnatPortMax { get; init; } = 65535;
    /// <summary>
    /// Privileged client ports keep their class when masqueraded, as the kernel's MASQUERADE without --to-ports does
    /// (nf_nat_l4proto_unique_tuple: 1-511 within 1-511, 512-1023 within 600-1023); ports from 1024 use the SNAT range.
    /// Off when a SNAT range was given explicitly (MASQUERADE --to-ports: the range for every port).
    /// </summary>
    public bool SnatPrivilegedClasses { get; init; } = true;
    /// <summary>Bounded probing for a free SNAT port (cilium SNAT_COLLISION_RETRIES in large-instruction builds).</summary>
    public int SnatRetries { get; init; } = 128;
    /// <summary>Datagrams in flight as fragments that can be tracked at once (cilium's default fragment map size).</summary>
    public int FragmentCapacity { get; init; } = 8192;
    /// <summary>Memory for fragments held until their datagram's first fragment arrives (<see cref="FragmentHold"/>),
    /// the node's: net.ipv4.ipfrag_high_thresh, 4 MB by default.</summary>
    public int FragmentHoldBytes { get; init; } = FragmentHold.DefaultBytes;
    /// <summary>
    /// Conntrack slots the incremental GC inspects per packet, in steps of 16 packets: 1 M slots are swept every 1 M
    /// packets. GC only reclaims space (lookups already ignore expired entries), so a slow sweep is enough; 4 slots per
    /// packet measured +7 ns/packet on the established path, 1 slot about +2 ns.
    /// </summary>
    public int GcSlotsPerPacket { get; init; } = 1;
    /// <summary>
    /// Connections fall into this many classes by their client's port (port mod classes): a masqueraded connection
    /// gets a SNAT port of its own class, so its replies name the class too, and <see cref="FlowSteering"/> hands
    /// whole classes to workers. 64 (the most workers) when every class still has at least 64 ports of the SNAT
    /// range, fewer for a narrow <c>--snat-range</c> (one class for fewer than 128 ports: any connection may take any
    /// port, as the kernel's MASQUERADE does). A property of the configuration, never of the worker count, so the
    /// verdicts are the same with any number of workers.
    /// </summary>
    /// <summary>
    /// The flow class of a client or SNAT <paramref name="port"/>: ports below 1024 are one class (0), so masquerade
    /// can keep the kernel's privileged port classes whole (1-511, 600-1023, <see cref="SnatPrivilegedClasses"/>);
    /// the others by their low bits.
    /// </summary>
    public static int ClassOf(ushort port, int classes) => port < 1024 ? 0 : port & (classes - 1);

    public int FlowClasses
    {
        get
        {
            int size = SnatPortMax - SnatPortMin + 1, k = 64;
            while (k > 1 && size / k < 64) k >>= 1;
            return k;
        }
    }

    /// <summary>
    /// Ports the node itself serves on its addresses (<c>--host-ports</c>); traffic to a node address on another port
    /// and on no service is answered by the node (TCP RST, ICMP port unreachable) instead of passed.
    /// </summary>
    public HostPortSet HostPorts { get; init; } = HostPortSet.Default;

    // Conntrack lifetimes, cilium's defaults (bpf-ct-timeout-*): a flow that has only seen SYNs, an established TCP
    // flow, a TCP flow closing in both directions (or reset), and any non-TCP flow.
    public TimeSpan TcpSynTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan TcpEstablishedTimeout { get; init; } = TimeSpan.FromHours(6);
    public TimeSpan TcpCloseTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan NonTcpTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
