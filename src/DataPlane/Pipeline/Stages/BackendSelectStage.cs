using System.Runtime.CompilerServices;
using DataPlane.Maps;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// Picks a backend slot for a new connection: cilium's random selection <c>(prandom % count) + 1</c>, equivalent in
/// distribution to kube-proxy's cascade of 1/n, 1/(n-1), ... statistic matches. No usable endpoint → reject, as
/// kube-proxy's "has no endpoints" REJECT rule does.
/// </summary>
public static class BackendSelectStage
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Verdict Run(ref PacketContext ctx, MapSet maps, ref DeterministicRandom rng)
    {
        uint count = ctx.Service.Count;
        if (count == 0) return Verdict.Reject;
        uint slot = count == 1 ? 0 : rng.Next(count);
        ctx.BackendId = maps.BackendSlots[ctx.Service.SlotOffset + slot];
        return Verdict.Continue;
    }
}
