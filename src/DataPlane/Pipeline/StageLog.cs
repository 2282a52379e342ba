using System.Buffers.Binary;
using DataPlane.Maps;

namespace DataPlane.Pipeline;

/// <summary>
/// The stage-by-stage record of one packet, kept only when tracing (<see cref="PacketPipeline.Log"/> set): a fixed
/// array filled by the runner after each stage call, cleared at the start of every packet. Untraced packets run the
/// runner's <see cref="Untraced"/> instantiation, which has no recording code.
/// </summary>
public sealed class StageLog
{
    /// <summary>More than any path through the runner records (parse, conntrack, service, backend, masquerade,
    /// conntrack-create, nat, verdict).</summary>
    public const int Capacity = 16;

    readonly StageRecord[] _records = new StageRecord[Capacity];

    public int Count { get; private set; }

    public ReadOnlySpan<StageRecord> Records => _records.AsSpan(0, Count);

    public StageRecord this[int i] => _records[i];

    public void Clear() => Count = 0;

    /// <summary>Copies the facts of <paramref name="ctx"/> as <paramref name="stage"/> left them.</summary>
    public void Add(PipelineStage stage, Verdict v, ref PacketContext ctx, MapSet maps, ConntrackMap conntrack)
    {
        if (Count == Capacity) return; // a runner change that records more: keep the first ones, never throw
        ref StageRecord r = ref _records[Count++];
        r = default;
        r.Stage = stage;
        r.Verdict = v;
        r.Reason = ctx.Reason;
        r.Proto = ctx.Proto;
        r.L4Parsed = ctx.L4Parsed;
        r.IcmpType = ctx.IcmpType;
        r.SrcIp = ctx.SrcIp; r.DstIp = ctx.DstIp; r.SrcPort = ctx.SrcPort; r.DstPort = ctx.DstPort;
        r.RevNatIndex = ctx.Service.RevNatIndex;
        r.ServiceFlags = ctx.Service.Flags;
        r.Scope = ctx.Scope;
        r.SlotOffset = ctx.Service.SlotOffset;
        r.SlotCount = ctx.Service.Count;
        r.BackendId = ctx.BackendId;
        if (ctx.BackendId != 0) r.Backend = maps.Backend(ctx.BackendId);
        r.Masquerade = ctx.Masquerade;
        if (ctx.ReplyLength >= ctx.L3Offset + 24 && ctx.ReplyLength <= ctx.ReplyBuffer.Length)
        {
            // The reply is a fresh IPv4 header of 20 bytes at the frame's L3 offset (RejectStage, HostPortStage).
            ReadOnlySpan<byte> ip = ctx.ReplyBuffer.Slice(ctx.L3Offset);
            r.ReplyProto = ip[9];
            r.ReplySrcIp = BinaryPrimitives.ReadUInt32BigEndian(ip.Slice(12));
            r.ReplyDstIp = BinaryPrimitives.ReadUInt32BigEndian(ip.Slice(16));
            if (r.ReplyProto is Packets.IpProto.Tcp or Packets.IpProto.Udp)
            {
                r.ReplySrcPort = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(20));
                r.ReplyDstPort = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(22));
            }
        }
        r.NewFlow = ctx.NewFlow;
        r.Direction = ctx.Direction;
        if (ctx.CtIndex >= 0 && ctx.CtIndex < conntrack.Capacity)
        {
            ref CtEntry e = ref conntrack[ctx.CtIndex];
            if ((e.Flags & CtFlags.Live) != 0)
            {
                r.HasEntry = true;
                r.CtFlags = e.Flags;
                r.FlowId = e.FlowId;
                r.Original = e.Original;
                r.Reply = e.Reply;
            }
        }
    }
}
