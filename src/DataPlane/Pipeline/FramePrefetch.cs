using System.Runtime.CompilerServices;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Pipeline;

/// <summary>
/// Prefetch hints for a frame about to be processed (call with distance, e.g. step 1 for frame i + 8 and step 2 for
/// frame i + 4 while processing frame i, as DPDK's l3fwd and VPP's dual/quad loops do): from the frame's
/// <see cref="FrameKey"/>, warms the conntrack index slot and the frontend's service-map slot (step 1) or the conntrack
/// entry (step 2). Frames without TCP/UDP ports are ignored; nothing is changed, the real parse happens in the pipeline.
/// </summary>
public static class FramePrefetch
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Warm(in FrameKey k, int step, MapSet maps, ConntrackMap conntrack)
    {
        if (!k.HasPorts || k.Proto == IpProto.Sctp) return;
        // Tables that fit the caches gain nothing and would pay for the hint: only the large ones are prefetched.
        if (step == 1 && maps.Services.Capacity >= 1 << 12) maps.Services.Prefetch(new Lb4Key(k.Dst, k.DstPort, k.Proto)); // a new flow's frontend
        if (conntrack.Capacity < 1 << 16) return;
        var t = new CtTuple4(k.Src, k.SrcPort, k.Dst, k.DstPort, k.Proto);
        if (step == 1) conntrack.PrefetchSlot(t); else conntrack.PrefetchEntry(t);
    }
}
