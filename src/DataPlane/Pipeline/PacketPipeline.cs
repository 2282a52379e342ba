using System.Runtime.CompilerServices;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline.Stages;

namespace DataPlane.Pipeline;

/// <summary>
/// The per-packet program for one node, a straight list of stages (katran's process_packet, cilium's bpf_lxc):
/// parse → conntrack → service lookup → backend selection → forward (TTL) → masquerade → conntrack create → NAT, with
/// the rare branches (later fragments, SCTP, ICMP, cluster DNS, the node's own ports, REJECT, foreign protocols, IP options).
/// Every stage is <c>static Verdict Run(ref PacketContext ctx, MapSet maps, WorkerState w)</c>; the runner only
/// chains them, records the stage log when traced, counts, reports and lets the GC take its step. One instance per
/// worker thread, owning its <see cref="WorkerState"/>; it reads the current <see cref="MapSet"/> generation through
/// the holder once per packet and never blocks on the control plane.
/// </summary>
public sealed class PacketPipeline : IDisposable
{
    readonly MapSetHolder _maps;
    readonly WorkerState _w;

    public PacketPipeline(MapSetHolder maps, PipelineOptions? options = null) =>
        (_maps, _w) = (maps, new WorkerState(options ?? new PipelineOptions(), maps.Current.Generation));

    public WorkerState State => _w;
    public ConntrackMap Conntrack => _w.Conntrack;
    public Counters Counters => _w.Counters;
    public PipelineOptions Options => _w.Options;
    public MapSet Maps => _maps.Current;

    /// <summary>When set (trace, replay --explain), each packet's stage outcomes are recorded here; null = untraced.</summary>
    public StageLog? Log { get; set; }

    /// <summary>Runs one frame, rewritten in place: the output is <c>frame[..result.OutLength]</c> on Forward,
    /// <c>reply[..result.OutLength]</c> on Reject and Answer (reply: at least 14 + 4 + 576 bytes). Never throws.
    /// <paramref name="capturedEnd"/>: a replayed record the capture cut short, padded with zeros to its length on the
    /// wire, ends its real bytes there (<see cref="PacketContext.CapturedEnd"/>); 0 for a whole frame.</summary>
    public Verdict Process(Span<byte> frame, long nowNs, Span<byte> reply, out PacketResult result, int capturedEnd = 0)
    {
        var ctx = new PacketContext { Frame = frame, Length = frame.Length, CapturedEnd = capturedEnd, NowNs = nowNs, ReplyBuffer = reply, CtIndex = -1, Log = Log };
        MapSet maps = _maps.Current;
        ctx.Log?.Clear();
        Verdict v = ctx.Log is null ? Run<Untraced>(ref ctx, maps) : Run<Traced>(ref ctx, maps);
        if (v == Verdict.Forward && (ctx.Frame[ctx.L3Offset] & 0x0F) > 5)
        {
            v = ForwardStage.Options(ref ctx, maps, _w);
            // Datagrams with options only, like the verdict record below: the null test never runs on an untraced
            // packet without options.
            if (ctx.Log is not null) Record(ref ctx, PipelineStage.Options, v, maps);
        }
        if (ctx.Log is not null) Record(ref ctx, PipelineStage.Verdict, v, maps);
        _w.Counters.Count(v, ctx.Reason);
        PacketResult.Of(ref ctx, v, _w.Conntrack, out result);
        _w.Collect(nowNs, maps); // after the report, which reads this packet's entry
        return v;
    }

    /// <summary>For callers that only move frames (a live port). The same code as the reporting overload: a separate
    /// report-less copy measured 37 to 65 ns/packet between runs (code layout), the shared one a steady 39-44.</summary>
    public Verdict Process(Span<byte> frame, long nowNs, Span<byte> reply, out int outLength)
    {
        Verdict v = Process(frame, nowNs, reply, out PacketResult r);
        outLength = r.OutLength;
        return v;
    }

    /// <summary>Prefetch hint for a frame about to be processed (<see cref="FramePrefetch"/>), by its key or by the frame.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(in FrameKey key, int step) => FramePrefetch.Warm(in key, step, _maps.Current, _w.Conntrack);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(ReadOnlySpan<byte> frame, int step) => Prefetch(FrameKey.Read(frame), step);

    /// <summary>Checks every connection against the current generation now (see <see cref="WorkerState.ReconcileAll"/>).</summary>
    public int ReconcileAll() => _w.ReconcileAll(_maps.Current);

