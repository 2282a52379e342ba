using System.Diagnostics;
using DataPlane.IO.Tap;
using DataPlane.Maps;
using DataPlane.Pipeline;

namespace DataPlane.IO.Live;

/// <summary>
/// The live loop: one thread reads each frame the kernel sends out of a TAP, runs it through one
/// <see cref="PacketPipeline"/> on the monotonic clock, and writes what the pipeline emits back into the TAP: forwarded
/// frames (translated in place) and generated ICMP replies. Pass, drop and local verdicts are consumed and counted:
/// with one TAP there is no host stack behind this port to hand a passed frame to.
/// <para>
/// Per frame it does one read(2), one pipeline run and at most one write(2), on two buffers allocated once; it
/// allocates nothing (<see cref="LiveCounters.AllocatedBytes"/> shows it). It drains the device until EAGAIN and
/// then polls with a timeout, so a cancellation (Ctrl-C, SIGTERM) is seen within <see cref="PollTimeoutMs"/> when idle
/// and after the current frame when busy.
/// </para>
/// <para>
/// Concurrency: <see cref="Run"/> is the pipeline's owner thread (the only conntrack writer). Other threads may read
/// <see cref="Counters"/>, the pipeline's counters and its conntrack entries through their seqlock snapshots
/// (<see cref="ConntrackMap.TrySnapshot"/>), which never stop this thread.
/// </para>
/// </summary>
public sealed class LiveSession
{
    /// <summary>The longest frame a TAP can hand us: MTU up to 65535 (ETH_MAX_MTU) plus the Ethernet header.</summary>
    public const int FrameBufferSize = 65535 + 14;
    /// <summary>A generated reply: Ethernet + IPv4 + ICMP quoting at most 576 bytes in all (RFC 1812 §4.3.2.3).</summary>
    public const int ReplyBufferSize = 2048;
    /// <summary>How long an idle loop waits before looking at the cancellation token again.</summary>
    public const int PollTimeoutMs = 200;

    readonly TapDevice _tap;
    readonly PacketPipeline _pipeline;
    long _startedTimestamp;

    public LiveSession(TapDevice tap, PacketPipeline pipeline)
    {
        _tap = tap;
        _pipeline = pipeline;
    }

    public TapDevice Tap => _tap;
    public PacketPipeline Pipeline => _pipeline;
    public LiveCounters Counters { get; } = new();

    /// <summary>Time since <see cref="Run"/> started (zero before).</summary>
    public TimeSpan Uptime
    {
        get
        {
            long t = Volatile.Read(ref _startedTimestamp);
            return t == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(t);
        }
    }

    /// <summary>
    /// Runs until <paramref name="stop"/> is cancelled. Throws <see cref="TapException"/> when the device fails or goes
    /// away (deleted, namespace gone): the port's faults end the session, they are not swallowed.
    /// </summary>
    public void Run(CancellationToken stop)
    {
        byte[] frameBuffer = GC.AllocateUninitializedArray<byte>(FrameBufferSize);
        byte[] replyBuffer = new byte[ReplyBufferSize];
        long allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();
        Volatile.Write(ref _startedTimestamp, Stopwatch.GetTimestamp());
        while (!stop.IsCancellationRequested)
        {
            int n = _tap.Read(frameBuffer);
            if (n > 0)
            {
                Handle(frameBuffer.AsSpan(0, n), replyBuffer);
                continue;
            }
            if (n < 0) ThrowReadFault(-n);
            // Drained: a good moment to publish what this thread allocated (one call per idle period, not per frame).
            Counters.Allocated(GC.GetAllocatedBytesForCurrentThread() - allocatedAtStart);
            if (_tap.Poll(PollTimeoutMs) == TapPoll.Gone) ThrowGone();
        }
    }

    void Handle(Span<byte> frame, byte[] replyBuffer)
    {
        Counters.Read(frame.Length);
        Verdict v = _pipeline.Process(frame, LiveClock.NowNs(), replyBuffer, out int outLength);
        if (v == Verdict.Forward) Emit(frame[..outLength]);
        else if (v == Verdict.Reject && outLength > 0) Emit(replyBuffer.AsSpan(0, outLength));
    }

    void Emit(ReadOnlySpan<byte> frame)
    {
        int w = _tap.Write(frame);
        if (w > 0) Counters.Written(w);
        else Counters.WriteFailed(-w);
    }

    void ThrowReadFault(int errno)
    {
        if (errno is Libc.EBADFD or Libc.EBADF or Libc.ENODEV) ThrowGone();
        throw new TapException($"TAP '{_tap.Name}': read: {Libc.Describe(errno)}", errno);
    }

    void ThrowGone() =>
        throw new TapException($"TAP '{_tap.Name}' went away (device deleted or its network namespace removed)", Libc.ENODEV);

    /// <summary>The 'counters' text: port counts, the pipeline's verdicts and drop reasons, conntrack occupancy.</summary>
    public void WriteCounters(TextWriter w)
    {
        LiveCounters c = Counters;
        var pc = _pipeline.Counters;
        w.WriteLine($"tap: {_tap.Name}{(_tap.Namespace is null ? "" : $" (netns {_tap.Namespace})")} uptime={Uptime.TotalSeconds:F1}s");
        w.WriteLine($"frames: read={c.FramesRead} written={c.FramesWritten} write-errors={c.WriteErrors}" +
                    (c.WriteErrors > 0 ? $" (last: {Libc.Describe(c.LastWriteErrno)})" : ""));
        w.WriteLine($"bytes: read={c.BytesRead} written={c.BytesWritten}");
        w.Write("verdicts:");
        foreach (Verdict v in new[] { Verdict.Forward, Verdict.Reject, Verdict.Pass, Verdict.Drop, Verdict.Local })
            w.Write($" {v.Name()}={pc.Verdicts(v)}");
        w.WriteLine();
        var reasons = new List<string>();
        foreach (DropReason r in Enum.GetValues<DropReason>())
            if (r != DropReason.None && pc.Reasons(r) is > 0 and var n) reasons.Add($"{r.Name()}={n}");
        if (reasons.Count > 0) w.WriteLine("drop reasons: " + string.Join(' ', reasons));
        w.WriteLine($"conntrack: {_pipeline.Conntrack.Count} live flows (capacity {_pipeline.Conntrack.Capacity})");
        w.WriteLine($"maps: generation {_pipeline.Maps.Generation}");
        w.WriteLine($"packet thread allocated: {c.AllocatedBytes} bytes since start");
    }
}
