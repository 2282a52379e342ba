using System.Runtime.CompilerServices;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline.Stages;

namespace DataPlane.Pipeline;

/// <summary>
/// The per-packet program for one node: parse → conntrack → service lookup → backend selection → masquerade decision →
/// conntrack create (DNAT/SNAT binding) → translate → emit. A straight sequence of static stage calls, each returning a
/// <see cref="Verdict"/>, the way an eBPF program chains its helpers.
/// <para>
/// Ownership: one instance per worker thread. It owns its conntrack table, counters and random generator; it reads the
/// current <see cref="MapSet"/> generation through the holder once per packet and never blocks on the control plane.
/// </para>
/// </summary>
public sealed partial class PacketPipeline : IDisposable
{
    readonly MapSetHolder _maps;
    readonly PipelineOptions _options;
    readonly CtTimeouts _timeouts;
    DeterministicRandom _rng;
    ushort _icmpId;
    uint _packets;

    public PacketPipeline(MapSetHolder maps, PipelineOptions? options = null)
    {
        _maps = maps;
        _options = options ?? new PipelineOptions();
        _timeouts = new CtTimeouts(_options);
        _rng = new DeterministicRandom(_options.Seed);
        _icmpId = (ushort)_rng.NextU64();
        Conntrack = new ConntrackMap(_options.CtCapacity);
        Conntrack.SetFlowIds((uint)_options.WorkerIndex + 1, (uint)_options.WorkerCount);
        Fragments = new FragmentMap(_options.FragmentCapacity);
        Affinity = new AffinityMap(Math.Max(_options.CtCapacity / 4, 16));
        _reconciledGeneration = _sweepGeneration = maps.Current.Generation;
    }

    /// <summary>Datagrams whose first fragment was forwarded: their later fragments follow its translation.</summary>
    public FragmentMap Fragments { get; }

    /// <summary>sessionAffinity ClientIP memory (client, service port) -> backend; survives generations like conntrack.</summary>
    public AffinityMap Affinity { get; }

    public ConntrackMap Conntrack { get; }
    public Counters Counters { get; } = new();
    public PipelineOptions Options => _options;
    public MapSet Maps => _maps.Current;

    /// <summary>Releases the conntrack table's native memory (a <see cref="WorkerSet"/> does it for its workers). Idempotent.</summary>
    public void Dispose() => Conntrack.Dispose();

    /// <summary>When set (trace, replay --explain), each packet's stage outcomes are recorded here; null = untraced.</summary>
    public StageLog? Log { get; set; }

    /// <summary>
    /// Runs one frame. The frame is rewritten in place; on <see cref="Verdict.Forward"/> the output is
    /// <c>frame[..result.OutLength]</c>, on <see cref="Verdict.Reject"/> it is <c>reply[..result.OutLength]</c>
    /// (reply must hold at least 14 + 4 + 576 bytes). Never throws for any frame content.
    /// </summary>
    public Verdict Process(Span<byte> frame, long nowNs, Span<byte> reply, out PacketResult result)
    {
        var ctx = new PacketContext { Frame = frame, Length = frame.Length, NowNs = nowNs, ReplyBuffer = reply, CtIndex = -1, Log = Log };
        MapSet maps = _maps.Current;
        ctx.Log?.Clear();
        Verdict v = ctx.Log is null ? Run<Untraced>(ref ctx, maps) : Run<Traced>(ref ctx, maps);
        if (v == Verdict.Forward && (ctx.Frame[ctx.L3Offset] & 0x0F) > 5) v = ForwardOptions(ref ctx, maps);
        if (ctx.Log is not null) Record(ref ctx, PipelineStage.Verdict, v, maps);
        Counters.Count(v, ctx.Reason);
        Report(ref ctx, v, maps, out result);
        Collect(nowNs, maps); // after the report, which reads this packet's entry
        return v;
    }

    /// <summary>
    /// Prefetch hint for a frame about to be processed (call with distance, e.g. step 1 for frame i + 8 and step 2 for
    /// frame i + 4 while processing frame i): reads the addresses and ports at their fixed offsets and warms the
    /// conntrack index slot and the frontend's service-map slot (step 1) or the conntrack entry (step 2). Frames that are not plain IPv4 TCP/UDP are
    /// ignored; nothing is validated or changed, the real parse happens in <see cref="Process(Span{byte}, long, Span{byte}, out PacketResult)"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(ReadOnlySpan<byte> frame, int step)
    {
        if (frame.Length < 14 + 20 + 4 || frame[12] != 0x08 || frame[13] != 0x00 || frame[14] != 0x45) return;
        byte proto = frame[14 + 9];
        if (proto != IpProto.Tcp && proto != IpProto.Udp) return;
        uint dst = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(frame[(14 + 16)..]);
        ushort dport = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(frame[36..]);
        // Tables that fit the caches gain nothing and would pay for the hint: only the large ones are prefetched.
        if (step == 1)
        {
            MapSet maps = _maps.Current;
            if (maps.Services.Capacity >= 1 << 12) maps.Services.Prefetch(new Lb4Key(dst, dport, proto)); // a new flow's frontend
        }
        if (Conntrack.Capacity < 1 << 16) return;
        var t = new CtTuple4(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(frame[(14 + 12)..]),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(frame[34..]), dst, dport, proto);
        if (step == 1) Conntrack.PrefetchSlot(t); else Conntrack.PrefetchEntry(t);
    }

