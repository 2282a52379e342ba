using DataPlane.IO.Pcap;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.IO.Replay;

/// <summary>
/// One batch of a replay's frames, already converted to Ethernet and steered: the frames sit in one arena (each on its
/// own cache lines, rewritten in place by their worker), each worker has its share of them in capture order, and each
/// worker's results are kept in its own array. <see cref="Process"/> runs the shares on the workers; the accessors
/// then give every frame's result and output in capture order.
/// <para>
/// Results are per worker, in its share's order: workers writing neighbouring slots of one array would fight over
/// cache lines (frames alternate between workers), which measured two workers slower than one.
/// </para>
/// </summary>
sealed partial class ReplayBatch
{
    /// <summary>Frames a batch holds: enough for the prefetch distance and the parallel split to pay, little enough to keep a replay's memory flat.</summary>
    public const int Capacity = 16384;
    /// <summary>Arena bytes per frame on average: a full-size Ethernet frame rounded up to cache lines; larger frames take fewer per batch.</summary>
    const int ArenaPerFrame = 2048;
    /// <summary>Per frame: an ICMP error (14 + 20 + 8 + 576 bytes at most) or a DNS answer of one MTU-sized frame.</summary>
    public const int ReplySlot = 1536;

    readonly byte[] _arena = new byte[Capacity * ArenaPerFrame];
    readonly byte[] _replies = new byte[Capacity * ReplySlot];
    /// <summary>Per frame of the batch, in capture order: where it sits in the arena, its Ethernet length, timestamp and link kind.</summary>
    readonly int[] _offsets = new int[Capacity], _lengths = new int[Capacity];
    readonly long[] _stamps = new long[Capacity];
    readonly LinkFrameKind[] _kinds = new LinkFrameKind[Capacity];
    /// <summary>Per frame: bytes the capture cut from its end (0: whole), which the arena holds as zeros.</summary>
    readonly int[] _cut = new int[Capacity];
    /// <summary>Per frame: its key, read once when it is steered and used again for its prefetch hints.</summary>
    readonly FrameKey[] _keys = new FrameKey[Capacity];
    /// <summary>
    /// Per entry: the capture's frame number (held fragments leave the hold after later frames, so entries are not
    /// always in frame order), what the fragment hold made of it, and the frame it left the hold with (the first
    /// fragment that released it, the fragment that completed its datagram; 0: none).
    /// </summary>
    readonly long[] _frameNumbers = new long[Capacity], _with = new long[Capacity];
    readonly HoldFate[] _fates = new HoldFate[Capacity];
    readonly DropReason[] _holdReasons = new DropReason[Capacity];
    /// <summary>Per frame: its worker and its position in that worker's share (where its result is).</summary>
    readonly int[] _workerOf = new int[Capacity], _positionOf = new int[Capacity];
    /// <summary>Per worker: the batch indexes of its frames, in capture order, and their results in the same order.</summary>
    readonly List<int>[] _shares;
    readonly PacketResult[][] _results;
    /// <summary>Arena bytes in use.</summary>
    int _used;
    /// <summary>The entry of this batch that <c>replay --explain</c> traces (-1: none), and the replay's hook.</summary>
    int _traced = -1;
    readonly ReplayTrace? _trace;

    readonly FragmentHold _hold;

    public ReplayBatch(WorkerSet workerSet, ReplayTrace? trace = null)
    {
        _trace = trace;
        int workers = workerSet.Count;
        _hold = workerSet.Defrag;
        _shares = new List<int>[workers];
        _results = new PacketResult[workers][];
        for (int i = 0; i < workers; i++)
        {
            _shares[i] = new List<int>(Capacity);
            _results[i] = new PacketResult[Capacity];
        }
    }

    /// <summary>
    /// Verdicts of the frames the link layer keeps from the pipelines (outgoing copies, unknown link types), counted
    /// where they are decided, as each pipeline counts its own: every frame of a replay is counted once. Written by
    /// worker 0's thread only (those frames are its share).
    /// </summary>
    public Counters LinkVerdicts { get; } = new();

    public int Count { get; private set; }
    /// <summary>No room for one more frame and every fragment held now (which it may release).</summary>
    public bool IsFull => Count + 1 + _hold.HeldFrames > Capacity;

    public void Clear()
    {
        Count = 0;
        _used = 0;
        _traced = -1;
        foreach (List<int> share in _shares) share.Clear();
    }

    /// <summary>
    /// Arena bytes a record needs: a record cut short (<paramref name="captured"/> below <paramref name="wire"/>) is
    /// padded with zeros to its length on the wire, at most an IPv4 datagram's 65 535 bytes past a link header.
    /// </summary>
    public static int PaddedLength(int captured, int wire) => Math.Max(captured, Math.Min(wire, MaxPaddedFrame));

