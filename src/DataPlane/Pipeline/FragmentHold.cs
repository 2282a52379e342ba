using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using DataPlane.Dns;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline.Stages;

namespace DataPlane.Pipeline;

/// <summary>What the reading thread does with a frame after <see cref="FragmentHold.Offer"/>.</summary>
public enum FragmentAction : byte
{
    /// <summary>Run it now, as any frame: not a fragment the hold tracks, or one whose first fragment has been seen.</summary>
    Process,
    /// <summary>Copied into the hold: nothing runs now; the frame leaves the hold released, absorbed or dropped.</summary>
    Held,
    /// <summary>Refused (<see cref="FragmentHold.Reason"/>); held fragments discarded with it are listed as dropped.</summary>
    Drop,
    /// <summary>A first fragment: run it now, then the held fragments it releases, in offset order
    /// (<see cref="FragmentHold.ReleasedCount"/>), then call <see cref="FragmentHold.EndRelease"/>.</summary>
    Release,
    /// <summary>It completed a datagram the data plane answers itself: run <see cref="FragmentHold.Reassembled"/> in
    /// its place; the other fragments (<see cref="FragmentHold.ReleasedCount"/>) were absorbed into it. Then
    /// <see cref="FragmentHold.EndRelease"/>.</summary>
    Reassemble,
}

/// <summary>
/// IPv4 defragmentation in front of the pipelines, as nf_defrag_ipv4 sits in front of conntrack
/// (net/ipv4/netfilter/nf_defrag_ipv4.c → ip_defrag, net/ipv4/ip_fragment.c): fragments are kept per datagram
/// (source, destination, protocol, IP id: <see cref="FragmentKey"/>, the kernel's ipq key), in any arrival order.
/// <para>
/// Which datagrams: those to a service frontend address (the ones the pipeline translates; a fragment to any other
/// address is not ours and runs as it always did). The pipeline translates fragment by fragment (cilium's fragment
/// tracking, <see cref="FragmentStage"/>): a later fragment needs its first fragment's translation. So:
/// <list type="bullet">
/// <item>a later fragment whose first fragment has not arrived is held (copied);</item>
/// <item>when the first arrives it runs, then every held fragment of its datagram runs after it in offset order, at
/// the first's time: the kernel emits nothing before the datagram is complete and then sends the re-fragmented
/// datagram in offset order (ip_do_fragment), so a datagram whose first fragment came last leaves exactly as the
/// kernel sends it; fragments after the first run on arrival, as before;</item>
/// <item>a UDP datagram to the cluster DNS address, when the data plane answers DNS itself
/// (<see cref="DnsStage.Matches"/>'s rule), is held whole, first fragment included, and reassembled when complete
/// (ip_frag_reasm): the reassembled datagram runs in place of the fragment that completed it and is answered like
/// an unfragmented query; the other fragments are absorbed into it (verdict <see cref="Verdict.Reassembled"/>).
/// If its first fragment shows another port than 53 it is released as above.</item>
/// </list>
/// The datagram's record (its fragments' ranges, held or already run) lives until it is complete or times out, so
/// the kernel's per-fragment rules apply in any order (ip_frag_queue, inet_frag_queue_insert): a fragment that lies
/// within what was received is a duplicate and dropped alone (IPFRAG_DUP, <see cref="DropReason.FragDuplicate"/>);
/// one that partly overlaps kills the whole datagram (RFC 5722 as the kernel applies it to IPv4 since 4.19:
/// IPSTATS_MIB_REASM_OVERLAPS, <see cref="DropReason.FragOverlap"/>); an end that contradicts the last fragment's,
/// a zero-length fragment or a datagram past 65535 bytes kills it too (discard_qp, <see cref="DropReason.FragInvalid"/>).
/// Fragments already run cannot be recalled: a kill drops what is still held and what arrives later starts a new
/// datagram, which can only time out.
/// </para>
/// <para>
/// Bounds: the kernel's net.ipv4.ipfrag_high_thresh (4 MB) is the memory the node's held fragments may use, each
/// held frame taking one <see cref="SlotSize"/> slot (about an MTU-sized skb's truesize, which is what the kernel
/// counts), so 2048 frames; a datagram's record of fragments already run takes no slot but one of
/// <see cref="RecordsPerSlot"/> × slots range records. When a fragment would need a slot or record that is not free,
/// it is refused, <see cref="DropReason.FragHoldFull"/>, and nothing held is evicted: since 4.17 the kernel refuses new
/// fragments above ipfrag_high_thresh instead of evicting queues (inet_frag_find; "inet: frags: remove
/// inet_frag_evictor"), and ipfrag_low_thresh no longer does anything. A frame longer than a slot (beyond a
/// 1500-byte MTU with its link headers) cannot be held either. net.ipv4.ipfrag_time: a datagram's fragments are
/// dropped 30 s after its first fragment to arrive (the queue's timer is armed once, in inet_frag_alloc),
/// <see cref="DropReason.FragReassemblyTimeout"/> (IPSTATS_MIB_REASMTIMEOUT). No ICMP time exceeded is sent: ip_expire
/// skips it for conntrack's defrag users on a forwarded datagram (frag_expire_skip_icmp, rt_type != RTN_LOCAL), and
/// a service's traffic is forwarded. Everything is allocated once; nothing per frame.
/// </para>
/// <para>
/// Concurrency: owned by the one thread that reads frames and steers them (the replay's reader, the live session's
/// reading thread), before steering: so fragments meet in one place whatever the worker count, a held fragment goes to
/// its first fragment's worker (<see cref="FlowSteering"/>), and the outcome does not depend on how many workers there
/// are. <see cref="Counters"/> is read by other threads through its snapshot.
/// </para>
/// </summary>
public sealed class FragmentHold
{
    /// <summary>Bytes a held frame takes: an MTU-sized frame with its link headers, about the truesize the kernel counts for it.</summary>
    public const int SlotSize = 2048;
    /// <summary>net.ipv4.ipfrag_high_thresh's default: 4 MB.</summary>
    public const int DefaultBytes = 4 << 20;
    /// <summary>Range records per slot: a datagram's fragments already run keep only their range.</summary>
    public const int RecordsPerSlot = 4;
    /// <summary>Largest IPv4 datagram (the total length is 16 bits): a reassembled one beyond it is refused.</summary>
    const int MaxDatagram = 65535;
    /// <summary>Link-layer bytes a reassembled datagram may carry in front (Ethernet and a few VLAN tags).</summary>
    const int MaxL2 = 64;

