using System.Runtime.CompilerServices;
using DataPlane.Maps;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// Picks a backend slot for a new connection: cilium's random selection <c>(prandom % count) + 1</c>, equivalent in
/// distribution to kube-proxy's cascade of 1/n, 1/(n-1), ... statistic matches; with sessionAffinity ClientIP the
/// client's remembered backend first. No usable endpoint: reject, as kube-proxy's "has no endpoints" REJECT rule does;
/// but a Local traffic policy with endpoints only on other nodes drops (kube-proxy TestTracePacket "DROP").
/// </summary>
public static class BackendSelectStage
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Verdict Run(ref PacketContext ctx, MapSet maps, WorkerState w)
    {
        uint count = ctx.Service.Count;
        if (count == 0) return Empty(ref ctx);
        if ((ctx.Service.Flags & ServiceFlags.Affinity) != 0 && Sticky(ref ctx, maps, w.Affinity)) return Verdict.Continue;
        if ((ctx.Service.Flags & ServiceFlags.Maglev) != 0) return Maglev(ref ctx, maps);
        uint slot = count == 1 ? 0 : w.Rng.Next(count);
        ctx.BackendId = maps.Slot(ctx.Service.SlotOffset + slot);
        return Verdict.Continue;
    }

    /// <summary>
    /// Maglev: the connection's 5-tuple picks a slot of the frontend's table, so every node sends it to the same
    /// backend (cilium lb4_select_backend_id_maglev). Consumes no random draw.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static Verdict Maglev(ref PacketContext ctx, MapSet maps)
    {
        uint h = MaglevTable.FlowHash(ctx.SrcIp, ctx.DstIp, ctx.SrcPort, ctx.DstPort, ctx.Proto);
        ctx.BackendId = maps.MaglevBackend(ctx.Service.MaglevTable, h);
        return Verdict.Continue;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static Verdict Empty(ref PacketContext ctx)
    {
        if ((ctx.Service.Flags & ServiceFlags.DropWhenEmpty) == 0) return Verdict.Reject;
        return ctx.Drop(DropReason.NoServiceBackend);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static bool Sticky(ref PacketContext ctx, MapSet maps, AffinityMap affinity)
    {
        if (!affinity.TryGet(ctx.SrcIp, ctx.Service.RevNatIndex, ctx.NowNs, ctx.Service.AffinityTimeoutSeconds, out AffinityEntry a))
            return false;
        for (uint i = 0; i < ctx.Service.Count; i++)
        {
            uint id = maps.Slot(ctx.Service.SlotOffset + i);
            ref readonly Lb4Backend b = ref maps.Backend(id);
            if (b.Address == a.BackendAddress && b.Port == a.BackendPort)
            {
                ctx.BackendId = id;
                return true;
            }
        }
        return false; // the remembered backend is gone from this frontend: balance again
    }
}
