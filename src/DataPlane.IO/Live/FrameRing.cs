namespace DataPlane.IO.Live;

/// <summary>
/// A single-producer single-consumer queue of frames in preallocated slots: the reader thread hands a worker the frames
/// steered to it, as a NIC hands each CPU its RSS queue. Full means the frame is dropped and counted, as a NIC drops
/// when a queue overflows; nothing waits on the producer side.
/// <para>
/// Concurrency: exactly one producer (the reader) and one consumer (the worker). The producer writes a slot, then
/// publishes it by advancing <c>_tail</c> (Volatile.Write); the consumer reads the slot only after reading that
/// tail, and frees it by advancing <c>_head</c>. No locks; the event only wakes an idle consumer, and the consumer
/// re-checks the tail after resetting it, so no wake-up is lost.
/// </para>
/// </summary>
public sealed class FrameRing : IDisposable
{
    readonly byte[] _slots;
    readonly int[] _lengths;
    readonly int _mask;
    long _head, _tail;
    readonly ManualResetEventSlim _ready = new(false);

    /// <param name="capacity">Slots (a power of two).</param>
    /// <param name="slotSize">Largest frame a slot holds.</param>
    public FrameRing(int capacity, int slotSize)
    {
        if (capacity < 2 || (capacity & (capacity - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(capacity));
        SlotSize = slotSize;
        _slots = GC.AllocateUninitializedArray<byte>(capacity * slotSize);
        _lengths = new int[capacity];
        _mask = capacity - 1;
    }

    public int SlotSize { get; }

    /// <summary>Producer: copies <paramref name="frame"/> in; false when the ring is full or the frame too large.</summary>
    public bool TryEnqueue(ReadOnlySpan<byte> frame)
    {
        long t = _tail;
        if (frame.Length > SlotSize || t - Volatile.Read(ref _head) > _mask) return false;
        int i = (int)(t & _mask);
        frame.CopyTo(_slots.AsSpan(i * SlotSize, SlotSize));
        _lengths[i] = frame.Length;
        Volatile.Write(ref _tail, t + 1);
        if (!_ready.IsSet) _ready.Set();
        return true;
    }

    /// <summary>Consumer: the oldest frame, valid until <see cref="Release"/>; false after waiting <paramref name="timeoutMs"/> idle.</summary>
    public bool TryPeek(out Span<byte> frame, int timeoutMs)
    {
        long h = _head;
        if (Volatile.Read(ref _tail) == h)
        {
            _ready.Wait(timeoutMs);
            _ready.Reset();
            if (Volatile.Read(ref _tail) == h)
            {
                frame = default;
                return false;
            }
        }
        int i = (int)(h & _mask);
        frame = _slots.AsSpan(i * SlotSize, _lengths[i]);
        return true;
    }

    /// <summary>Consumer: frees the slot <see cref="TryPeek"/> returned.</summary>
    public void Release() => Volatile.Write(ref _head, _head + 1);

    public void Dispose() => _ready.Dispose();
}
