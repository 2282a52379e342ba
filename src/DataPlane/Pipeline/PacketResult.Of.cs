using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Pipeline;

public partial struct PacketResult
{
    /// <summary>
    /// The result of a frame the runner finished with <paramref name="v"/>: the tuple as it arrived (for a forwarded
    /// frame, read back from its conntrack entry, since the context now holds the translated one), what left, and the
    /// service, backend and flow it was attributed to.
    /// </summary>
    internal static void Of(ref PacketContext ctx, Verdict v, ConntrackMap conntrack, out PacketResult r)
    {
        r = default;
        r.Verdict = v;
        r.Reason = ctx.Reason;
        r.Proto = ctx.Proto;
        r.NewFlow = ctx.NewFlow;
        r.Masqueraded = ctx.Masquerade;
        if (ctx.Service.RevNatIndex != 0)
        {
            r.HasFrontend = true;
            r.SlotOffset = ctx.Service.SlotOffset;
            r.SlotCount = ctx.Service.Count;
            r.Scope = ctx.Scope;
            r.ServiceFlags = ctx.Service.Flags;
        }
        if (ctx.L4Parsed)
        {
            // In* are the frame as it arrived: for forwarded frames they were captured before translation via the entry.
            r.HasTuple = true;
            r.InSrcIp = ctx.SrcIp; r.InDstIp = ctx.DstIp; r.InSrcPort = ctx.SrcPort; r.InDstPort = ctx.DstPort;
        }
        if (v == Verdict.Forward)
        {
            r.HasTuple = true;
            ref CtEntry e = ref conntrack[ctx.CtIndex];
            if (ctx.Proto != IpProto.Icmp)
            {
                ref readonly CtTuple4 inTuple = ref ctx.Direction == CtDirection.Original ? ref e.Original : ref e.Reply;
                r.InSrcIp = inTuple.SrcIp; r.InDstIp = inTuple.DstIp; r.InSrcPort = inTuple.SrcPort; r.InDstPort = inTuple.DstPort;
            }
            else
            {
                r.InSrcIp = ctx.ArrivedSrcIp; r.InDstIp = ctx.ArrivedDstIp;
            }
            r.HasOut = true;
            r.OutSrcIp = ctx.SrcIp; r.OutDstIp = ctx.DstIp; r.OutSrcPort = ctx.SrcPort; r.OutDstPort = ctx.DstPort;
            r.OutLength = ctx.Length;
            r.FlowId = e.FlowId;
            r.Direction = ctx.Direction;
            r.RevNatIndex = e.RevNatIndex;
            r.BackendId = e.BackendId;
            r.Masqueraded = (e.Flags & CtFlags.Snat) != 0;
            // The reply tuple's source is the backend; backend ids are per generation, the tuple is not.
            r.Backend = new Lb4Backend { Address = e.Reply.SrcIp, Port = e.Reply.SrcPort, Proto = e.Reply.Proto };
        }
        else if (v is Verdict.Reject or Verdict.Answer)
        {
            r.RevNatIndex = ctx.Service.RevNatIndex;
            r.HasOut = ctx.ReplyLength > 0;
            r.OutLength = ctx.ReplyLength;
            if (r.HasOut)
            {
                var ip = new Ipv4Header(ctx.ReplyBuffer.Slice(ctx.L3Offset));
                r.OutSrcIp = ip.Src;
                r.OutDstIp = ip.Dst;
                r.OutProto = ip.Protocol; // ICMP, TCP for the node's own reset, UDP or TCP for a DNS answer
                if (r.OutProto is IpProto.Tcp or IpProto.Udp)
                {
                    r.OutSrcPort = L4.ReadU16(ctx.ReplyBuffer.Slice(ctx.L3Offset + Ipv4Header.MinLength), L4.SrcPortOffset);
                    r.OutDstPort = L4.ReadU16(ctx.ReplyBuffer.Slice(ctx.L3Offset + Ipv4Header.MinLength), L4.DstPortOffset);
                }
            }
        }
        else if (ctx.Service.RevNatIndex != 0)
        {
            r.RevNatIndex = ctx.Service.RevNatIndex;
        }
        // A new flow's masquerade decision, or a source port moved on a clash without one (nf_nat's null binding).
        if (v == Verdict.Forward && ctx.NewFlow) r.Masqueraded |= ctx.Masquerade;
    }
}
