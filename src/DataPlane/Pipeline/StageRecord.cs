using DataPlane.Maps;

namespace DataPlane.Pipeline;

/// <summary>
/// What one stage did to one packet and the facts it decided on, copied from the context right after the stage
/// returned (an unmanaged value: recording allocates nothing). Which facts are meaningful depends on the stage:
/// <see cref="HasEntry"/> for the conntrack ones, <see cref="RevNatIndex"/> for the service ones.
/// </summary>
public struct StageRecord
{
    public PipelineStage Stage;
    public Verdict Verdict;
    public DropReason Reason;

    // The packet as the stage left it.
    public byte Proto;
    public bool L4Parsed;
    public byte IcmpType;
    public uint SrcIp, DstIp;
    public ushort SrcPort, DstPort;

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
}
