using DataPlane.Maps;

namespace DataPlane.Pipeline;

/// <summary>What happened to one frame, for verdict records and traces (an unmanaged struct: no per-packet allocation).</summary>
public struct PacketResult
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
    public Lb4Backend Backend;
    public bool Masqueraded;
    /// <summary>Conntrack flow id (0 = the frame belongs to no tracked connection).</summary>
    public uint FlowId;
    public CtDirection Direction;
    public bool NewFlow;
    /// <summary>Length of the output frame (forward) or of the generated reply (reject).</summary>
    public int OutLength;
}
