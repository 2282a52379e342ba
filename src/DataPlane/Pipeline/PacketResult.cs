using DataPlane.Maps;

namespace DataPlane.Pipeline;

/// <summary>What happened to one frame, for verdict records and traces (an unmanaged struct: no per-packet allocation).</summary>
public partial struct PacketResult
{
    public Verdict Verdict;
    public DropReason Reason;
    /// <summary>True when the frame was IPv4 with a parsed L4 tuple (In* are meaningful).</summary>
    public bool HasTuple;
    public byte Proto;
    public uint InSrcIp, InDstIp;
    public ushort InSrcPort, InDstPort;
    /// <summary>True when a frame was emitted (Out* are meaningful).</summary>
    public bool HasOut;
    public uint OutSrcIp, OutDstIp;
    public ushort OutSrcPort, OutDstPort;
    /// <summary>Service port (rev-NAT id) the frame was attributed to; 0 = none.</summary>
    public ushort RevNatIndex;
    public uint BackendId;
    /// <summary>The frontend entry a new connection was balanced over (after scope selection): its slots are the
    /// candidates, <c>maps.Slot(SlotOffset .. SlotOffset + SlotCount - 1)</c> (backend ids of the current generation).</summary>
    public bool HasFrontend;
    public uint SlotOffset;
    public ushort SlotCount;
    /// <summary>Lookup scope used: 0 external, 1 internal (two-scope services).</summary>
    public byte Scope;
    public Maps.ServiceFlags ServiceFlags;
    public Lb4Backend Backend;
    public bool Masqueraded;
    /// <summary>Conntrack flow id (0 = the frame belongs to no tracked connection).</summary>
    public uint FlowId;
    public CtDirection Direction;
    public bool NewFlow;
    /// <summary>Reject: the generated reply's protocol (ICMP, or TCP for a node's reset); 0 when none.</summary>
    public byte OutProto;
    /// <summary>Length of the output frame (forward) or of the generated reply (reject).</summary>
    public int OutLength;
}
