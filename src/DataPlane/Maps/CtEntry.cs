using System.Runtime.InteropServices;
using DataPlane.Packets;

namespace DataPlane.Maps;

public enum CtDirection : byte
{
    /// <summary>The client's direction: the tuple the first packet carried, before any translation.</summary>
    Original = 0,
    /// <summary>The backend's answers, as they arrive (after translation of the original direction).</summary>
    Reply = 1,
}

[Flags]
public enum CtFlags : byte
{
    None = 0,
    /// <summary>The slot holds a connection (cleared on delete; what 'ct list' snapshots test).</summary>
    Live = 1 << 0,
    /// <summary>The destination was translated to a backend (a service connection).</summary>
    Dnat = 1 << 1,
    /// <summary>The source was translated (masquerade): the reply tuple's destination is not the client.</summary>
    Snat = 1 << 2,
    /// <summary>A packet was seen in the reply direction (conntrack's SEEN_REPLY).</summary>
    SeenReply = 1 << 3,
    /// <summary>The frontend was a NodePort / external address (cilium's node_port bit).</summary>
    NodePort = 1 << 4,
}

/// <summary>
/// One tracked connection, as in Linux's <c>nf_conn</c>: both tuples and hence the translation for both directions.
/// A packet matching <see cref="Original"/> leaves as Reply reversed; a packet matching <see cref="Reply"/> leaves as
/// Original reversed. NAT and reverse NAT are therefore the same operation read from either end, which is what makes
/// "translate then reverse-translate is the identity" hold by construction.
/// 64 bytes: one cache line per connection.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct CtEntry
{
    public CtTuple4 Original;
    public CtTuple4 Reply;
    /// <summary>Absolute expiry on the pipeline's clock (ns); refreshed by every packet.</summary>
    public long ExpiresNs;
    /// <summary>Creation sequence number: names the flow in verdict records and 'ct list'.</summary>
    public uint FlowId;
    /// <summary>Backend the connection is pinned to (0 for non-service connections).</summary>
    public uint BackendId;
    /// <summary>Seqlock word for readers on other threads: odd while the owner writes the entry.</summary>
    public int Seq;
    public ushort RevNatIndex;
    public CtFlags Flags;
    /// <summary>OR of TCP flags seen in the original direction (cilium tx_flags_seen). SCTP: the <see cref="SctpState"/>.</summary>
    public byte TcpFlagsOriginal;
    /// <summary>OR of TCP flags seen in the reply direction (cilium rx_flags_seen). SCTP: bit 0x80 = ASSURED.</summary>
    public byte TcpFlagsReply;
    /// <summary>
    /// TCP window scale each side offered in its SYN, plus one (0: no option, or no SYN seen): low nibble the original
    /// direction's, high nibble the reply direction's. Bounds each side's largest possible window (65535 &lt;&lt; scale,
    /// RFC 7323) where the kernel keeps td_maxwin, the largest window seen.
    /// </summary>
    public byte TcpWindowScales;
    /// <summary>
    /// Low 16 bits of the map generation this entry was last checked against: a UDP service connection is re-checked
    /// once per generation for a backend that stopped serving (kube-proxy's UDP conntrack cleanup).
    /// </summary>
    public ushort Generation;
    /// <summary>
    /// High 16 bits of the highest sequence number sent so far plus one (the kernel's td_end) in the original
    /// direction: the window check of an RST (nf_conntrack_proto_tcp.c tcp_in_window) at 64 KiB granularity, which
    /// is what fits in the line's padding.
    /// </summary>
    public ushort TcpEndOriginal;
    /// <summary>The same for the reply direction.</summary>
    public ushort TcpEndReply;

    /// <summary>
    /// A TCP connection that is over: reset in either direction, or a FIN seen both ways (conntrack's CLOSE and
    /// TIME_WAIT). A SYN on it starts a new connection (cilium ct_lookup, the kernel's tcp_new on a closed tuple), and
    /// it lives only the close timeout.
    /// </summary>
    public readonly bool IsClosed =>
        Original.Proto == IpProto.Tcp &&
        (((TcpFlagsOriginal | TcpFlagsReply) & L4.TcpRst) != 0 || (TcpFlagsOriginal & TcpFlagsReply & L4.TcpFin) != 0);
}