    /// <summary>The largest IPv4 datagram behind the largest link header we convert (and its VLAN tags).</summary>
    const int MaxPaddedFrame = 65_535 + 64;

    /// <summary>Whether a captured frame of <paramref name="length"/> bytes fits the arena once converted to Ethernet (which adds at most <see cref="LinkLayer.MaxGrowth"/>).</summary>
    /// <summary>Room is kept for what the frame may release from the fragment hold: every held frame, or a reassembled datagram.</summary>
    public bool Fits(int length) =>
        _used + length + LinkLayer.MaxGrowth + _hold.HeldFrames * (FragmentHold.SlotSize + 64) + (_hold.HeldFrames > 0 ? 65536 + 128 : 0) <= _arena.Length;

    /// <summary>
    /// Adds captured frame number <paramref name="frameNumber"/> (<see cref="Fits"/> first): converts it to Ethernet
    /// into the arena and gives it to its connection's worker; frames the link layer keeps from the pipeline (outgoing
    /// copies, unknown link types) go to worker 0, which only records their verdict. A fragment passes the node's
    /// fragment hold first (<see cref="FragmentHold"/>): it may be held (no entry now), dropped, or release held
    /// fragments, which become entries right after it at its time; held fragments that time out become drop entries.
    /// The batch's trace (<c>replay --explain N</c>) marks whichever entry is frame N.
    /// </summary>
    /// <para>
    /// A record the capture cut short (<paramref name="wire"/>, its length on the wire, above the captured length) is
    /// padded with zeros to that length, so the pipeline reads its headers at their offsets and decides what they
    /// decide (<see cref="PacketContext.CapturedEnd"/> tells it where the real bytes end). It never enters the
    /// fragment hold: reassembling zeros would answer or forward bytes nobody sent.
    /// </para>
    public LinkFrameKind Add(LinkType link, ReadOnlySpan<byte> data, long timestampNs, long frameNumber, WorkerSet workers, int wire = 0)
    {
        LinkFrameKind kind = LinkLayer.ToEthernet(link, data, _arena.AsSpan(_used), out int length);
        if (kind != LinkFrameKind.Received)
        {
            Entry(kind, length, timestampNs, frameNumber, 0, workers, HoldFate.None);
            return kind;
        }
        int cut = PaddedLength(data.Length, wire) - data.Length;
        if (cut > 0)
        {
            _arena.AsSpan(_used + length, cut).Clear();
            length += cut;
            Entry(kind, length, timestampNs, frameNumber, 0, workers, HoldFate.None, FrameKey.Read(_arena.AsSpan(_used, length)), cut: cut);
            return kind;
        }
        Span<byte> frame = _arena.AsSpan(_used, length);
        FrameKey key = FrameKey.Read(frame);
        if (!FragmentHold.IsFragment(key) && timestampNs < _hold.NextExpiryNs)
        {
            Entry(kind, length, timestampNs, frameNumber, 0, workers, HoldFate.None, in key);
            return kind;
        }
        Held(kind, frame, in key, timestampNs, frameNumber, workers);
        return kind;
    }

    /// <summary>A fragment (or a frame at a time when held fragments time out): what the hold makes of it.</summary>
    void Held(LinkFrameKind kind, Span<byte> frame, in FrameKey key, long ts, long frameNumber, WorkerSet workers)
    {
        FragmentAction action = _hold.Offer(frame, in key, ts, frameNumber, workers.Maps);
        Dropped(ts, workers);
        switch (action)
        {
            case FragmentAction.Process:
                Entry(kind, frame.Length, ts, frameNumber, 0, workers, HoldFate.None, in key);
                break;
            case FragmentAction.Held:
                if (_trace?.Frame == frameNumber) _trace.Held = true;
                break;
            case FragmentAction.Drop:
                Entry(kind, 0, ts, frameNumber, 0, workers, HoldFate.Dropped, reason: _hold.Reason);
                break;
            case FragmentAction.Release:
                Entry(kind, frame.Length, ts, frameNumber, 0, workers, HoldFate.None, in key);
                for (int r = 0; r < _hold.ReleasedCount; r++)
                {
                    Span<byte> f = _hold.Released(r, out long tag);
                    f.CopyTo(_arena.AsSpan(_used));
                    FrameKey k = FrameKey.Read(f);
                    Entry(kind, f.Length, ts, tag, frameNumber, workers, HoldFate.Released, in k);
                }
                _hold.EndRelease();
                break;
            case FragmentAction.Reassemble:
                Span<byte> whole = _hold.Reassembled;
                whole.CopyTo(_arena.AsSpan(_used));
                FrameKey wk = FrameKey.Read(whole);
                Entry(kind, whole.Length, ts, frameNumber, 0, workers, HoldFate.None, in wk);
                for (int r = 0; r < _hold.ReleasedCount; r++)
                {
                    _hold.Released(r, out long tag);
                    _hold.CountAbsorbed();
                    Entry(kind, 0, ts, tag, frameNumber, workers, HoldFate.Absorbed);
                }
                _hold.EndRelease();
                break;
        }
    }

