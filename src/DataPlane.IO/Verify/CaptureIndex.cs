using DataPlane.IO.Pcap;
using DataPlane.IO.Replay;
using DataPlane.Maps;
using DataPlane.Pipeline;

namespace DataPlane.IO.Verify;

/// <summary>
/// <c>verify</c>'s first pass over a node's capture: every frame's <see cref="FrameFacts"/> and role, and the frames
/// the node sent, indexed by signature (a translated copy of a packet that entered) and by reply key (a reply the node
/// generated), so the second pass finds in constant time what the node did with each packet it received.
/// <para>
/// Which frames entered and which the node sent: a Linux cooked capture (<c>tcpdump -i any</c>, SLL or SLL2) says so
/// in its packet type (PACKET_OUTGOING, include/uapi/linux/if_packet.h). Other link types do not; there the first
/// sighting of a packet is its arrival, and a later sighting of the same packet (same signature) changed by the node
/// — other addresses or ports, a lower TTL — is the node sending it on, as captures of several interfaces merged by
/// time show a forwarded packet. The same packet seen again unchanged is a <see cref="FrameRole.Duplicate"/>: a bridge
/// and its port, or loopback's outgoing and incoming copies, show it twice; only the first counts.
/// </para>
/// </summary>
public sealed class CaptureIndex
{
    /// <summary>How long after a packet arrives its copy or reply is looked for; and how far back a sighting counts as the same packet.</summary>
    public static readonly long WindowNs = 1_000_000_000;
    /// <summary>A copy stamped slightly before its original (two interfaces' clocks, merged files) still matches.</summary>
    public static readonly long SlackNs = 1_000_000;

    readonly List<FrameFacts> _frames = [];
    readonly Dictionary<ulong, List<int>> _sentBySignature = [], _sentByReply = [];
    /// <summary>By frame index: the later unchanged sightings of that frame's packet.</summary>
    readonly Dictionary<ulong, List<int>> _duplicates = [];
    bool[] _consumed = [];

