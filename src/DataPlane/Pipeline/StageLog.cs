using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using DataPlane.Dns;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Pipeline;

/// <summary>
/// The stage-by-stage record of one packet, kept only when tracing (<see cref="PacketPipeline.Log"/> set): a fixed
/// array filled after each stage call (by the runner, or by a stage at its point of decision), cleared at the start of
/// every packet. Untraced packets run the runner's <see cref="Untraced"/> instantiation, which has no recording code.
/// </summary>
public sealed class StageLog
{
    /// <summary>More than any path through the runner records (the longest, a new SCTP connection: parse, conntrack,
    /// service, sctp, backend, ttl, masquerade, conntrack-create, sctp, nat, ip-options, verdict).</summary>
    public const int Capacity = 16;

    readonly StageRecord[] _records = new StageRecord[Capacity];

    public int Count { get; private set; }

    public ReadOnlySpan<StageRecord> Records => _records.AsSpan(0, Count);

    public StageRecord this[int i] => _records[i];

    public void Clear() => Count = 0;

    /// <summary>
    /// Tracing only: the record of what <paramref name="stage"/> just decided, for stages that record themselves (a
    /// stage generic over <see cref="IStageSink"/> calls it under <c>if (TSink.Enabled)</c>). Never inlined: the
    /// traced copy pays a call, the untraced one has nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Record(ref PacketContext ctx, PipelineStage stage, Verdict v, StageRule rule, MapSet maps, WorkerState w) =>
        ctx.Log!.Add(stage, v, ref ctx, maps, w.Conntrack, rule);

    /// <summary>
    /// <paramref name="v"/>, recorded first when <typeparamref name="TSink"/> traces: a stage's decision, where it is
    /// taken (<c>return StageLog.Decided&lt;TSink&gt;(ref ctx, stage, v, ...)</c>). Inlined, so the untraced copy is
    /// the bare <c>return v</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Verdict Decided<TSink>(ref PacketContext ctx, PipelineStage stage, Verdict v, MapSet maps, WorkerState w, StageRule rule = StageRule.None)
        where TSink : struct, IStageSink
    {
        if (TSink.Enabled) Record(ref ctx, stage, v, rule, maps, w);
        return v;
    }

    /// <summary>
    /// A frame the replay's link layer keeps from the pipelines (<see cref="DropReason.OutgoingCopy"/>,
    /// <see cref="DropReason.UnsupportedLinkType"/>): its link record and its verdict, the whole log of that frame.
    /// </summary>
    public void AddLink(Verdict v, DropReason reason, ushort linkType)
    {
        Clear();
        foreach (PipelineStage stage in (ReadOnlySpan<PipelineStage>)[PipelineStage.Link, PipelineStage.Verdict])
        {
            ref StageRecord r = ref _records[Count++];
            r = default;
            r.Stage = stage;
            r.Verdict = v;
            r.Reason = reason;
            r.LinkType = linkType;
        }
    }

    /// <summary>The fragment hold's decision on a frame it kept from the pipelines (dropped, or absorbed into a reassembled datagram).</summary>
    public void AddDefrag(Verdict v, DropReason reason)
    {
        Clear();
        foreach (PipelineStage stage in (ReadOnlySpan<PipelineStage>)[PipelineStage.Defrag, PipelineStage.Verdict])
        {
            ref StageRecord r = ref _records[Count++];
            r = default;
            r.Stage = stage;
            r.Verdict = v;
            r.Reason = reason;
        }
    }