    // Never inlined into the Process overloads: inlined into the small one it measured 61 ns/packet against 37 ns
    // when called (EstablishedFlowBenchmarks, same run), the merged body spilling the context's fields.
    // Every stage call is followed by its record (or records itself, generic over the sink, where one verdict has
    // several rules behind it): `if (TSink.Enabled)` is a constant per instantiation, so Run<Untraced> has none of it.
    [MethodImpl(MethodImplOptions.NoInlining)]
    Verdict Run<TSink>(ref PacketContext ctx, MapSet maps) where TSink : struct, IStageSink
    {
        WorkerState w = _w;
        Verdict v = ParseStage.Run(ref ctx, maps, w);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.Parse, v, maps);
        if (v != Verdict.Continue)
            return v == Verdict.Drop && ctx.Reason == DropReason.UnsupportedL4 ? Foreign<TSink>(ref ctx, maps, w) : v;
        if (ctx.IsLaterFragment) return Fragment<TSink>(ref ctx, maps, w);
        if (ctx.Proto == IpProto.Sctp) return SctpStage.Run<TSink>(ref ctx, maps, w);
        if (ctx.Proto == IpProto.Icmp) return IcmpErrorStage.Run<TSink>(ref ctx, maps, w);
        v = DnsStage.Run(ref ctx, maps, w);
        // Recorded when the DNS stage took the packet, or when it was for the DNS address and left to kube-proxy.
        if (TSink.Enabled && (v != Verdict.Continue || DnsStage.Addressed(ref ctx, maps)))
            Record(ref ctx, PipelineStage.Dns, v, maps, v == Verdict.Continue ? StageRule.DnsProxied : StageRule.None);
        if (v != Verdict.Continue) return v;

        v = ConntrackStage.Lookup(ref ctx, maps, w);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.Conntrack, v, maps);
        if (v == Verdict.Forward) return Tracked<TSink>(ref ctx, maps, w);
        if (v != Verdict.Continue) return v; // INVALID, or a direct flow's packet passed untranslated

        v = ServiceLookupStage.Run(ref ctx, maps, w);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.ServiceLookup, v, maps);
        if (v != Verdict.Continue) return v == Verdict.Pass ? Untracked<TSink>(ref ctx, maps, w) : v;
        v = BackendSelectStage.Run(ref ctx, maps, w);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.BackendSelect, v, maps);
        if (v == Verdict.Reject) return Reject<TSink>(ref ctx, maps, w);
        if (v != Verdict.Continue) return v;
        v = ForwardStage.Run(ref ctx, maps, w);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.Ttl, v, maps);
        if (v != Verdict.Continue) return v;
        MasqueradeStage.Run(ref ctx, maps, w);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.Masquerade, Verdict.Continue, maps);
        v = ConntrackStage.Create(ref ctx, maps, w);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.ConntrackCreate, v, maps);
        if (v != Verdict.Continue) return v;
        return Tracked<TSink>(ref ctx, maps, w);
    }

    Verdict Tracked<TSink>(ref PacketContext ctx, MapSet maps, WorkerState w) where TSink : struct, IStageSink
    {
        Verdict v = ForwardStage.Tracked(ref ctx, maps, w);
        // A new connection's first packet passed the same rule before its entry was made: recorded there, once.
        if (TSink.Enabled && (!ctx.NewFlow || v != Verdict.Continue)) Record(ref ctx, PipelineStage.Ttl, v, maps);
        if (v != Verdict.Continue) return v;
        v = NatStage.Run(ref ctx, maps, w);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.Nat, v, maps);
        return v;
    }

    /// <summary>
    /// No service: a direct flow that can share a reply tuple with a service connection is tracked (and its source
    /// port moved when a service connection holds that tuple already); the rest goes to the node's own stack rules.
    /// </summary>
    Verdict Untracked<TSink>(ref PacketContext ctx, MapSet maps, WorkerState w) where TSink : struct, IStageSink
    {
        Verdict v = ConntrackStage.Direct(ref ctx, maps, w);
        if (v == Verdict.Continue) return HostPortStage.Run<TSink>(ref ctx, maps, w);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.ConntrackCreate, v == Verdict.Forward ? Verdict.Continue : v, maps);
        return v == Verdict.Forward ? Tracked<TSink>(ref ctx, maps, w) : v;
    }

    // The rare stages, each with its record. Inlined: the untraced copy is the bare stage call it was before.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    Verdict Foreign<TSink>(ref PacketContext ctx, MapSet maps, WorkerState w) where TSink : struct, IStageSink
    {
        Verdict v = ForeignProtocolStage.Run(ref ctx, maps, w);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.ForeignProtocol, v, maps);
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    Verdict Fragment<TSink>(ref PacketContext ctx, MapSet maps, WorkerState w) where TSink : struct, IStageSink
    {
        Verdict v = FragmentStage.Run(ref ctx, maps, w);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.Fragment, v, maps);
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    Verdict Reject<TSink>(ref PacketContext ctx, MapSet maps, WorkerState w) where TSink : struct, IStageSink
    {
        Verdict v = RejectStage.Run(ref ctx, maps, w);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.Reject, v, maps);
        return v;
    }

    /// <summary>Tracing only (<see cref="Traced"/> instantiation, or <c>ctx.Log</c> set): the stage log entry for what a stage just did.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    void Record(ref PacketContext ctx, PipelineStage stage, Verdict v, MapSet maps, StageRule rule = StageRule.None) =>
        ctx.Log!.Add(stage, v, ref ctx, maps, _w.Conntrack, rule);

    /// <summary>Releases the conntrack table's native memory (a <see cref="WorkerSet"/> does it for its workers). Idempotent.</summary>
    public void Dispose() => _w.Dispose();
}
