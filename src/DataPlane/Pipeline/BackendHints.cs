namespace DataPlane.Pipeline;

/// <summary>
/// <c>replay --backends follow</c>: the backend a capture shows each connection reached, keyed by the connection as it
/// arrived (protocol, client address and port, service address and port). Where the Service semantics allow several
/// outcomes (any usable endpoint), the replay takes the one the real node took instead of drawing its own, so the
/// capture's replies find their connection (<see cref="Stages.BackendSelectStage"/>).
/// <para>
/// Concurrency: built once before the replay, then only read, by every worker: no writer, no lock.
/// </para>
/// </summary>
public sealed class BackendHints
{
    /// <summary>A connection as it arrived at the node.</summary>
    public readonly record struct Connection(byte Proto, uint Client, ushort ClientPort, uint Frontend, ushort FrontendPort);

    /// <summary>A run of evidence from one backend: the first and last capture times it was seen at.</summary>
    readonly record struct Run(long FirstNs, long LastNs, uint Address, ushort Port);

    /// <summary>Per connection tuple, its runs in capture order (a tuple reused by later connections has several).</summary>
    readonly Dictionary<Connection, List<Run>> _runs = [];

    /// <summary>Runs kept per tuple: bounds a tuple whose replies alternate between backends frame after frame.</summary>
    public const int MaxRunsPerConnection = 64;

    /// <summary>Per connection tuple, the source the node masqueraded it to, in capture order (<c>verify</c>).</summary>
    readonly Dictionary<Connection, List<Run>> _snat = [];

    /// <summary>Connection tuples with evidence.</summary>
    public int Count => _runs.Count;

    /// <summary>
    /// Evidence that the node masqueraded the connection to <paramref name="address"/>:<paramref name="port"/> (its
    /// translated copy left with that source). Which source port MASQUERADE takes is the kernel's choice within the
    /// client port's class (nf_nat_l4proto_unique_tuple), so a replay that follows the capture takes the same one
    /// (<see cref="Stages.ConntrackStage.Create"/>) and the node's replies, addressed to it, find their connection.
    /// </summary>
    public void AddSnat(in Connection c, long nowNs, uint address, ushort port) => Add(_snat, c, nowNs, address, port);

    /// <summary>The masquerade source the capture shows for a connection that starts at <paramref name="nowNs"/>.</summary>
    public bool TryGetSnat(in Connection c, long nowNs, out uint address, out ushort port) => TryGet(_snat, c, nowNs, out address, out port);

    /// <summary>Evidence at capture time <paramref name="nowNs"/> (non-decreasing per tuple): the connection reached that backend.</summary>
    public void Add(in Connection c, long nowNs, uint address, ushort port) => Add(_runs, c, nowNs, address, port);

    static void Add(Dictionary<Connection, List<Run>> all, in Connection c, long nowNs, uint address, ushort port)
    {
        if (!all.TryGetValue(c, out List<Run>? runs)) all[c] = runs = [];
        if (runs.Count > 0 && runs[^1] is var last && last.Address == address && last.Port == port)
            runs[^1] = last with { LastNs = nowNs };
        else if (runs.Count < MaxRunsPerConnection)
            runs.Add(new Run(nowNs, nowNs, address, port));
    }

    /// <summary>
    /// The backend a connection that starts at <paramref name="nowNs"/> reached: the first run of evidence still
    /// going on at or after that time (its replies come after its first packet).
    /// </summary>
    public bool TryGet(in Connection c, long nowNs, out uint address, out ushort port) => TryGet(_runs, c, nowNs, out address, out port);

    static bool TryGet(Dictionary<Connection, List<Run>> all, in Connection c, long nowNs, out uint address, out ushort port)
    {
        (address, port) = (0, 0);
        if (!all.TryGetValue(c, out List<Run>? runs)) return false;
        foreach (Run r in runs)
        {
            if (r.LastNs < nowNs) continue;
            (address, port) = (r.Address, r.Port);
            return true;
        }
        return false;
    }
}
