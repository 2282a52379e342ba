using System.Runtime.CompilerServices;
using DataPlane.Maps;

namespace DataPlane.Pipeline.Stages;

/// <summary>Frontend lookup on (destination, port, protocol), cilium's lb4_lookup_service. A miss is not ours: pass.</summary>
public static class ServiceLookupStage
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Verdict Run(ref PacketContext ctx, MapSet maps)
    {
        ref Lb4Service svc = ref maps.Services.Lookup(new Lb4Key(ctx.DstIp, ctx.DstPort, ctx.Proto));
        if (Unsafe.IsNullRef(ref svc)) return Verdict.Pass;
        ctx.Service = svc;
        return Verdict.Continue;
    }
}
