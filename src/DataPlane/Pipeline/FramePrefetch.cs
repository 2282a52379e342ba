using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Pipeline;

/// <summary>
/// Prefetch hints for a frame about to be processed (call with distance, e.g. step 1 for frame i + 8 and step 2 for
/// frame i + 4 while processing frame i, as DPDK's l3fwd and VPP's dual/quad loops do): reads the addresses and ports at
/// their fixed offsets and warms the conntrack index slot and the frontend's service-map slot (step 1) or the conntrack
/// entry (step 2). Frames that are not plain IPv4 TCP/UDP are ignored; nothing is validated or changed, the real parse
/// happens in the pipeline.
/// </summary>
public static class FramePrefetch
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Warm(ReadOnlySpan<byte> frame, int step, MapSet maps, ConntrackMap conntrack)
    {
        if (frame.Length < 14 + 20 + 4 || frame[12] != 0x08 || frame[13] != 0x00 || frame[14] != 0x45) return;
        byte proto = frame[14 + 9];
        if (proto != IpProto.Tcp && proto != IpProto.Udp) return;
        uint dst = BinaryPrimitives.ReadUInt32BigEndian(frame[(14 + 16)..]);
        ushort dport = BinaryPrimitives.ReadUInt16BigEndian(frame[36..]);
        // Tables that fit the caches gain nothing and would pay for the hint: only the large ones are prefetched.
        if (step == 1 && maps.Services.Capacity >= 1 << 12) maps.Services.Prefetch(new Lb4Key(dst, dport, proto)); // a new flow's frontend
        if (conntrack.Capacity < 1 << 16) return;
        var t = new CtTuple4(BinaryPrimitives.ReadUInt32BigEndian(frame[(14 + 12)..]), BinaryPrimitives.ReadUInt16BigEndian(frame[34..]), dst, dport, proto);
        if (step == 1) conntrack.PrefetchSlot(t); else conntrack.PrefetchEntry(t);
    }
}