    /// <summary>
    /// For callers that only move frames (a live port): the output is <c>frame[..outLength]</c> on Forward and
    /// <c>reply[..outLength]</c> on Reject. It runs the same code as the reporting overload: a separate report-less
    /// copy measured anywhere from 37 to 65 ns/packet between runs (code layout), the shared one a steady 39-44.
    /// </summary>
    public Verdict Process(Span<byte> frame, long nowNs, Span<byte> reply, out int outLength)
    {
        Verdict v = Process(frame, nowNs, reply, out PacketResult r);
        outLength = r.OutLength;
        return v;
    }

    // Never inlined into the Process overloads: inlined into the small one it measured 61 ns/packet against 37 ns
    // when called (EstablishedFlowBenchmarks, same run), the merged body spilling the context's fields.
    [MethodImpl(MethodImplOptions.NoInlining)]
    Verdict Run<TSink>(ref PacketContext ctx, MapSet maps) where TSink : struct, IStageSink
    {
        Verdict v = ParseStage.Run(ref ctx);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.Parse, v, maps);
        if (v != Verdict.Continue)
            return v == Verdict.Drop && ctx.Reason == DropReason.UnsupportedL4 ? ForeignProtocol(ref ctx, maps) : v;
        if (ctx.IsLaterFragment) return FragmentStage.Later(ref ctx, maps, Conntrack, Fragments);
        if (ctx.Proto == IpProto.Sctp) return RunSctp(ref ctx, maps);
        // ICMP: errors about a tracked connection are translated with it; echo to a service IP is not load-balanced (a
        // ClusterIP cannot be pinged) and goes to the host stack untouched, as kube-proxy leaves it.
        if (ctx.Proto == IpProto.Icmp)
            return ctx.IcmpType is L4.IcmpDestUnreachable or L4.IcmpTimeExceeded ? IcmpErrorStage.Run(ref ctx, Conntrack, Fragments) : Verdict.Pass;
        // Cluster DNS answered here (when the zone's mode says so), before kube-proxy's DNAT would send it to CoreDNS.
        if (maps.Dns is { } dns && DnsStage.Matches(ref ctx, dns, maps)) return DnsStage.Run(ref ctx, dns);

