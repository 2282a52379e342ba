using System.Diagnostics;
using DataPlane.IO.Tap;
using DataPlane.Maps;
using DataPlane.Pipeline;

namespace DataPlane.IO.Live;

/// <summary>
/// The live loop: one thread reads each frame the kernel sends out of a TAP, runs it through its worker's
/// <see cref="PacketPipeline"/> (a <see cref="WorkerSet"/>, as a replay uses) on the monotonic clock, and writes what
/// the pipeline emits back into the TAP: forwarded frames (translated in place) and generated ICMP replies. Pass, drop
/// and local verdicts are consumed and counted: with one TAP there is no host stack behind this port to hand a passed
/// frame to (unless the TAP's namespace routes, see the constructor's forwardPassed).
/// <para>
/// Fragments pass the node's fragment hold first (<see cref="FragmentHold"/>, nf_defrag): a fragment held for its
/// first fragment is run, and written, right after that first fragment.
/// Per frame it does one read(2), one pipeline run and at most one write(2), on two buffers allocated once; it
/// allocates nothing (<see cref="LiveCounters.AllocatedBytes"/> shows it). It drains the device until EAGAIN and
/// then polls with a timeout, so a cancellation (Ctrl-C, SIGTERM) is seen within <see cref="PollTimeoutMs"/> when idle
/// and after the current frame when busy.
/// </para>
/// <para>
/// Concurrency: with one worker, <see cref="Run"/>'s thread is the pipeline's owner (the only conntrack writer); with
/// several, each worker's thread owns its pipeline. Other threads may read <see cref="Counters"/>, the pipelines'
/// counters and their conntrack entries through their seqlock snapshots (<see cref="ConntrackMap.TrySnapshot"/>),
/// which never stop a packet thread. The session does not own the workers: their owner disposes them after
/// <see cref="Run"/> has returned and the control socket is closed.
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

    /// <summary>Frames each worker's queue holds (with several workers).</summary>
    public const int QueueFrames = 1024;
    /// <summary>Largest frame a worker queue slot holds: a 9000-byte jumbo MTU plus Ethernet; larger ones are dropped.</summary>
    public const int QueueSlotSize = 9216;

    readonly TapDevice _tap;
    readonly WorkerSet _workers;
    readonly bool _forwardPassed; // write passed frames back: the TAP's namespace routes them on (the lab's node)
    long _startedTimestamp;

    /// <summary>
    /// With several <paramref name="workers"/>, the reading thread only steers: each frame goes to its connection's
    /// worker (<see cref="WorkerSet.WorkerFor"/>), which owns that connection's conntrack entry, runs the pipeline and
    /// writes the result back to the TAP.
    /// </summary>
    /// <param name="forwardPassed">
    /// Write frames the pipeline passes (no Service involved: pod to pod, ICMP) back into the TAP untranslated, for a
    /// TAP whose namespace is a router that delivers them on, as <c>dataplane lab</c>'s node namespace is: there the
    /// kernel behind the TAP is the node's host stack. Off by default: with one namespace as client and backend a passed
    /// frame has nowhere else to go.
    /// </param>
    public LiveSession(TapDevice tap, WorkerSet workers, bool forwardPassed = false)
    {
        ArgumentNullException.ThrowIfNull(tap);
        ArgumentNullException.ThrowIfNull(workers);
        // The worker queues hold frames of up to QueueSlotSize bytes and no vnet header: a GSO packet would not fit.
        if (tap.Offload && workers.Count > 1)
            throw new ArgumentException("a TAP with offloads (vnet header) is served by one worker", nameof(tap));
        _tap = tap;
        _workers = workers;
        _forwardPassed = forwardPassed;
    }

    public TapDevice Tap => _tap;
    public WorkerSet Workers => _workers;
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
        if (_workers.Count > 1)
        {
            RunWorkers(stop);
            return;
        }
        // With offloads each read starts with the frame's vnet header: the frame follows it in the same buffer.
        int headerSize = _tap.Offload ? VnetHeader.Size : 0;
        byte[] frameBuffer = GC.AllocateUninitializedArray<byte>(headerSize + FrameBufferSize);
        byte[] replyBuffer = new byte[ReplyBufferSize];
        long allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();
        Volatile.Write(ref _startedTimestamp, Stopwatch.GetTimestamp());
        while (!stop.IsCancellationRequested)
        {
            int n = _tap.Read(frameBuffer);
            if (n > headerSize)
            {
                Span<byte> header = frameBuffer.AsSpan(0, headerSize);
                Span<byte> frame = frameBuffer.AsSpan(headerSize, n - headerSize);
                VnetFrame kind = headerSize == 0 ? VnetFrame.Plain : VnetHeader.Prepare(header, frame);
                if (kind != VnetFrame.Plain) Counters.Offloaded(kind);
                Handle(header, kind, frame, replyBuffer);
                continue;
            }
            if (n > 0) continue; // a vnet header and no frame: nothing the kernel sends, nothing to do
            if (n < 0) ThrowReadFault(-n);
            // Drained: a good moment to publish what this thread allocated (one call per idle period, not per frame),
            // and to let held fragments whose 30 s have run out go.
            Counters.Allocated(GC.GetAllocatedBytesForCurrentThread() - allocatedAtStart);
            _workers.Defrag.ExpireDue(LiveClock.NowNs());
            if (_tap.Poll(PollTimeoutMs) == TapPoll.Gone) ThrowGone();
        }
    }

    void Handle(Span<byte> header, VnetFrame kind, Span<byte> frame, byte[] replyBuffer)
    {
        Counters.Read(frame.Length);
        // Fragments meet the node's fragment hold first (nf_defrag in front of conntrack); a cheap test keeps every
        // other frame on the path it always took.
        if (FragmentHold.MaybeFragment(frame)) Defrag(frame, replyBuffer);
        else Process(_workers[0], header, kind, frame, replyBuffer);
    }

    /// <summary>One worker: a fragment through the hold, then whatever it lets run, in order, on this thread.</summary>
    void Defrag(Span<byte> frame, byte[] replyBuffer)
    {
        FragmentHold hold = _workers.Defrag;
        PacketPipeline pipeline = _workers[0];
        switch (hold.Offer(frame, FrameKey.Read(frame), LiveClock.NowNs(), 0, _workers.Maps))
        {
            case FragmentAction.Process:
                Process(pipeline, PlainHeader, VnetFrame.Plain, frame, replyBuffer);
                break;
            case FragmentAction.Release:
                Process(pipeline, PlainHeader, VnetFrame.Plain, frame, replyBuffer);
                for (int r = 0; r < hold.ReleasedCount; r++) Process(pipeline, PlainHeader, VnetFrame.Plain, hold.Released(r, out _), replyBuffer);
                hold.EndRelease();
                break;
            case FragmentAction.Reassemble:
                Process(pipeline, PlainHeader, VnetFrame.Plain, hold.Reassembled, replyBuffer);
                for (int r = 0; r < hold.ReleasedCount; r++) hold.CountAbsorbed();
                hold.EndRelease();
                break;
        }
    }

    /// <summary>
    /// One frame through the pipeline and out. <paramref name="header"/> is the frame's vnet header (offloads on; empty
    /// otherwise): a translated or passed frame goes back behind it, so a GSO packet stays one; a frame the data plane
    /// makes (ICMP error, reset, DNS answer) and a fragment from the hold go behind a header that asks for nothing.
    /// </summary>
    void Process(PacketPipeline pipeline, ReadOnlySpan<byte> header, VnetFrame kind, Span<byte> frame, byte[] replyBuffer)
    {
        Verdict v = pipeline.Process(frame, LiveClock.NowNs(), replyBuffer, out int outLength);
        if (v == Verdict.Forward || (v == Verdict.Pass && _forwardPassed))
        {
            Span<byte> output = v == Verdict.Forward ? frame[..outLength] : frame;
            if (kind == VnetFrame.Segmented) VnetHeader.Finish(header, output);
            Emit(header, output);
        }
        else if (v is Verdict.Reject or Verdict.Answer && outLength > 0) Emit(PlainHeader, replyBuffer.AsSpan(0, outLength));
    }

    /// <summary>The vnet header of a frame with nothing to offload (all zero); empty when offloads are off.</summary>
    ReadOnlySpan<byte> PlainHeader => _tap.Offload ? s_plainVnetHeader : [];

    static readonly byte[] s_plainVnetHeader = new byte[VnetHeader.Size];

    /// <summary>
    /// Several workers: this thread reads and steers, each worker thread drains its own queue. A worker writes its
    /// output to the TAP itself (one write(2) is one frame, whichever thread makes it). When this thread stops or the
    /// device fails, the workers finish the frames already queued and are joined before returning.
    /// </summary>
    void RunWorkers(CancellationToken stop)
    {
        var rings = new FrameRing[_workers.Count];
        for (int i = 0; i < rings.Length; i++) rings[i] = new FrameRing(QueueFrames, QueueSlotSize);
        using var done = new CancellationTokenSource();
        var threads = new Thread[_workers.Count];
        for (int i = 0; i < threads.Length; i++)
        {
            int wi = i;
            threads[i] = new Thread(() => WorkerLoop(_workers[wi], rings[wi], done.Token)) { IsBackground = true, Name = $"dataplane worker {wi}" };
            threads[i].Start();
        }
        try
        {
            byte[] frameBuffer = GC.AllocateUninitializedArray<byte>(FrameBufferSize);
            Volatile.Write(ref _startedTimestamp, Stopwatch.GetTimestamp());
            while (!stop.IsCancellationRequested)
            {
                int n = _tap.Read(frameBuffer);
                if (n > 0)
                {
                    Counters.Read(n);
                    Span<byte> frame = frameBuffer.AsSpan(0, n);
                    if (FragmentHold.MaybeFragment(frame)) Defrag(frame, rings);
                    else Enqueue(frame, rings);
                    continue;
                }
                if (n < 0) ThrowReadFault(-n);
                _workers.Defrag.ExpireDue(LiveClock.NowNs());
                if (_tap.Poll(PollTimeoutMs) == TapPoll.Gone) ThrowGone();
            }
        }
        finally
        {
            done.Cancel();
            foreach (Thread t in threads) t.Join();
            foreach (FrameRing r in rings) r.Dispose();
        }
    }

    void Enqueue(Span<byte> frame, FrameRing[] rings)
    {
        if (!rings[_workers.WorkerFor(frame)].TryEnqueue(frame)) Counters.QueueDropped();
    }

    /// <summary>Several workers: a fragment through the hold on the reading thread, then whatever it lets run, queued
    /// in order (released fragments follow their first fragment to its worker, <see cref="FlowSteering"/>).</summary>
    void Defrag(Span<byte> frame, FrameRing[] rings)
    {
        FragmentHold hold = _workers.Defrag;
        switch (hold.Offer(frame, FrameKey.Read(frame), LiveClock.NowNs(), 0, _workers.Maps))
        {
            case FragmentAction.Process:
                Enqueue(frame, rings);
                break;
            case FragmentAction.Release:
                Enqueue(frame, rings);
                for (int r = 0; r < hold.ReleasedCount; r++) Enqueue(hold.Released(r, out _), rings);
                hold.EndRelease();
                break;
            case FragmentAction.Reassemble:
                Enqueue(hold.Reassembled, rings);
                for (int r = 0; r < hold.ReleasedCount; r++) hold.CountAbsorbed();
                hold.EndRelease();
                break;
        }
    }

    void WorkerLoop(PacketPipeline pipeline, FrameRing ring, CancellationToken done)
    {
        byte[] replyBuffer = new byte[ReplyBufferSize];
        while (true)
        {
            if (ring.TryPeek(out Span<byte> frame, PollTimeoutMs))
            {
                Process(pipeline, [], VnetFrame.Plain, frame, replyBuffer);
                ring.Release();
            }
            else if (done.IsCancellationRequested) return;
        }
    }

    void Emit(ReadOnlySpan<byte> header, ReadOnlySpan<byte> frame)
    {
        int w = header.IsEmpty ? _tap.Write(frame) : _tap.Write(header, frame);
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
        // Each worker's verdicts and reasons as of one of its packet boundaries, so every line below agrees with the
        // others (the drop total is the sum of the drop reasons) however fast traffic flows.
        var totalVerdicts = new long[global::DataPlane.Pipeline.Counters.VerdictSlots];
        var totalReasons = new long[global::DataPlane.Pipeline.Counters.ReasonSlots];
        _workers.SumCounters(totalVerdicts, totalReasons);
        w.WriteLine($"tap: {_tap.Name}{(_tap.Namespace is null ? "" : $" (netns {_tap.Namespace})")} uptime={Uptime.TotalSeconds:F1}s");
        w.WriteLine($"frames: read={c.FramesRead} written={c.FramesWritten} write-errors={c.WriteErrors}" +
                    (c.WriteErrors > 0 ? $" (last: {Libc.Describe(c.LastWriteErrno)})" : ""));
        w.WriteLine($"bytes: read={c.BytesRead} written={c.BytesWritten}");
        if (_tap.Offload) w.WriteLine($"offload: vnet-hdr tso gso-frames={c.GsoFrames} checksums-completed={c.ChecksumsCompleted}");
        if (_workers.Count > 1) w.WriteLine($"workers: {_workers.Count} queue-drops={c.QueueDrops}");
        w.Write("verdicts:");
        foreach (Verdict v in new[] { Verdict.Forward, Verdict.Reject, Verdict.Pass, Verdict.Drop, Verdict.Local, Verdict.Answer, Verdict.Reassembled })
            w.Write($" {v.Name()}={totalVerdicts[(int)v]}");
        w.WriteLine();
        var reasons = new List<string>();
        foreach (DropReason r in Enum.GetValues<DropReason>())
            if (r != DropReason.None && totalReasons[(int)r & 63] is > 0 and var n) reasons.Add($"{r.Name()}={n}");
        if (reasons.Count > 0) w.WriteLine("drop reasons: " + string.Join(' ', reasons));
        long now = LiveClock.NowNs();
        w.WriteLine($"conntrack: {_workers.Pipelines.Sum(p => Text.ConntrackListing.LiveCount(p.Conntrack, now))} live flows (capacity {_workers.Pipelines.Sum(p => p.Conntrack.Capacity)})");
        w.WriteLine($"maps: generation {_workers.Maps.Generation}");
        w.WriteLine($"packet thread allocated: {c.AllocatedBytes} bytes since start");
    }
}
