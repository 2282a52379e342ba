using DataPlane.IO.Pcap;
using DataPlane.IO.Report;
using DataPlane.Pipeline;

namespace DataPlane.IO.Replay;

/// <summary>
/// Reads a capture into <see cref="ReplayBatch"/>es, in file order, applying the scheduled updates on the way: a batch
/// stops before a frame that is due an update (the update is applied before that frame joins the next batch), so
/// every frame meets the generation it would meet in a frame-by-frame replay.
/// <para>
/// A corrupt record ends the reading, not the replay of what was read before it: <see cref="Fill"/> returns the frames
/// already read, and the error is kept in <see cref="Error"/> for the caller to throw once they are written.
/// </para>
/// </summary>
sealed class ReplayReader(CaptureReader reader, ReplaySchedule schedule, ReplayTrace? trace = null)
{
    /// <summary>A frame read but left for the next batch (due an update, or the arena full).</summary>
    (byte[] Data, long TimestampNs, LinkType Link, int Wire)? _carry;
    /// <summary>Frames handed out in batches so far.</summary>
    long _frames;
    /// <summary>The capture's first timestamp: the updates' clock starts there.</summary>
    long _firstNs;
    /// <summary>The last frame's timestamp: held fragments left at the end are dropped then.</summary>
    long _lastNs;
    bool _more = true;

    /// <summary>The <c>--report</c> collector: a batch ends where its occupancy should be sampled (null: no report).</summary>
    public ReplayReport? Report { get; init; }

    /// <summary>The capture's first timestamp (0 until a frame was read): the clock updates and the report count from.</summary>
    public long FirstTimestampNs => _firstNs;

    /// <summary>The corrupt record that ended the reading, if one did.</summary>
    public CaptureFormatException? Error { get; private set; }

    /// <summary>Records the capture cut short (captured length below the length on the wire: a snap length).</summary>
    public long CutFrames { get; private set; }

    /// <summary>Frames dropped because their link type is not understood, by link type.</summary>
    public Dictionary<LinkType, long> UnsupportedLinkTypes { get; } = [];

    /// <summary>Refills <paramref name="batch"/> with the next frames; false when the capture has no more.</summary>
    public bool Fill(ReplayBatch batch, WorkerSet workers)
    {
        batch.Clear();
        while (_more && !batch.IsFull)
        {
            // Explaining frame N: nothing after it matters, unless it waits in the fragment hold for a later frame.
            if (trace is not null && _frames >= trace.Frame && !trace.Held) { _more = false; break; }
            ReadOnlySpan<byte> data;
            long ts;
            LinkType link;
            int wire;
            if (_carry is { } c) { data = c.Data; ts = c.TimestampNs; link = c.Link; wire = c.Wire; _carry = null; }
            else if (TryRead(out CaptureFrame f)) { data = f.Data; ts = f.TimestampNs; link = f.LinkType; wire = f.OriginalLength; }
            else
            {
                // The capture has ended: what the fragment hold still holds can never complete.
                _more = false;
                batch.ExpireHeld(_lastNs, workers);
                break;
            }
            if (_frames == 0)
            {
                _firstNs = ts;
                Report?.Start(ts);
            }
            _lastNs = ts;
            if (((schedule.IsDue(ts - _firstNs) || Report?.NeedsSampleBefore(ts) == true) && batch.Count > 0) || !batch.Fits(ReplayBatch.PaddedLength(data.Length, wire)))
            {
                _carry = (data.ToArray(), ts, link, wire);
                break;
            }
            schedule.ApplyDue(ts - _firstNs, workers, _frames + 1);
            if (trace is not null && _frames + 1 == trace.Frame)
            {
                trace.SinceFirstNs = ts - _firstNs;
                trace.LinkType = (ushort)link;
            }
            if (data.Length < wire) CutFrames++;
            if (batch.Add(link, data, ts, _frames + 1, workers, wire) == LinkFrameKind.Unsupported)
                UnsupportedLinkTypes[link] = UnsupportedLinkTypes.GetValueOrDefault(link) + 1;
            _frames++;
        }
        return batch.Count > 0;
    }

    bool TryRead(out CaptureFrame frame)
    {
        try
        {
            return reader.TryRead(out frame);
        }
        catch (CaptureFormatException e)
        {
            Error = e;
            frame = default;
            return false;
        }
    }
}