        v = ConntrackStage.Lookup(ref ctx, Conntrack, maps);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.Conntrack, v, maps);
        if (v == Verdict.Forward) return ForwardTracked<TSink>(ref ctx, maps);
        if (v == Verdict.Drop) return v;

        v = ServiceLookupStage.Run(ref ctx, maps);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.ServiceLookup, v, maps);
        if (v != Verdict.Continue) return v == Verdict.Pass ? HostPortStage.Run(ref ctx, maps, _options.HostPorts, ref _icmpId) : v;
        v = BackendSelectStage.Run(ref ctx, maps, Affinity, ref _rng);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.BackendSelect, v, maps);
        if (v == Verdict.Reject) return NoEndpoints(ref ctx, maps);
        if (v != Verdict.Continue) return v;
        // ip_forward's TTL check runs after PREROUTING's DNAT: the error is NATed back to come from the frontend.
        if ((v = ForwardStage.Ttl(ref ctx, ctx.DstIp, ref _icmpId)) != Verdict.Continue) return v;
        MasqueradeStage.Decide(ref ctx, maps);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.Masquerade, Verdict.Continue, maps);
        v = ConntrackStage.Create(ref ctx, maps, Conntrack, _options, ref _rng);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.ConntrackCreate, v, maps);
        if (v != Verdict.Continue) return v;
        if ((ctx.Service.Flags & ServiceFlags.Affinity) != 0)
        {
            ref readonly Lb4Backend b = ref maps.Backend(ctx.BackendId);
            Affinity.Record(ctx.SrcIp, ctx.Service.RevNatIndex, b.Address, b.Port, ctx.NowNs);
        }
        return ForwardTracked<TSink>(ref ctx, maps);
    }

    /// <summary>
    /// A tracked packet that may not be forwarded: the error comes from the frontend (the original destination) for the
    /// client's direction, from the interface towards the backend for a reply.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    Verdict TtlExpired(ref PacketContext ctx, MapSet maps, in CtEntry e) =>
        ForwardStage.Ttl(ref ctx, ctx.Direction == CtDirection.Original ? e.Original.DstIp : ForwardStage.InterfaceToward(maps.Node, ctx.SrcIp), ref _icmpId);

    /// <summary>
    /// A service without endpoints: to a node address the datagram is delivered locally (INPUT) and REJECTed whatever
    /// its TTL; otherwise it is forwarded, and ip_forward's TTL check comes before the FORWARD hook's REJECT, answering
    /// from the interface towards the sender (no NAT was applied).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    Verdict NoEndpoints(ref PacketContext ctx, MapSet maps)
    {
        if (!maps.Node.IsNodeAddress(ctx.DstIp))
        {
            Verdict v = ForwardStage.Ttl(ref ctx, ForwardStage.InterfaceToward(maps.Node, ctx.SrcIp), ref _icmpId);
            if (v != Verdict.Continue) return v;
        }
        return RejectStage.Run(ref ctx, maps, ref _icmpId);
    }

    Verdict ForwardTracked<TSink>(ref PacketContext ctx, MapSet maps) where TSink : struct, IStageSink
    {
        ref CtEntry e = ref Conntrack[ctx.CtIndex];
        if (ForwardStage.Expires(ref ctx)) return TtlExpired(ref ctx, maps, in e);
        if (ctx.IsFirstFragment)
            Fragments.Remember(FragmentStage.KeyOf(ref ctx), ctx.CtIndex, e.FlowId, ctx.Direction, ctx.NowNs);
        ConntrackStage.Update(ref ctx, ref e, in _timeouts);
        NatStage.Translate(ref ctx, in e, ctx.Direction);
        if (TSink.Enabled) Record(ref ctx, PipelineStage.Nat, Verdict.Forward, maps);
        return Verdict.Forward;
    }

    /// <summary>Tracing only (<see cref="Traced"/> instantiation, or <c>ctx.Log</c> set): the stage log entry for what a stage just did.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    void Record(ref PacketContext ctx, PipelineStage stage, Verdict v, MapSet maps) => ctx.Log!.Add(stage, v, ref ctx, maps, Conntrack);

    /// <summary>
    /// An L4 protocol we do not translate (GRE, IGMP, ESP...): dropped when it is addressed to a service frontend,
    /// which cannot serve it (cilium DROP_UNKNOWN_L4 / DROP_UNSUPP_SERVICE_PROTO), otherwise not ours and passed to the
    /// host stack untouched, as the kernel routes it past kube-proxy's rules.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static Verdict ForeignProtocol(ref PacketContext ctx, MapSet maps)
    {
        if (!Unsafe.IsNullRef(ref maps.FrontendAddresses.Lookup(new Ip4Key(ctx.DstIp)))) return Verdict.Drop;
        ctx.Reason = DropReason.None;
        return Verdict.Pass;
    }

    /// <summary>
    /// The incremental GC, run every 16th packet over 16 packets' worth of slots (one call, one loop); after a new map
    /// generation, also the sweep that removes UDP connections to endpoints that stopped serving.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void Collect(long nowNs, MapSet maps)
    {
        if ((++_packets & 15) != 0) return;
        Conntrack.Collect(nowNs, 16 * _options.GcSlotsPerPacket);
        if (maps.Generation != _reconciledGeneration) Reconcile(maps, 16 * _options.GcSlotsPerPacket);
    }

    long _reconciledGeneration; // the generation every entry has been checked against
    long _sweepGeneration;      // the generation the current sweep checks against
    int _sweepCursor, _sweepLeft;

    /// <summary>
    /// kube-proxy runs its UDP conntrack cleanup after every sync (CleanStaleEntries); here the worker that owns the
    /// table does it, <paramref name="budget"/> slots at a time, so a new generation never stalls the packet path.
    /// Packets of a connection the sweep has not reached yet are checked on lookup (<see cref="ConntrackStage.Lookup"/>),
    /// so no datagram is sent to a removed backend in between. Returns how many connections were removed.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    int Reconcile(MapSet maps, int budget)
    {
        if (_sweepGeneration != maps.Generation)
        {
            _sweepGeneration = maps.Generation;
            _sweepLeft = Conntrack.Capacity;
        }
        int removed = 0;
        for (; budget > 0 && _sweepLeft > 0; budget--, _sweepLeft--)
        {
            int i = _sweepCursor;
            _sweepCursor = (i + 1) & (Conntrack.Capacity - 1);
            ref CtEntry e = ref Conntrack[i];
            if ((e.Flags & CtFlags.Live) != 0 && e.Generation != (ushort)maps.Generation && ConntrackStage.BackendGone(ref e, maps))
            {
                Conntrack.Delete(i);
                removed++;
            }
        }
        if (_sweepLeft == 0) _reconciledGeneration = maps.Generation;
        return removed;
    }

    /// <summary>
    /// Checks every connection against the current generation now (the replay calls it right after publishing an
    /// update, where kube-proxy would run its cleanup); returns how many UDP connections were removed.
    /// </summary>
    public int ReconcileAll()
    {
        MapSet maps = _maps.Current;
        _sweepGeneration = 0;
        return Reconcile(maps, int.MaxValue);
    }

    void Report(ref PacketContext ctx, Verdict v, MapSet maps, out PacketResult r)
    {
        r = default;
        r.Verdict = v;
        r.Reason = ctx.Reason;
        r.Proto = ctx.Proto;
        r.NewFlow = ctx.NewFlow;
        r.Masqueraded = ctx.Masquerade;
        if (ctx.Service.RevNatIndex != 0)
        {
            r.HasFrontend = true;
            r.SlotOffset = ctx.Service.SlotOffset;
            r.SlotCount = ctx.Service.Count;
            r.Scope = ctx.Scope;
            r.ServiceFlags = ctx.Service.Flags;
        }
        if (ctx.L4Parsed)
        {
            // In* are the frame as it arrived: for forwarded frames they were captured before translation via the entry.
            r.HasTuple = true;
            r.InSrcIp = ctx.SrcIp; r.InDstIp = ctx.DstIp; r.InSrcPort = ctx.SrcPort; r.InDstPort = ctx.DstPort;
        }
        if (v == Verdict.Forward)
        {
            r.HasTuple = true;
            ref CtEntry e = ref Conntrack[ctx.CtIndex];
            if (ctx.Proto != IpProto.Icmp)
            {
                ref readonly CtTuple4 inTuple = ref ctx.Direction == CtDirection.Original ? ref e.Original : ref e.Reply;
                r.InSrcIp = inTuple.SrcIp; r.InDstIp = inTuple.DstIp; r.InSrcPort = inTuple.SrcPort; r.InDstPort = inTuple.DstPort;
            }
            else
            {
                r.InSrcIp = ctx.ArrivedSrcIp; r.InDstIp = ctx.ArrivedDstIp;
            }
            r.HasOut = true;
            r.OutSrcIp = ctx.SrcIp; r.OutDstIp = ctx.DstIp; r.OutSrcPort = ctx.SrcPort; r.OutDstPort = ctx.DstPort;
            r.OutLength = ctx.Length;
            r.FlowId = e.FlowId;
            r.Direction = ctx.Direction;
            r.RevNatIndex = e.RevNatIndex;
            r.BackendId = e.BackendId;
            r.Masqueraded = (e.Flags & CtFlags.Snat) != 0;
            // The reply tuple's source is the backend; backend ids are per generation, the tuple is not.
            r.Backend = new Lb4Backend { Address = e.Reply.SrcIp, Port = e.Reply.SrcPort, Proto = e.Reply.Proto };
        }
        else if (v is Verdict.Reject or Verdict.Answer)
        {
            r.RevNatIndex = ctx.Service.RevNatIndex;
            r.HasOut = ctx.ReplyLength > 0;
            r.OutLength = ctx.ReplyLength;
            if (r.HasOut)
            {
                var ip = new Ipv4Header(ctx.ReplyBuffer.Slice(ctx.L3Offset));
                r.OutSrcIp = ip.Src;
                r.OutDstIp = ip.Dst;
                r.OutProto = ip.Protocol; // ICMP, TCP for the node's own reset, UDP or TCP for a DNS answer
                if (r.OutProto is IpProto.Tcp or IpProto.Udp)
                {
                    r.OutSrcPort = L4.ReadU16(ctx.ReplyBuffer.Slice(ctx.L3Offset + Ipv4Header.MinLength), L4.SrcPortOffset);
                    r.OutDstPort = L4.ReadU16(ctx.ReplyBuffer.Slice(ctx.L3Offset + Ipv4Header.MinLength), L4.DstPortOffset);
                }
            }
        }
        else if (ctx.Service.RevNatIndex != 0)
        {
            r.RevNatIndex = ctx.Service.RevNatIndex;
        }
        if (v == Verdict.Forward && ctx.NewFlow) r.Masqueraded = ctx.Masquerade;
    }
}