    /// <summary>Per frame (index = frame number − 1).</summary>
    public IReadOnlyList<FrameFacts> Frames => _frames;
    public ref readonly FrameFacts this[long frame] => ref System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_frames)[(int)(frame - 1)];

    public long Received { get; private set; }
    public long Sent { get; private set; }
    public long Duplicates { get; private set; }
    public long Other { get; private set; }
    /// <summary>Whether the capture says which frames the node sent (a cooked capture, or copies seen on another interface).</summary>
    public bool HasSent => Sent > 0;
    /// <summary>Frames whose link type says which way they went (SLL, SLL2).</summary>
    public long Directed { get; private set; }
    public Dictionary<LinkType, long> LinkTypes { get; } = [];

    public static CaptureIndex Build(IReadOnlyList<string> paths, ReplayProgress? progress = null)
    {
        var index = new CaptureIndex();
        var buffer = new byte[CaptureReader.MaxRecordLength + LinkLayer.MaxGrowth];
        var sightings = new Dictionary<ulong, (long Ts, int Frame)>();
        var firsts = new Dictionary<ulong, int>();
        long pruneAt = 0;
        using var capture = new MergedCapture(paths);
        while (TryRead(capture, index, out ReadOnlySpan<byte> data, out long ts, out LinkType link))
        {
            index.LinkTypes[link] = index.LinkTypes.GetValueOrDefault(link) + 1;
            LinkFrameKind kind = LinkLayer.ToEthernet(link, data, buffer, out int length);
            bool directed = link is LinkType.LinuxSll or LinkType.LinuxSll2;
            if (directed) index.Directed++;
            if (kind is LinkFrameKind.Unsupported or LinkFrameKind.Truncated || !FrameFacts.TryRead(buffer.AsSpan(0, length), ts, out FrameFacts f))
            {
                index.Add(new FrameFacts { TimestampNs = ts, Role = FrameRole.Other });
                continue;
            }
            // Forget sightings older than the window now and then: memory stays bounded by the traffic of one window.
            if (ts > pruneAt)
            {
                Prune(sightings, ts);
                PruneFirsts(firsts, index, ts);
                pruneAt = ts + WindowNs;
            }
            ulong seen = f.Sighting();
            if (sightings.TryGetValue(seen, out var at) && ts - at.Ts <= WindowNs)
            {
                f.Role = FrameRole.Duplicate;
                Append(index._duplicates, (ulong)at.Frame, index._frames.Count);
                index.Add(f);
                continue;
            }
            else if (directed)
                f.Role = kind == LinkFrameKind.Outgoing ? FrameRole.Sent : FrameRole.Received;
            else if (firsts.TryGetValue(f.Signature, out int first) && ts - index._frames[first].TimestampNs <= WindowNs && Changed(index._frames[first], f))
                f.Role = FrameRole.Sent;
            else
            {
                f.Role = FrameRole.Received;
                firsts[f.Signature] = index._frames.Count;
            }
            sightings[seen] = (ts, index._frames.Count);
            index.Add(f);
            if ((index._frames.Count & 0x3FFF) == 0) progress?.Batch(index._frames.Count, capture.BytesRead, capture.FileLength, 0);
        }
        index._consumed = new bool[index._frames.Count];
        return index;
    }

    /// <summary>
    /// The next frame; a corrupt record ends the capture there, as it ends a replay: what came before it is verified,
    /// and the error is kept (<see cref="Error"/>) for the command to report after the results.
    /// </summary>
    static bool TryRead(MergedCapture capture, CaptureIndex index, out ReadOnlySpan<byte> data, out long ts, out LinkType link)
    {
        try
        {
            return capture.TryRead(out data, out ts, out link, out _);
        }
        catch (CaptureFormatException e)
        {
            index.Error = e;
            data = default;
            (ts, link) = (0, default);
            return false;
        }
    }

    /// <summary>The corrupt record that ended the capture, if one did: the frames before it are all there is.</summary>
    public CaptureFormatException? Error { get; private set; }

    /// <summary>Did the node change the packet (translate it, or forward it: a lower TTL)?</summary>
    static bool Changed(in FrameFacts a, in FrameFacts b) =>
        a.Src != b.Src || a.Dst != b.Dst || a.SrcPort != b.SrcPort || a.DstPort != b.DstPort || b.Ttl < a.Ttl;

    static void Prune(Dictionary<ulong, (long Ts, int Frame)> d, long now)
    {
        if (d.Count < 4096) return;
        foreach (var (k, t) in d)
            if (now - t.Ts > WindowNs) d.Remove(k);
    }

    static void PruneFirsts(Dictionary<ulong, int> d, CaptureIndex index, long now)
    {
        if (d.Count < 4096) return;
        foreach (var (k, i) in d)
            if (now - index._frames[i].TimestampNs > WindowNs) d.Remove(k);
    }

    void Add(FrameFacts f)
    {
        int i = _frames.Count;
        _frames.Add(f);
        switch (f.Role)
        {
            case FrameRole.Received: Received++; break;
            case FrameRole.Duplicate: Duplicates++; break;
            case FrameRole.Other: Other++; break;
            case FrameRole.Sent:
                Sent++;
                Append(_sentBySignature, f.Signature, i);
                if (f.ReplyKey != 0) Append(_sentByReply, f.ReplyKey, i);
                break;
        }
    }

    static void Append(Dictionary<ulong, List<int>> d, ulong key, int i)
    {
        ref List<int>? list = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(d, key, out _);
        (list ??= []).Add(i);
    }

    /// <summary>The first frame the node sent with <paramref name="signature"/> near <paramref name="ts"/> and not yet matched (its number; 0: none).</summary>
    public long FindCopy(ulong signature, long ts) => Find(_sentBySignature, signature, ts);

    /// <summary>The first reply the node sent with <paramref name="key"/> near <paramref name="ts"/> and not yet matched (its number; 0: none).</summary>
    public long FindReply(ulong key, long ts) => Find(_sentByReply, key, ts);

    long Find(Dictionary<ulong, List<int>> d, ulong key, long ts)
    {
        if (!d.TryGetValue(key, out List<int>? list)) return 0;
        foreach (int i in list)
        {
            long t = _frames[i].TimestampNs;
            if (t < ts - SlackNs || _consumed[i]) continue;
            if (t > ts + WindowNs) break;
            return i + 1;
        }
        return 0;
    }

    /// <summary>
    /// Marks frame <paramref name="frame"/> matched, and the node's other copies of the same packet after it in the
    /// window (the bridge and its port), which are not further packets of the connection.
    /// </summary>
    public void Consume(long frame, List<long>? also = null)
    {
        int i = (int)(frame - 1);
        _consumed[i] = true;
        if (!_sentBySignature.TryGetValue(_frames[i].Signature, out List<int>? list)) return;
        long ts = _frames[i].TimestampNs;
        foreach (int j in list)
        {
            if (j <= i || _consumed[j]) continue;
            if (_frames[j].TimestampNs > ts + SlackNs) break;
            _consumed[j] = true;
            also?.Add(j + 1);
        }
    }

    public bool IsConsumed(long frame) => _consumed[frame - 1];

    /// <summary>The numbers of the frames that are the same packet as frame <paramref name="frame"/> seen again unchanged.</summary>
    public IEnumerable<long> DuplicatesOf(long frame) =>
        _duplicates.TryGetValue((ulong)(frame - 1), out List<int>? d) ? d.Select(i => (long)i + 1) : [];

    /// <summary>
    /// What the capture shows each connection to a service reached: a received packet to a frontend whose copy the
    /// node sent to another destination reached that backend, and a copy sent from another source was masqueraded
    /// to it. Where the Service semantics allow several outcomes, the pipeline follows these (<see cref="BackendHints"/>).
    /// </summary>
    public BackendHints Hints(MapSet maps)
    {
        var hints = new BackendHints();
        for (int i = 0; i < _frames.Count; i++)
        {
            FrameFacts f = _frames[i];
            if (f.Role != FrameRole.Received || !f.HasPorts || !BackendEvidence.IsFrontend(maps, f.Dst, f.DstPort, f.Proto)) continue;
            long copy = FindCopy(f.Signature, f.TimestampNs);
            if (copy == 0) continue;
            ref readonly FrameFacts c = ref this[copy];
            var conn = new BackendHints.Connection(f.Proto, f.Src, f.SrcPort, f.Dst, f.DstPort);
            if (c.Dst != f.Dst || c.DstPort != f.DstPort) hints.Add(conn, f.TimestampNs, c.Dst, c.DstPort);
            if (c.Src != f.Src || c.SrcPort != f.SrcPort) hints.AddSnat(conn, f.TimestampNs, c.Src, c.SrcPort);
        }
        return hints;
    }
}