    /// <summary>At the end of the capture: every fragment still held is dropped (nothing can complete it).</summary>
    public void ExpireHeld(long timestampNs, WorkerSet workers)
    {
        _hold.ExpireAll();
        Dropped(timestampNs, workers);
    }

    void Dropped(long ts, WorkerSet workers)
    {
        for (int d = 0; d < _hold.DroppedCount; d++)
        {
            long tag = _hold.DroppedTag(d, out DropReason reason);
            Entry(LinkFrameKind.Received, 0, ts, tag, 0, workers, HoldFate.Dropped, reason: reason);
        }
    }

    /// <summary>Appends an entry: the frame's bytes are at the arena's free end (length 0 for an entry the hold decided, which goes to worker 0).</summary>
    void Entry(LinkFrameKind kind, int length, long ts, long frameNumber, long with, WorkerSet workers, HoldFate fate, in FrameKey key = default, DropReason reason = DropReason.None, int cut = 0)
    {
        int i = Count;
        _cut[i] = cut;
        if (_trace is { } t && t.Frame == frameNumber)
        {
            _traced = i;
            t.Held = false;
        }
        _offsets[i] = _used;
        _lengths[i] = length;
        _stamps[i] = ts;
        _kinds[i] = kind;
        _frameNumbers[i] = frameNumber;
        _with[i] = with;
        _fates[i] = fate;
        _holdReasons[i] = reason;
        int worker = 0;
        if (kind == LinkFrameKind.Received && fate is HoldFate.None or HoldFate.Released)
        {
            _keys[i] = key;
            worker = workers.WorkerFor(in _keys[i], _arena.AsSpan(_used, length));
        }
        _workerOf[i] = worker;
        _positionOf[i] = _shares[worker].Count;
        _shares[worker].Add(i);
        _used = (_used + length + 63) & ~63; // each frame on its own cache lines: workers rewrite them in place
        Count = i + 1;
    }

    /// <summary>Entry <paramref name="i"/>'s frame number in the capture (1-based, as the verdict lines number frames).</summary>
    public long FrameNumber(int i) => _frameNumbers[i];

    /// <summary>The frame entry <paramref name="i"/> left the fragment hold with (0: it was never held): the first fragment
    /// that released it, or the fragment whose reassembled datagram absorbed it.</summary>
    public long LeftHoldWith(int i) => _with[i];

    /// <summary>Frame <paramref name="i"/>'s result (after <see cref="Process"/>).</summary>
    public ref readonly PacketResult Result(int i) => ref _results[_workerOf[i]][_positionOf[i]];

    public long TimestampNs(int i) => _stamps[i];

    /// <summary>
    /// Entry <paramref name="i"/>'s length as an Ethernet frame, as the pipeline got it (a record the capture cut short
    /// counts its length on the wire; 0 for an entry the fragment hold decided alone): the report's byte counts.
    /// </summary>
    public int InputLength(int i) => _lengths[i];

    /// <summary>
    /// What frame <paramref name="i"/> put on the wire (after <see cref="Process"/>), if anything: the translated frame
    /// when forwarded, the generated reply of a reject or a DNS answer.
    /// <paramref name="wire"/> is its length on the wire: a forwarded frame the capture cut short is given as cut as
    /// it came (its padding is not what was on the wire), with the length the node sent.
    /// </summary>
    public bool TryGetOutput(int i, out ReadOnlySpan<byte> output, out int wire)
    {
        ref readonly PacketResult r = ref Result(i);
        wire = r.OutLength;
        if (r.Verdict == Verdict.Forward && _fates[i] is HoldFate.None or HoldFate.Released)
            output = _arena.AsSpan(_offsets[i], Math.Max(Math.Min(r.OutLength, Ethernet.HeaderLength + Ipv4Header.MinLength), r.OutLength - _cut[i]));
        else if (r.Verdict is Verdict.Reject or Verdict.Answer && r.HasOut) output = _replies.AsSpan(i * ReplySlot, r.OutLength);
        else
        {
            output = default;
            return false;
        }
        return true;
    }
}

/// <summary>What the fragment hold made of a batch entry.</summary>
enum HoldFate : byte
{
    /// <summary>Not held: run on arrival (or the reassembled datagram, run in place of the fragment that completed it).</summary>
    None,
    /// <summary>Held until its first fragment came, then run right after it.</summary>
    Released,
    /// <summary>Absorbed into a reassembled datagram: verdict reassembled, no output of its own.</summary>
    Absorbed,
    /// <summary>Dropped by the hold (reason in the entry): refused, timed out, or discarded with its datagram.</summary>
    Dropped,
}
