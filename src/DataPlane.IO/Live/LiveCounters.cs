namespace DataPlane.IO.Live;

/// <summary>
/// What the live loop did at the port (the pipeline counts verdicts and drop reasons itself). Frames read are counted
/// by the reader thread alone (plain increments published through <see cref="Volatile"/>); frames written may come
/// from several worker threads and use <see cref="Interlocked"/>. The control thread reads them without locking and
/// may see values a few frames old, never torn ones (aligned 64-bit stores).
/// </summary>
public sealed class LiveCounters
{
    long _gsoFrames, _checksumsCompleted, _framesRead, _bytesRead, _framesWritten, _bytesWritten, _writeErrors, _lastWriteErrno, _allocatedBytes, _queueDrops;

    /// <summary>Frames read from the TAP (what the kernel sent out of the interface).</summary>
    public long FramesRead => Volatile.Read(ref _framesRead);
    public long BytesRead => Volatile.Read(ref _bytesRead);
    /// <summary>Frames written back: forwarded frames and generated ICMP replies.</summary>
    public long FramesWritten => Volatile.Read(ref _framesWritten);
    public long BytesWritten => Volatile.Read(ref _bytesWritten);
    /// <summary>Frames write(2) refused (the kernel's receive path never blocks a TAP writer; this should stay 0).</summary>
    public long WriteErrors => Volatile.Read(ref _writeErrors);
    public int LastWriteErrno => (int)Volatile.Read(ref _lastWriteErrno);
    /// <summary>Managed bytes the packet thread allocated since the loop started, sampled whenever it goes idle.</summary>
    public long AllocatedBytes => Volatile.Read(ref _allocatedBytes);

    internal void Read(int length)
    {
        Volatile.Write(ref _framesRead, _framesRead + 1);
        Volatile.Write(ref _bytesRead, _bytesRead + length);
    }

    internal void Written(int length)
    {
        Interlocked.Increment(ref _framesWritten);
        Interlocked.Add(ref _bytesWritten, length);
    }

    internal void WriteFailed(int errno)
    {
        Interlocked.Increment(ref _writeErrors);
        Volatile.Write(ref _lastWriteErrno, errno);
    }

    /// <summary>Frames the reader could not hand to their worker (its queue full, or larger than a queue slot).</summary>
    public long QueueDrops => Volatile.Read(ref _queueDrops);

    internal void QueueDropped() => Volatile.Write(ref _queueDrops, _queueDrops + 1);

    /// <summary>GSO packets read (offloads on): each carries many TCP segments behind one header.</summary>
    public long GsoFrames => Volatile.Read(ref _gsoFrames);
    /// <summary>Frames read with a partial checksum (offloads on) whose checksum the loop completed in software.</summary>
    public long ChecksumsCompleted => Volatile.Read(ref _checksumsCompleted);

    internal void Offloaded(Tap.VnetFrame kind)
    {
        if (kind == Tap.VnetFrame.Segmented) Volatile.Write(ref _gsoFrames, _gsoFrames + 1);
        else Volatile.Write(ref _checksumsCompleted, _checksumsCompleted + 1);
    }

    internal void Allocated(long bytes) => Volatile.Write(ref _allocatedBytes, bytes);
}
