using System.Runtime.CompilerServices;
using DataPlane.Maps;

namespace DataPlane.Pipeline;

/// <summary>
/// What one stage did to one packet and the facts it decided on, copied from the context right after the stage
/// returned (an unmanaged value: recording allocates nothing). Which facts are meaningful depends on the stage:
/// <see cref="HasEntry"/> for the conntrack ones, <see cref="RevNatIndex"/> for the service ones, <see cref="Rule"/>
/// for stages with several rules behind one verdict.
/// </summary>
public struct StageRecord
{
    public PipelineStage Stage;
    public Verdict Verdict;
    public DropReason Reason;
    /// <summary>Which of the stage's rules decided (<see cref="StageRule.None"/> when the verdict and reason say it all).</summary>
    public StageRule Rule;

    // The packet as the stage left it.
    public byte Proto;
    public bool L4Parsed;
    public byte IcmpType;
    public byte TcpFlags;
    public uint SrcIp, DstIp;
    public ushort SrcPort, DstPort;

    // The IPv4 header as the stage saw it (after parse): the TTL rule, fragments and options decide on these.
    public byte Ttl;
    /// <summary>IHL in bytes (20 without options).</summary>
    public byte IpHeaderLength;
    public ushort IpId;
    /// <summary>Flags and fragment offset word (offset in 8-byte units in the low 13 bits, MF = 0x2000).</summary>
    public ushort FragmentField;
    /// <summary>The option types present (up to four, the first in the low byte; NOP and EOL left out).</summary>
    public uint IpOptionTypes;

    // ICMP errors: the quoted datagram's tuple (as the quoting host saw it).
    public byte InnerProto;
    public uint InnerSrcIp, InnerDstIp;
    public ushort InnerSrcPort, InnerDstPort;

    // Service lookup and backend selection.
    /// <summary>The frontend found (0: none).</summary>
    public ushort RevNatIndex;
    public ServiceFlags ServiceFlags;
    /// <summary>0 external, 1 internal (two-scope frontends).</summary>
    public byte Scope;
    /// <summary>The frontend's candidate slots (<c>maps.Slot(SlotOffset + i)</c>, i &lt; SlotCount).</summary>
    public uint SlotOffset;
    public ushort SlotCount;
    public uint BackendId;
    /// <summary>The backend chosen (address and port), when <see cref="BackendId"/> is set.</summary>
    public Lb4Backend Backend;
    public bool Masquerade;
    /// <summary>The IP protocol of a generated reply (ICMP error, TCP reset, DNS answer), 0 when none was written.</summary>
    public byte ReplyProto;
    /// <summary>The generated reply's addresses (and ports, for a TCP reset or a DNS answer).</summary>
    public uint ReplySrcIp, ReplyDstIp;
    public ushort ReplySrcPort, ReplyDstPort;
    /// <summary>A generated ICMP error's type and code (3/3 port unreachable, 11/0 TTL exceeded in transit).</summary>
    public byte ReplyIcmpType, ReplyIcmpCode;
    /// <summary>A generated TCP segment's flags (the node's reset, a DNS answer).</summary>
    public byte ReplyTcpFlags;

    // Conntrack.
    /// <summary>A conntrack entry belongs to this packet (a hit, or the entry just created).</summary>
    public bool HasEntry;
    public bool NewFlow;
    public CtDirection Direction;
    public CtFlags CtFlags;
    public uint FlowId;
    /// <summary>The entry's tuples: Original as the client sent it, Reply as the backend answers (its destination is
    /// the masquerade address when <see cref="CtFlags.Snat"/> is set).</summary>
    public CtTuple4 Original, Reply;

    // SCTP.
    /// <summary>The chunk types the packet carries (bit n for type n &lt; 32, as nf_conntrack_proto_sctp's map).</summary>
    public uint SctpChunks;
    /// <summary>The connection's SCTP state as the stage left it (with <see cref="HasEntry"/>).</summary>
    public SctpState SctpState;

    // Cluster DNS.
    /// <summary>The question's type (0 when the message held none that parsed).</summary>
    public ushort DnsType;
    /// <summary>The response's RCODE and answer count (with <see cref="ReplyProto"/> set).</summary>
    public byte DnsRcode;
    public ushort DnsAnswers;
    /// <summary>The question's name as text, ASCII, cut at <see cref="RecordedName.Capacity"/> bytes.</summary>
    public RecordedName DnsQuestion;

    // Link layer (replay): the capture's link type of a frame the replay kept from the pipelines.
    public ushort LinkType;
}

/// <summary>A DNS name kept in a record without a reference: up to 64 ASCII bytes, then cut (an unmanaged value).</summary>
[InlineArray(Capacity)]
public struct RecordedName
{
    public const int Capacity = 64;
    byte _b;

    /// <summary>The name's dotted text ("" when none was recorded); a cut name ends with "...".</summary>
    public readonly override string ToString()
    {
        ReadOnlySpan<byte> s = this;
        int n = s.IndexOf((byte)0);
        if (n < 0) n = Capacity;
        return System.Text.Encoding.ASCII.GetString(s[..n]);
    }
}

/// <summary>Names for the facts a record holds as numbers, shared by the trace view and the explanation.</summary>
public static class StageRecordNames
{
    /// <summary>"[INIT, DATA]": the SCTP chunk types of <see cref="StageRecord.SctpChunks"/>, in type order.</summary>
    public static string SctpChunks(uint seen)
    {
        var names = new List<string>();
        for (int t = 0; t < 32; t++)
            if ((seen & (1u << t)) != 0)
                names.Add(t switch
                {
                    Packets.Sctp.Data => "DATA",
                    Packets.Sctp.Init => "INIT",
                    Packets.Sctp.InitAck => "INIT_ACK",
                    Packets.Sctp.Sack => "SACK",
                    Packets.Sctp.Heartbeat => "HEARTBEAT",
                    Packets.Sctp.HeartbeatAck => "HEARTBEAT_ACK",
                    Packets.Sctp.Abort => "ABORT",
                    Packets.Sctp.Shutdown => "SHUTDOWN",
                    Packets.Sctp.ShutdownAck => "SHUTDOWN_ACK",
                    Packets.Sctp.Error => "ERROR",
                    Packets.Sctp.CookieEcho => "COOKIE_ECHO",
                    Packets.Sctp.CookieAck => "COOKIE_ACK",
                    Packets.Sctp.ShutdownComplete => "SHUTDOWN_COMPLETE",
                    _ => $"type {t}",
                });
        return names.Count == 0 ? "no chunks" : $"[{string.Join(", ", names)}]";
    }

    /// <summary>"ICMP port unreachable", "ICMP time exceeded (TTL exceeded in transit)", or the type and code.</summary>
    public static string Icmp(byte type, byte code) => (type, code) switch
    {
        (Packets.L4.IcmpDestUnreachable, Packets.L4.IcmpPortUnreachableCode) => "ICMP port unreachable",
        (Packets.L4.IcmpTimeExceeded, 0) => "ICMP time exceeded (TTL exceeded in transit)",
        _ => $"ICMP type {type} code {code}",
    };
}
