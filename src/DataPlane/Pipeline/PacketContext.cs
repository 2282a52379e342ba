using DataPlane.Maps;

namespace DataPlane.Pipeline;

/// <summary>
/// Per-packet scratch state passed by reference from stage to stage (cilium's ctx + ct_state + skb cb[] slots). A ref
/// struct over the frame's span: nothing here is allocated per packet.
/// </summary>
public ref struct PacketContext
{
    /// <summary>The frame, rewritten in place. <see cref="Length"/> may shrink (Ethernet padding is trimmed on forward).</summary>
    public Span<byte> Frame;
    public int Length;
    /// <summary>
    /// Replay of a record the capture cut short: where the captured bytes end (the frame was padded with zeros to its
    /// length on the wire). 0: the whole frame is real.
    /// </summary>
    public int CapturedEnd;
    /// <summary>The pipeline's clock for this packet (ns): the capture timestamp in replay, monotonic time live.</summary>
    public long NowNs;
    /// <summary>Where a generated reply (ICMP error) is written.</summary>
    public Span<byte> ReplyBuffer;
    public int ReplyLength;

    // Parse results.
    public int L3Offset;
    public int L4Offset;
    /// <summary>IP payload length (total length - IHL).</summary>
    public int L4Length;
    public byte Proto;
    public byte TcpFlags;
    public bool IsFirstFragment;
    /// <summary>A non-first fragment: no L4 header, translated through the fragment map.</summary>
    public bool IsLaterFragment;
    /// <summary>The L4 header was read: the 5-tuple below is valid.</summary>
    public bool L4Parsed;
    public uint SrcIp, DstIp;
    public ushort SrcPort, DstPort;
    public byte IcmpType;
    /// <summary>ICMP errors: the quoted datagram's tuple as the quoting host saw it (set when IcmpType is 3 or 11).</summary>
    public uint InnerSrcIp, InnerDstIp;
    public ushort InnerSrcPort, InnerDstPort;
    public byte InnerProto;
    /// <summary>A translated ICMP error's outer addresses as it arrived (Src/DstIp then hold the translated ones).</summary>
    public uint ArrivedSrcIp, ArrivedDstIp;

    // Decisions.
    public DropReason Reason;
    public int CtIndex;
    public CtDirection Direction;
    public Lb4Service Service;
    /// <summary>Frontend scope used (0 external, 1 internal).</summary>
    public byte Scope;
    public uint BackendId;
    public bool Masquerade;
    /// <summary>The source address masquerade gives the connection (set with <see cref="Masquerade"/>).</summary>
    public uint MasqueradeIp;
    public bool NewFlow;

    /// <summary>Tracing only: the runner records each stage's outcome here; null on the untraced path.</summary>
    public StageLog? Log;

    /// <summary>The one way a stage drops a packet: the reason is recorded for the verdict line and the per-reason counter.</summary>
    public Verdict Drop(DropReason reason)
    {
        Reason = reason;
        return Verdict.Drop;
    }
}
