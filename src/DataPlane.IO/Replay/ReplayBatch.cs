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
    /// <summary>Per frame: its worker and its position in that worker's share (where its result is).</summary>
    readonly int[] _workerOf = new int[Capacity], _positionOf = new int[Capacity];
    /// <summary>Per worker: the batch indexes of its frames, in capture order, and their results in the same order.</summary>
    readonly List<int>[] _shares;
    readonly PacketResult[][] _results;
    /// <summary>Arena bytes in use.</summary>
    int _used;
    /// <summary>The frame of this batch that <c>replay --explain</c> traces (-1: none), and its hook.</summary>
    int _traced = -1;
    ReplayTrace? _trace;

    public ReplayBatch(int workers)
    {
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
    public bool IsFull => Count == Capacity;

    public void Clear()
    {
        Count = 0;
        _used = 0;
        _traced = -1;
        _trace = null;
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
    public bool Fits(int length) => _used + length + LinkLayer.MaxGrowth <= _arena.Length;

    /// <summary>
    /// Adds a captured frame (<see cref="Fits"/> first): converts it to Ethernet into the arena and gives it to its
    /// connection's worker; frames the link layer keeps from the pipeline (outgoing copies, unknown link types) go to
    /// worker 0, which only records their verdict. With <paramref name="trace"/>, this frame is the one to explain.
    /// </summary>
    /// <para>
    /// A record the capture cut short (<paramref name="wire"/>, its length on the wire, above the captured length) is
    /// padded with zeros to that length, so the pipeline reads its headers at their offsets and decides what they
    /// decide (<see cref="PacketContext.CapturedEnd"/> tells it where the real bytes end).
    /// </para>
    public LinkFrameKind Add(LinkType link, ReadOnlySpan<byte> data, long timestampNs, WorkerSet workers, ReplayTrace? trace = null, int wire = 0)
    {
        int i = Count;
        if (trace is not null) (_traced, _trace) = (i, trace);
        LinkFrameKind kind = LinkLayer.ToEthernet(link, data, _arena.AsSpan(_used), out int length);
        int cut = kind == LinkFrameKind.Received ? PaddedLength(data.Length, wire) - data.Length : 0;
        if (cut > 0)
        {
            _arena.AsSpan(_used + length, cut).Clear();
            length += cut;
        }
        _cut[i] = cut;
        _offsets[i] = _used;
        _lengths[i] = length;
        _stamps[i] = timestampNs;
        _kinds[i] = kind;
        int worker = 0;
        if (kind == LinkFrameKind.Received)
        {
            ReadOnlySpan<byte> frame = _arena.AsSpan(_used, length);
            _keys[i] = FrameKey.Read(frame);
            worker = workers.WorkerFor(in _keys[i], frame);
        }
        _workerOf[i] = worker;
        _positionOf[i] = _shares[worker].Count;
        _shares[worker].Add(i);
        _used = (_used + length + 63) & ~63; // each frame on its own cache lines: workers rewrite them in place
        Count = i + 1;
        return kind;
    }

    /// <summary>Frame <paramref name="i"/>'s result (after <see cref="Process"/>).</summary>
    public ref readonly PacketResult Result(int i) => ref _results[_workerOf[i]][_positionOf[i]];

    public long TimestampNs(int i) => _stamps[i];

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
        if (r.Verdict == Verdict.Forward) output = _arena.AsSpan(_offsets[i], Math.Max(Math.Min(r.OutLength, Ethernet.HeaderLength + Ipv4Header.MinLength), r.OutLength - _cut[i]));
        else if (r.Verdict is Verdict.Reject or Verdict.Answer && r.HasOut) output = _replies.AsSpan(i * ReplySlot, r.OutLength);
        else
        {
            output = default;
            return false;
        }
        return true;
    }
}
