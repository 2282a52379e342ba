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
        if (w.Hints is { } hints && Follow(ref ctx, maps, hints)) return Verdict.Continue;
        if ((ctx.Service.Flags & ServiceFlags.Affinity) != 0 && Sticky(ref ctx, maps, w.Affinity)) return Verdict.Continue;
        if ((ctx.Service.Flags & ServiceFlags.Maglev) != 0) return Maglev(ref ctx, maps);
        uint slot = count == 1 ? 0 : Draw(ref ctx, maps, w.Options.Seed).Next(count);
        ctx.BackendId = maps.Slot(ctx.Service.SlotOffset + slot);
        return Verdict.Continue;
    }

    /// <summary>
    /// The draw for a new connection, keyed by its first packet (<see cref="DeterministicRandom"/>); for a sessionAffinity
    /// ClientIP service by the client, the service port (its ClusterIP, port and protocol) and the affinity timeout
    /// period the packet falls in, so the first pick for a client is the same whichever worker makes it within a
    /// period, and a client that comes back after its pin expired is balanced afresh, as kube-proxy's would be.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static DeterministicRandom Draw(ref PacketContext ctx, MapSet maps, ulong seed) =>
        (ctx.Service.Flags & ServiceFlags.Affinity) != 0 ? AffinityDraw(ref ctx, maps, seed)
            : DeterministicRandom.ForPacket(seed, DeterministicRandom.BackendDraw, ctx.SrcIp, ctx.SrcPort, ctx.DstIp, ctx.DstPort, ctx.Proto, ctx.NowNs);

    [MethodImpl(MethodImplOptions.NoInlining)]
    static DeterministicRandom AffinityDraw(ref PacketContext ctx, MapSet maps, ulong seed)
    {
        Lb4ReverseNat port = maps.ReverseNat[ctx.Service.RevNatIndex];
        long period = Math.Max(1L, ctx.Service.AffinityTimeoutSeconds) * 1_000_000_000L;
        return DeterministicRandom.Keyed(seed, DeterministicRandom.AffinityDraw, ((ulong)ctx.SrcIp << 32) | port.Address,
            ((ulong)port.Port << 8) | port.Proto, (ulong)(ctx.NowNs / period));
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

    /// <summary>
    /// <c>replay --backends follow</c>: the backend the capture shows this connection reached, when it is one of the
    /// frontend's usable endpoints (its slots: ready, or serving-terminating when none is ready, per the traffic
    /// policy's scope). The real node's pick is one the Service semantics allow, so the replay takes it; anything else
    /// is drawn as usual, and the replay's replies then show what the real node did differently.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static bool Follow(ref PacketContext ctx, MapSet maps, BackendHints hints)
    {
        if (!hints.TryGet(new BackendHints.Connection(ctx.Proto, ctx.SrcIp, ctx.SrcPort, ctx.DstIp, ctx.DstPort), ctx.NowNs, out uint address, out ushort port))
            return false;
        for (uint i = 0; i < ctx.Service.Count; i++)
        {
            uint id = maps.Slot(ctx.Service.SlotOffset + i);
            ref readonly Lb4Backend b = ref maps.Backend(id);
            if (b.Address == address && b.Port == port)
            {
                ctx.BackendId = id;
                return true;
            }
        }
        return false;
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