    /// <summary>Copies the facts of <paramref name="ctx"/> as <paramref name="stage"/> left them.</summary>
    public void Add(PipelineStage stage, Verdict v, ref PacketContext ctx, MapSet maps, ConntrackMap conntrack, StageRule rule = StageRule.None)
    {
        if (Count == Capacity) return; // a runner change that records more: keep the first ones, never throw
        ref StageRecord r = ref _records[Count++];
        r = default;
        r.Stage = stage;
        r.Verdict = v;
        r.Reason = ctx.Reason;
        r.Rule = rule;
        r.Proto = ctx.Proto;
        r.L4Parsed = ctx.L4Parsed;
        r.IcmpType = ctx.IcmpType;
        r.TcpFlags = ctx.TcpFlags;
        r.SrcIp = ctx.SrcIp; r.DstIp = ctx.DstIp; r.SrcPort = ctx.SrcPort; r.DstPort = ctx.DstPort;
        if (ctx.IcmpType is L4.IcmpDestUnreachable or L4.IcmpTimeExceeded && ctx.Proto == IpProto.Icmp)
        {
            r.InnerProto = ctx.InnerProto;
            r.InnerSrcIp = ctx.InnerSrcIp; r.InnerDstIp = ctx.InnerDstIp;
            r.InnerSrcPort = ctx.InnerSrcPort; r.InnerDstPort = ctx.InnerDstPort;
        }
        IpHeader(ref r, ref ctx);
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
            // The reply is a fresh IPv4 header of 20 bytes at the frame's L3 offset (IcmpSend, HostPortStage, DnsStage).
            ReadOnlySpan<byte> ip = ctx.ReplyBuffer[ctx.L3Offset..ctx.ReplyLength];
            r.ReplyProto = ip[9];
            r.ReplySrcIp = BinaryPrimitives.ReadUInt32BigEndian(ip.Slice(12));
            r.ReplyDstIp = BinaryPrimitives.ReadUInt32BigEndian(ip.Slice(16));
            if (r.ReplyProto is IpProto.Tcp or IpProto.Udp)
            {
                r.ReplySrcPort = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(20));
                r.ReplyDstPort = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(22));
            }
            if (r.ReplyProto == IpProto.Icmp) (r.ReplyIcmpType, r.ReplyIcmpCode) = (ip[20], ip[21]);
            if (r.ReplyProto == IpProto.Tcp && ip.Length >= 20 + L4.TcpMinLength) r.ReplyTcpFlags = ip[20 + L4.TcpFlagsOffset];
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
                if (ctx.Proto == IpProto.Sctp) r.SctpState = (SctpState)e.TcpFlagsOriginal;
            }
        }
        if (ctx.Proto == IpProto.Sctp && ctx.L4Parsed && !ctx.IsLaterFragment)
        {
            Stages.SctpConntrack.BasicChecks(ctx.Frame.Slice(ctx.L4Offset, Math.Min(ctx.L4Length, ctx.Frame.Length - ctx.L4Offset)), out uint seen);
            r.SctpChunks = seen;
        }
        if (stage == PipelineStage.Dns) Dns(ref r, ref ctx);
    }

    /// <summary>The IPv4 header fields the TTL, fragment and options rules read, when parse got that far.</summary>
    static void IpHeader(ref StageRecord r, ref PacketContext ctx)
    {
        int l3 = ctx.L3Offset;
        if (l3 <= 0 || l3 + Ipv4Header.MinLength > ctx.Frame.Length || ctx.L4Offset < l3 + Ipv4Header.MinLength) return;
        ReadOnlySpan<byte> ip = ctx.Frame.Slice(l3);
        r.Ttl = ip[Ipv4Header.TtlOffset];
        r.IpId = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(Ipv4Header.IdOffset));
        r.FragmentField = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(Ipv4Header.FlagsFragmentOffset));
        int ihl = (ip[0] & 0x0F) * 4;
        r.IpHeaderLength = (byte)ihl;
        if (ihl > ip.Length) return;
        int kept = 0;
        for (int i = Ipv4Header.MinLength; i < ihl && kept < 4;)
        {
            byte type = ip[i];
            if (type == IpOptions.End) break;
            if (type == IpOptions.Nop) { i++; continue; }
            r.IpOptionTypes |= (uint)type << (8 * kept++);
            if (i + 1 >= ihl || ip[i + 1] < 2) break;
            i += ip[i + 1];
        }
    }

    /// <summary>The question (from the query, which the DNS stage never rewrites) and the response's RCODE and answers.</summary>
    static void Dns(ref StageRecord r, ref PacketContext ctx)
    {
        if (!ctx.L4Parsed || ctx.L4Offset + ctx.L4Length > ctx.Frame.Length) return;
        ReadOnlySpan<byte> l4 = ctx.Frame.Slice(ctx.L4Offset, ctx.L4Length);
        int at = ctx.Proto == IpProto.Udp ? L4.UdpLength : l4.Length >= L4.TcpMinLength ? (l4[L4.TcpDataOffsetOffset] >> 4) * 4 + 2 : l4.Length;
        if (at < l4.Length)
        {
            Span<byte> name = stackalloc byte[DnsParser.MaxNameLength];
            if (DnsParser.ParseQuery(l4[at..], name, out DnsQuery q) is DnsParseStatus.Ok or DnsParseStatus.NotImp && q.NameLength > 0)
            {
                r.DnsType = q.QType;
                Span<byte> text = r.DnsQuestion;
                int n = 0;
                for (int i = 0; i < q.NameLength && name[i] != 0 && n < text.Length;)
                {
                    int len = name[i++];
                    if (n > 0 && n < text.Length) text[n++] = (byte)'.';
                    for (int k = 0; k < len && i < q.NameLength && n < text.Length; k++, i++) text[n++] = name[i] is >= 0x21 and < 0x7F ? name[i] : (byte)'?';
                }
                if (n == 0) text[n++] = (byte)'.';
                if (n == text.Length) "..."u8.CopyTo(text[^3..]);
            }
        }
        if (r.ReplyProto is not (IpProto.Udp or IpProto.Tcp)) return;
        ReadOnlySpan<byte> reply = ctx.ReplyBuffer[(ctx.L3Offset + Ipv4Header.MinLength)..ctx.ReplyLength];
        int m = r.ReplyProto == IpProto.Udp ? L4.UdpLength : reply.Length >= L4.TcpMinLength ? (reply[L4.TcpDataOffsetOffset] >> 4) * 4 + 2 : reply.Length;
        if (m + DnsParser.HeaderLength > reply.Length) return;
        r.DnsRcode = (byte)(reply[m + 3] & 0x0F);
        r.DnsAnswers = BinaryPrimitives.ReadUInt16BigEndian(reply.Slice(m + 6));
    }
}
