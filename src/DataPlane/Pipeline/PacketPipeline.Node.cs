using System.Runtime.CompilerServices;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline.Stages;

namespace DataPlane.Pipeline;

/// <summary>What the node's own kernel does around the service rules: IP options on forwarded packets, closed host ports.</summary>
public sealed partial class PacketPipeline
{
    /// <summary>
    /// A forwarded datagram with IP options: Record Route and Timestamp get this node's entry (<see cref="IpOptions"/>).
    /// The recorded address is the node's address on the egress side, as MASQUERADE picks it: the pod gateway
    /// towards this node's pods, the node IP otherwise. The timestamp comes from the packet clock (the capture's time
    /// in a replay). Options the kernel rejects drop the datagram (it would also send ICMP parameter problem; not sent).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static Verdict ForwardOptions(ref PacketContext ctx, MapSet maps)
    {
        NodeInfo node = maps.Node;
        uint egress = node.PodCidr is { } pod && pod.Contains(ctx.DstIp) ? pod.At(1) : node.PrimaryAddress;
        if (IpOptions.Forward(ctx.Frame.Slice(ctx.L3Offset), egress, IpOptions.MillisecondsSinceMidnight(ctx.NowNs), node.Addresses))
            return Verdict.Forward;
        ctx.Reason = DropReason.BadIpOptions;
        return Verdict.Drop;
    }
}