    const byte FirstIn = 1, LastIn = 2, Whole = 4, Live = 8;

    // Datagrams ("queues"), by number. Live ones are linked in arrival order: their timers run out in that order.
    readonly FixedHashMap<FragmentKey, int> _index;
    readonly FragmentKey[] _qKey;
    readonly long[] _qExpires;
    /// <summary>Per datagram: first range record (sorted by offset), the end if known (0 before), bytes received, flags.</summary>
    readonly int[] _qHead, _qLen, _qMeat, _qPrev, _qNext;
    readonly byte[] _qFlags;
    readonly int[] _qFree;
    int _qFreeCount, _qOldest = -1, _qNewest = -1;

    // Range records: one per fragment received and not yet discarded; Slot -1 = run already (range only).
    readonly int[] _rStart, _rEnd, _rNext, _rSlot, _rFree;
    readonly long[] _rTag;
    int _rFreeCount;

    // Held frames, one per slot.
    readonly byte[] _slots;
    readonly int[] _slotLength, _slotL3, _slotFree;
    int _slotFreeCount;

    // The last call's outputs: frames released (or absorbed) and frames dropped, by caller tag.
    readonly int[] _released;
    int _releasedCount;
    readonly long[] _droppedTag;
    readonly DropReason[] _droppedReason;
    int _droppedCount;
    /// <summary>The datagram the last release came from, and whether it is complete (freed by <see cref="EndRelease"/>).</summary>
    int _releaseQueue = -1;
    bool _releaseFrees;
    readonly byte[] _reassembled = new byte[MaxL2 + 60 + MaxDatagram];
    int _reassembledLength;

