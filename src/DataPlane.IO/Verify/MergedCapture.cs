using DataPlane.IO.Pcap;

namespace DataPlane.IO.Verify;

/// <summary>
/// Several captures of one node's interfaces read as one, in timestamp order (ties in the order the files were
/// given), as <c>mergecap</c> merges them chronologically; one capture is read as it is. Frames are numbered from 1
/// in that order, and <c>verify</c> names frames by these numbers. A frame's bytes are valid until the next
/// <see cref="TryRead"/>.
/// </summary>
public sealed class MergedCapture : IDisposable
{
    readonly CaptureReader[] _readers;
    readonly Head[] _heads;

    sealed class Head
    {
        public byte[] Data = new byte[2048];
        public int Length, Wire;
        public long TimestampNs;
        public LinkType Link;
        public bool Has;
    }

    public MergedCapture(IReadOnlyList<string> paths)
    {
        if (paths.Count == 0) throw new ArgumentException("no capture", nameof(paths));
        _readers = new CaptureReader[paths.Count];
        _heads = new Head[paths.Count];
        try
        {
            for (int i = 0; i < paths.Count; i++)
            {
                _readers[i] = new CaptureReader(paths[i]);
                _heads[i] = new Head();
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Bytes of the files consumed so far, and their total length: how far the reading has got.</summary>
    public long BytesRead => _readers.Sum(r => r?.BytesRead ?? 0);
    public long FileLength => _readers.Sum(r => r?.FileLength ?? 0);

    /// <summary>Frames handed out so far (the last one's number).</summary>
    public long Frames { get; private set; }

    public bool TryRead(out ReadOnlySpan<byte> data, out long timestampNs, out LinkType link, out int wire)
    {
        data = default;
        (timestampNs, link, wire) = (0, default, 0);
        if (_readers.Length == 1)
        {
            if (!_readers[0].TryRead(out CaptureFrame f)) return false;
            data = f.Data;
            (timestampNs, link, wire) = (f.TimestampNs, f.LinkType, f.OriginalLength);
            Frames++;
            return true;
        }
        int best = -1;
        for (int i = 0; i < _readers.Length; i++)
        {
            Head h = _heads[i];
            if (!h.Has && _readers[i].TryRead(out CaptureFrame f))
            {
                if (h.Data.Length < f.Data.Length) h.Data = new byte[Math.Max(f.Data.Length, h.Data.Length * 2)];
                f.Data.CopyTo(h.Data);
                (h.Length, h.Wire, h.TimestampNs, h.Link, h.Has) = (f.Data.Length, f.OriginalLength, f.TimestampNs, f.LinkType, true);
            }
            if (h.Has && (best < 0 || h.TimestampNs < _heads[best].TimestampNs)) best = i;
        }
        if (best < 0) return false;
        Head b = _heads[best];
        b.Has = false;
        data = b.Data.AsSpan(0, b.Length);
        (timestampNs, link, wire) = (b.TimestampNs, b.Link, b.Wire);
        Frames++;
        return true;
    }

    public void Dispose()
    {
        foreach (CaptureReader? r in _readers) r?.Dispose();
    }
}
