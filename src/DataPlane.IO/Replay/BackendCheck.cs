using DataPlane.Maps;
using DataPlane.Pipeline;

namespace DataPlane.IO.Replay;

/// <summary>
/// Without <c>--backends follow</c>: notices connections whose replies in the capture come from a usable endpoint
/// other than the one the replay drew. Such a reply finds no connection (it passes untranslated) and the client's
/// next packets are ct-invalid, which says nothing of why; the summary names the backend and the option instead.
/// Fed each result in capture order by <see cref="ReplayOutputs"/>; memory bounded by <see cref="MaxConnections"/>.
/// </summary>
sealed class BackendCheck
{
    public const int MaxConnections = 1 << 16;

    readonly Dictionary<(byte Proto, uint Ip, ushort Port), (uint Address, ushort Port, uint SlotOffset, ushort SlotCount)> _picks = [];

    /// <summary>Connections whose replies came from a usable endpoint the replay did not pick.</summary>
    public long Mismatches { get; private set; }
    /// <summary>The first such endpoint, "ip:port".</summary>
    public string? FirstOther { get; private set; }

    public void Add(in PacketResult r, MapSet maps)
    {
        if (!r.HasTuple) return;
        if (r.NewFlow && r.HasFrontend && r.Verdict == Verdict.Forward)
        {
            if (_picks.Count < MaxConnections) _picks[(r.Proto, r.InSrcIp, r.InSrcPort)] = (r.Backend.Address, r.Backend.Port, r.SlotOffset, r.SlotCount);
            return;
        }
        if (r.Verdict != Verdict.Pass || r.FlowId != 0) return;
        if (!_picks.Remove((r.Proto, r.InDstIp, r.InDstPort), out var pick)) return;
        if (r.InSrcIp == pick.Address && r.InSrcPort == pick.Port) return;
        for (uint i = 0; i < pick.SlotCount; i++)
        {
            ref readonly Lb4Backend b = ref maps.Backend(maps.Slot(pick.SlotOffset + i));
            if (b.Address != r.InSrcIp || b.Port != r.InSrcPort) continue;
            Mismatches++;
            FirstOther ??= Packets.Ip4.Format(r.InSrcIp, r.InSrcPort);
            return;
        }
    }
}
