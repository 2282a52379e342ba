using System.Runtime.CompilerServices;
using DataPlane.IO.Pcap;
using DataPlane.IO.Report;
using DataPlane.IO.Verdicts;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.IO.Replay;

/// <summary>
/// Where a replay's results go, in capture order: the output capture (forwarded frames and generated replies, with the
/// input frame's timestamp), one JSON verdict line per frame (a fragment that waited in the fragment hold is written
/// when it leaves it, with the frame it left with, and its output has that frame's timestamp), and the summary's per-frame parts (the bounded flow
/// report, the frames that come from a service address, the last timestamp). Disposing closes (flushes) both files.
/// </summary>
sealed class ReplayOutputs : IDisposable
{
    readonly CaptureWriter? _pcap;
    readonly VerdictWriter? _verdicts;
    readonly ReplaySummary _summary;
    /// <summary>Frames written so far (verdict lines carry each frame's number in the capture, from 1).</summary>
    long _frames;

    public ReplayOutputs(string? outputPath, string? verdictsPath, ReplaySummary summary)
    {
        _summary = summary;
        _pcap = outputPath is null ? null : new CaptureWriter(outputPath);
        try
        {
            _verdicts = verdictsPath is null ? null : VerdictWriter.Create(verdictsPath);
        }
        catch
        {
            _pcap?.Dispose();
            throw;
        }
    }

    public long Frames => _frames;

    /// <summary>Connections answered by an endpoint the replay did not pick (null when following the capture's backends).</summary>
    public BackendCheck? Backends { get; init; }

    /// <summary>The <c>--report</c> collector, fed every frame as it is written (null: no report).</summary>
    public ReplayReport? Report { get; init; }

    /// <summary>Frames dropped so far (verdict drop), for the progress line.</summary>
    public long Dropped { get; private set; }

    /// <summary>Writes a processed batch; <paramref name="maps"/> is the generation its frames met.</summary>
    public void Write(ReplayBatch batch, MapSet maps)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            _frames++;
            long frame = batch.FrameNumber(i);
            ref readonly PacketResult r = ref batch.Result(i);
            if (_pcap is not null && batch.TryGetOutput(i, out ReadOnlySpan<byte> output, out int wire))
            {
                _pcap.Write(output, batch.TimestampNs(i), wire);
                _summary.Emitted++;
            }
            _verdicts?.Write(frame, r, maps, batch.LeftHoldWith(i));
            if (r.Verdict == Verdict.Drop) Dropped++;
            Backends?.Add(r, maps);
            if (r.Verdict != Verdict.Forward && r.HasTuple && IsFromServiceAddress(r, maps)) NoteServiceSource(r);
            if (r.Verdict == Verdict.Reject && r.Reason != DropReason.None)
                _summary.RejectReasons[r.Reason] = _summary.RejectReasons.GetValueOrDefault(r.Reason) + 1;
            _summary.Flows.Add(frame, r, maps);
            Report?.Frame(frame, batch.TimestampNs(i), r, maps, batch.InputLength(i));
            _summary.LastTimestampNs = batch.TimestampNs(i);
        }
    }

    /// <summary>Is the frame's source a service frontend (a ClusterIP, NodePort, external or LB address with its port)?</summary>
    static bool IsFromServiceAddress(in PacketResult r, MapSet maps)
    {
        if (r.Proto is not (IpProto.Tcp or IpProto.Udp)) return false;
        return !Unsafe.IsNullRef(ref maps.Services.Lookup(new Lb4Key(r.InSrcIp, r.InSrcPort, r.Proto)));
    }

    void NoteServiceSource(in PacketResult r)
    {
        if (_summary.FromServiceAddress++ == 0) _summary.FirstServiceSource = $"{IpProto.Name(r.Proto)} {Ip4.Format(r.InSrcIp, r.InSrcPort)}";
    }

    public void Dispose()
    {
        // Verdicts first, then the capture: the order the replay always closed them in.
        _verdicts?.Dispose();
        _pcap?.Dispose();
    }
}