    public FragmentHold(int bytes = DefaultBytes)
    {
        int slots = Math.Max(1, bytes / SlotSize);
        int records = slots * RecordsPerSlot;
        _slots = new byte[slots * SlotSize];
        _slotLength = new int[slots];
        _slotL3 = new int[slots];
        _slotFree = new int[slots];
        for (int i = 0; i < slots; i++) _slotFree[i] = slots - 1 - i;
        _slotFreeCount = slots;
        _rStart = new int[records]; _rEnd = new int[records]; _rNext = new int[records]; _rSlot = new int[records];
        _rTag = new long[records];
        _rFree = new int[records];
        for (int i = 0; i < records; i++) _rFree[i] = records - 1 - i;
        _rFreeCount = records;
        // Every datagram has at least one record: as many datagrams as records.
        _index = new FixedHashMap<FragmentKey, int>((int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)records * 2));
        _qKey = new FragmentKey[records];
        _qExpires = new long[records];
        _qHead = new int[records]; _qLen = new int[records]; _qMeat = new int[records];
        _qPrev = new int[records]; _qNext = new int[records];
        _qFlags = new byte[records];
        _qFree = new int[records];
        for (int i = 0; i < records; i++) _qFree[i] = records - 1 - i;
        _qFreeCount = records;
        _released = new int[records];
        _droppedTag = new long[records + 1];
        _droppedReason = new DropReason[records + 1];
        SlotCount = slots;
    }

    /// <summary>Frames the hold can keep at once.</summary>
    public int SlotCount { get; }
    /// <summary>Frames held now.</summary>
    public int HeldFrames => SlotCount - _slotFreeCount;
    /// <summary>Datagrams tracked now (with fragments held or only ranges).</summary>
    public int Datagrams => _index.Count;
    /// <summary>The hold's own verdicts: frames it dropped (per reason) and fragments absorbed into a reassembled datagram.</summary>
    public Counters Counters { get; } = new();
    /// <summary>Why the last <see cref="FragmentAction.Drop"/>.</summary>
    public DropReason Reason { get; private set; }
    /// <summary>When the oldest datagram times out (long.MaxValue when none): <see cref="ExpireDue"/> does nothing before.</summary>
    public long NextExpiryNs => _qOldest < 0 ? long.MaxValue : _qExpires[_qOldest];

    /// <summary>Whether the frame may be an IPv4 fragment (MF set or an offset), read cheaply for an untagged frame;
    /// a tagged one is left to <see cref="FrameKey"/>. For callers that do not read a <see cref="FrameKey"/> per frame.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool MaybeFragment(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < Ethernet.HeaderLength + Ipv4Header.MinLength) return false;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        if (type == Ethernet.EtherTypeIPv4)
            return (BinaryPrimitives.ReadUInt16BigEndian(frame[(Ethernet.HeaderLength + Ipv4Header.FlagsFragmentOffset)..]) & (Ipv4Header.FlagMoreFragments | Ipv4Header.FragmentOffsetMask)) != 0;
        return type is 0x8100 or 0x88A8;
    }

    /// <summary>A fragment (MF set, or a non-zero offset) the <paramref name="k"/> says is IPv4.</summary>
    public static bool IsFragment(in FrameKey k) => k.IsIpv4 && (k.FragmentWord & (Ipv4Header.FlagMoreFragments | Ipv4Header.FragmentOffsetMask)) != 0;

    /// <summary>
    /// Takes a frame (Ethernet, <paramref name="k"/> read from it) of the capture or the wire at <paramref name="nowNs"/>;
    /// <paramref name="tag"/> is the caller's name for it (the frame number), given back when it leaves the hold. Frames
    /// that are not fragments are <see cref="FragmentAction.Process"/>. Timed-out datagrams are expired first. After
    /// the call, <see cref="DroppedCount"/> lists the held frames dropped by it.
    /// </summary>
    public FragmentAction Offer(ReadOnlySpan<byte> frame, in FrameKey k, long nowNs, long tag, MapSet maps)
    {
        EndRelease();
        _droppedCount = 0;
        Reason = DropReason.None;
        if (nowNs >= NextExpiryNs) ExpireInto(nowNs);
        if (!IsFragment(k)) return FragmentAction.Process;
        return Fragment(frame, k, nowNs, tag, maps);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    FragmentAction Fragment(ReadOnlySpan<byte> frame, in FrameKey k, long nowNs, long tag, MapSet maps)
    {
        // Only what ip_rcv_core lets through reaches defrag: a bad header is the parse stage's to name.
        int l3 = k.L3Offset;
        ReadOnlySpan<byte> ip = frame[l3..];
        int ihl = k.L4Offset - l3;
        if (ip.Length < ihl) return FragmentAction.Process;
        int total = BinaryPrimitives.ReadUInt16BigEndian(ip[Ipv4Header.TotalLengthOffset..]);
        if (total < ihl || total > ip.Length || (ip[0] >> 4) != 4 || !Checksum.Ipv4HeaderValid(ip[..ihl])) return FragmentAction.Process;
        bool dns = AnswersDns(maps, k.Dst, k.Proto);
        if (!dns && !maps.IsFrontendAddress(k.Dst)) return FragmentAction.Process;

        int offset = (k.FragmentWord & Ipv4Header.FragmentOffsetMask) * 8;
        bool more = (k.FragmentWord & Ipv4Header.FlagMoreFragments) != 0;
        int end = offset + total - ihl;
        var key = new FragmentKey(k.Src, k.Dst, k.Id, k.Proto);
        ref int qr = ref _index.Lookup(key);
        int q = Unsafe.IsNullRef(ref qr) ? -1 : qr;
        if (q < 0)
        {
            if (_qFreeCount == 0 || _rFreeCount == 0) return Drop(DropReason.FragHoldFull);
            q = NewQueue(key, nowNs, dns);
        }

        // ip_frag_queue: the end rules, then inet_frag_queue_insert's overlap rule.
        if (!more)
        {
            if (end < _qLen[q] || ((_qFlags[q] & LastIn) != 0 && end != _qLen[q])) return Kill(q, DropReason.FragInvalid);
        }
        else
        {
            end &= ~7; // a non-last fragment's payload counts in 8-byte units (the kernel trims the rest)
            if (end > _qLen[q] && (_qFlags[q] & LastIn) != 0) return Kill(q, DropReason.FragInvalid);
        }
        if (end <= offset || end + ihl > MaxDatagram) return Kill(q, DropReason.FragInvalid);
        int prev = -1, at = _qHead[q];
        int covered = 0;
        bool intersects = false;
        for (int r = _qHead[q]; r >= 0; r = _rNext[r])
        {
            if (_rStart[r] < end && _rEnd[r] > offset)
            {
                intersects = true;
                covered += Math.Min(_rEnd[r], end) - Math.Max(_rStart[r], offset);
            }
            if (_rStart[r] < offset) { prev = r; at = _rNext[r]; }
        }
        if (intersects)
        {
            // Within what the datagram already holds: a duplicate, dropped alone (IPFRAG_DUP). Any other overlap kills it.
            if (covered == end - offset) return Drop(DropReason.FragDuplicate);
            return Kill(q, DropReason.FragOverlap);
        }

        bool first = offset == 0;
        bool whole = (_qFlags[q] & Whole) != 0;
        // Reassembled only when it is a query (port 53) and its headers fit the reassembly buffer's room (a few VLAN tags).
        if (whole && first && (l3 > MaxL2 || ip.Length < ihl + 4 || BinaryPrimitives.ReadUInt16BigEndian(ip[(ihl + L4.DstPortOffset)..]) != DnsStage.Port))
        {
            _qFlags[q] = (byte)(_qFlags[q] & ~Whole); // not a query to port 53: translated like any datagram
            whole = false;
        }
        bool hold = whole || ((_qFlags[q] & FirstIn) == 0 && !first);
        if (_rFreeCount == 0 || (hold && (_slotFreeCount == 0 || frame.Length > SlotSize)))
        {
            if (_qHead[q] < 0) FreeQueue(q);
            return Drop(DropReason.FragHoldFull);
        }
        int rec = _rFree[--_rFreeCount];
        _rStart[rec] = offset; _rEnd[rec] = end; _rTag[rec] = tag; _rSlot[rec] = -1;
        _rNext[rec] = at;
        if (prev < 0) _qHead[q] = rec; else _rNext[prev] = rec;
        _qMeat[q] += end - offset;
        if (!more) { _qFlags[q] |= LastIn; _qLen[q] = end; }
        else if (end > _qLen[q]) _qLen[q] = end;
        if (first) _qFlags[q] |= FirstIn;
        if (hold)
        {
            int s = _slotFree[--_slotFreeCount];
            frame.CopyTo(_slots.AsSpan(s * SlotSize, SlotSize));
            _slotLength[s] = frame.Length;
            _slotL3[s] = l3;
            _rSlot[rec] = s;
        }
        bool complete = (_qFlags[q] & (FirstIn | LastIn)) == (FirstIn | LastIn) && _qMeat[q] == _qLen[q];
        if (whole)
        {
            if (!complete) return FragmentAction.Held;
            return Reassemble(q, rec);
        }
        FragmentAction action = hold ? FragmentAction.Held : FragmentAction.Process;
        if (first)
        {
            // The first fragment releases every fragment held before it, in offset order.
            for (int r = _qHead[q]; r >= 0; r = _rNext[r])
                if (_rSlot[r] >= 0) _released[_releasedCount++] = r;
            if (_releasedCount > 0) action = FragmentAction.Release;
        }
        if (action == FragmentAction.Release) (_releaseQueue, _releaseFrees) = (q, complete);
        else if (complete) FreeQueue(q); // nothing held, nothing more to come
        return action;
    }

    /// <summary>Builds the whole datagram (ip_frag_reasm) from the held fragments of <paramref name="q"/>, the head's headers first.</summary>
    FragmentAction Reassemble(int q, int completing)
    {
        int head = _qHead[q];
        int hs = _rSlot[head];
        ReadOnlySpan<byte> headFrame = _slots.AsSpan(hs * SlotSize, _slotLength[hs]);
        int l3 = _slotL3[hs];
        int ihl = (headFrame[l3] & 0x0F) * 4;
        if (ihl + _qLen[q] > MaxDatagram)
        {
            // ip_frag_reasm's out_oversize: the first fragment's options make the whole too long. The completing
            // fragment is reported by the Drop itself, not again among the held ones.
            FreeSlot(ref _rSlot[completing]);
            return Kill(q, DropReason.FragInvalid);
        }
        Span<byte> outFrame = _reassembled;
        headFrame[..(l3 + ihl)].CopyTo(outFrame);
        for (int r = head; r >= 0; r = _rNext[r])
        {
            int s = _rSlot[r];
            ReadOnlySpan<byte> f = _slots.AsSpan(s * SlotSize, _slotLength[s]);
            int fl3 = _slotL3[s], fihl = (f[fl3] & 0x0F) * 4;
            f.Slice(fl3 + fihl, _rEnd[r] - _rStart[r]).CopyTo(outFrame[(l3 + ihl + _rStart[r])..]);
        }
        Span<byte> ip = outFrame[l3..];
        int total = ihl + _qLen[q];
        BinaryPrimitives.WriteUInt16BigEndian(ip[Ipv4Header.TotalLengthOffset..], (ushort)total);
        // The reassembled header is the first fragment's with MF and the offset cleared (DF kept, as ip_frag_reasm).
        ushort word = BinaryPrimitives.ReadUInt16BigEndian(ip[Ipv4Header.FlagsFragmentOffset..]);
        BinaryPrimitives.WriteUInt16BigEndian(ip[Ipv4Header.FlagsFragmentOffset..], (ushort)(word & Ipv4Header.FlagDontFragment));
        BinaryPrimitives.WriteUInt16BigEndian(ip[Ipv4Header.ChecksumOffset..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(ip[Ipv4Header.ChecksumOffset..], Checksum.Compute(ip[..ihl]));
        _reassembledLength = l3 + total;
        for (int r = head; r >= 0; r = _rNext[r])
            if (r != completing) _released[_releasedCount++] = r;
        (_releaseQueue, _releaseFrees) = (q, true);
        return FragmentAction.Reassemble;
    }

    /// <summary>The reassembled datagram of a <see cref="FragmentAction.Reassemble"/> (valid until <see cref="EndRelease"/>; the caller may rewrite it).</summary>
    public Span<byte> Reassembled => _reassembled.AsSpan(0, _reassembledLength);

    /// <summary>Frames released (<see cref="FragmentAction.Release"/>) or absorbed (<see cref="FragmentAction.Reassemble"/>) by the last call.</summary>
    public int ReleasedCount => _releasedCount;

    /// <summary>Released frame <paramref name="i"/>, in offset order: its bytes (the caller may rewrite them in place) and tag.
    /// Valid until <see cref="EndRelease"/>.</summary>
    public Span<byte> Released(int i, out long tag)
    {
        int r = _released[i];
        tag = _rTag[r];
        int s = _rSlot[r];
        return _slots.AsSpan(s * SlotSize, _slotLength[s]);
    }

    /// <summary>Frees the slots of the frames the last call released or absorbed; their ranges stay with the datagram
    /// until it is complete (a reassembled one, or one whose first fragment completed it, goes now).</summary>
    public void EndRelease()
    {
        if (_releaseQueue < 0) return;
        for (int i = 0; i < _releasedCount; i++) FreeSlot(ref _rSlot[_released[i]]);
        if (_releaseFrees) FreeQueue(_releaseQueue);
        _releasedCount = 0;
        _releaseQueue = -1;
    }

    /// <summary>Held frames dropped by the last call (timed out, or discarded with a datagram that was killed).</summary>
    public int DroppedCount => _droppedCount;

    public long DroppedTag(int i, out DropReason reason)
    {
        reason = _droppedReason[i];
        return _droppedTag[i];
    }

    /// <summary>Expires the datagrams whose 30 s have run out by <paramref name="nowNs"/> (their held frames are then
    /// listed as dropped); cheap when none has. Returns how many frames were dropped.</summary>
    public int ExpireDue(long nowNs)
    {
        EndRelease();
        _droppedCount = 0;
        if (nowNs >= NextExpiryNs) ExpireInto(nowNs);
        return _droppedCount;
    }

    /// <summary>
    /// The capture has ended: nothing can complete the datagrams still held, so each is expired now, as its timer
    /// would expire it ipfrag_time after it began. Returns how many frames were dropped (listed as dropped).
    /// </summary>
    public int ExpireAll()
    {
        EndRelease();
        _droppedCount = 0;
        ExpireInto(long.MaxValue);
        return _droppedCount;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    void ExpireInto(long nowNs)
    {
        // Oldest first: timers armed in arrival order run out in that order (a capture clock that runs backwards only
        // delays a younger datagram's expiry until the older one's).
        while (_qOldest >= 0 && _qExpires[_qOldest] <= nowNs) Discard(_qOldest, DropReason.FragReassemblyTimeout);
    }

    FragmentAction Drop(DropReason reason)
    {
        Reason = reason;
        Counters.Count(Verdict.Drop, reason);
        return FragmentAction.Drop;
    }

    /// <summary>inet_frag_kill: the datagram's held frames are dropped with the one that killed it.</summary>
    FragmentAction Kill(int q, DropReason reason)
    {
        Discard(q, reason);
        return Drop(reason);
    }

    void Discard(int q, DropReason reason)
    {
        for (int r = _qHead[q]; r >= 0; r = _rNext[r])
        {
            if (_rSlot[r] < 0) continue;
            _droppedTag[_droppedCount] = _rTag[r];
            _droppedReason[_droppedCount++] = reason;
            Counters.Count(Verdict.Drop, reason);
        }
        FreeQueue(q);
    }

    /// <summary>Counts an absorbed fragment (the caller reports it with verdict <see cref="Verdict.Reassembled"/>).</summary>
    public void CountAbsorbed() => Counters.Count(Verdict.Reassembled, DropReason.None);

    int NewQueue(in FragmentKey key, long nowNs, bool whole)
    {
        int q = _qFree[--_qFreeCount];
        _qKey[q] = key;
        _qExpires[q] = nowNs + FragmentMap.LifetimeNs;
        _qHead[q] = -1;
        _qLen[q] = 0;
        _qMeat[q] = 0;
        _qFlags[q] = (byte)(Live | (whole ? Whole : 0));
        _qNext[q] = -1;
        _qPrev[q] = _qNewest;
        if (_qNewest >= 0) _qNext[_qNewest] = q; else _qOldest = q;
        _qNewest = q;
        _index.TryAdd(key, q);
        return q;
    }

    void FreeQueue(int q)
    {
        for (int r = _qHead[q], next; r >= 0; r = next)
        {
            next = _rNext[r];
            FreeSlot(ref _rSlot[r]);
            _rFree[_rFreeCount++] = r;
        }
        _qHead[q] = -1;
        if (_qPrev[q] >= 0) _qNext[_qPrev[q]] = _qNext[q]; else _qOldest = _qNext[q];
        if (_qNext[q] >= 0) _qPrev[_qNext[q]] = _qPrev[q]; else _qNewest = _qPrev[q];
        _qFlags[q] = 0;
        _index.Remove(_qKey[q]);
        _qFree[_qFreeCount++] = q;
    }

    void FreeSlot(ref int slot)
    {
        if (slot < 0) return;
        _slotFree[_slotFreeCount++] = slot;
        slot = -1;
    }

    /// <summary>
    /// Whether the pipeline answers UDP to <paramref name="dst"/> port 53 itself: <see cref="DnsStage.Matches"/>'s rule
    /// without the port, which a later fragment does not carry (the first fragment's port is checked when it comes).
    /// </summary>
    static bool AnswersDns(MapSet maps, uint dst, byte proto)
    {
        if (proto != IpProto.Udp || maps.Dns is not { } zone || zone.Address != dst || zone.Mode == DnsMode.Proxy) return false;
        if (zone.Mode == DnsMode.Answer) return true;
        ref Lb4Service s = ref maps.Frontend(new Lb4Key(dst, DnsStage.Port, IpProto.Udp));
        return Unsafe.IsNullRef(ref s) || s.Count == 0;
    }
}
