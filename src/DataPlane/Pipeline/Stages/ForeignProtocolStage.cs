using System.Runtime.CompilerServices;
using DataPlane.Maps;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// An L4 protocol we do not translate (GRE, IGMP, ESP...), which the parse stage dropped as unsupported: dropped when it
/// is addressed to a service frontend, which cannot serve it (cilium DROP_UNKNOWN_L4 / DROP_UNSUPP_SERVICE_PROTO),
/// otherwise not ours and passed to the host stack untouched, as the kernel routes it past kube-proxy's rules.
/// </summary>
public static class ForeignProtocolStage
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Verdict Run(ref PacketContext ctx, MapSet maps, WorkerState w)
    {
        if (maps.IsFrontendAddress(ctx.DstIp)) return Verdict.Drop;
        ctx.Reason = DropReason.None;
        return Verdict.Pass;
    }
}
