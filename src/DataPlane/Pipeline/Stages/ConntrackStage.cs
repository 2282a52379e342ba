using System.Runtime.CompilerServices;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Pipeline.Stages;

/// <summary>Conntrack lifetimes in ns, resolved once from <see cref="PipelineOptions"/>.</summary>
public readonly struct CtTimeouts(PipelineOptions o)
{
    public readonly long TcpSyn = o.TcpSynTimeout.Ticks * 100;
    public readonly long TcpEstablished = o.TcpEstablishedTimeout.Ticks * 100;
    public readonly long TcpClose = o.TcpCloseTimeout.Ticks * 100;
    public readonly long NonTcp = o.NonTcpTimeout.Ticks * 100;
}

/// <summary>
/// Connection tracking: find the connection a packet belongs to (either direction), refresh its lifetime and TCP
/// state; create connections for new service flows, choosing the translated tuple (and SNAT port) so that it is unique.
/// </summary>
public static class ConntrackStage
{
    /// <summary>
    /// Returns <see cref="Verdict.Forward"/> with <c>ctx.CtIndex</c> set when the packet belongs to a live connection,
    /// else <see cref="Verdict.Continue"/> (a new connection). Expired entries are collected on the spot; a TCP SYN on a
    /// connection that has closed (FIN both ways or RST) starts a new connection, as cilium's ct_lookup does. A packet
    /// of a tracked direct flow that nothing translates (<see cref="Direct"/>) is accounted to it and passed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Verdict Lookup(ref PacketContext ctx, MapSet maps, WorkerState w)
    {
        ConntrackMap ct = w.Conntrack;
        int idx = ct.Lookup(new CtTuple4(ctx.SrcIp, ctx.SrcPort, ctx.DstIp, ctx.DstPort, ctx.Proto), out CtDirection dir);
        ctx.CtIndex = idx;
        if (idx < 0) return Verdict.Continue;
        ref CtEntry e = ref ct[idx];
        if (e.ExpiresNs <= ctx.NowNs || (e.IsClosed && (ctx.TcpFlags & (L4.TcpSyn | L4.TcpAck)) == L4.TcpSyn)
            || (e.Generation != (ushort)maps.Generation && BackendGone(ref e, maps)))
            return Stale(ref ctx, ct, idx);
        ctx.Direction = dir;
        if ((e.Flags & CtFlags.SeenReply) == 0 && dir == CtDirection.Original && e.TcpFlagsOriginal == L4.TcpSyn
            && (ctx.TcpFlags & (L4.TcpSyn | L4.TcpAck | L4.TcpRst)) == L4.TcpAck)
            return Invalid(ref ctx);
        if ((ctx.TcpFlags & L4.TcpRst) != 0 && ctx.Proto == IpProto.Tcp && !TcpWindow.RstInWindow(ref ctx, in e, dir))
            return Invalid(ref ctx); // out-of-window RST: INVALID, the connection untouched
        // One flag test on the line already loaded: every service connection has Dnat, so the established path pays no lookup.
        if ((e.Flags & (CtFlags.Dnat | CtFlags.Snat)) == 0) return Untranslated(ref ctx, ref e, w);
        return Verdict.Forward;
    }

    /// <summary>A packet of a direct flow tracked without translation: its lifetime and TCP state move on, the packet passes as it came.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static Verdict Untranslated(ref PacketContext ctx, ref CtEntry e, WorkerState w)
    {
        Update(ref ctx, ref e, in w.Timeouts);
        return Verdict.Pass;
    }

    /// <summary>
    /// A TCP or UDP flow no service claims, to or from a service endpoint (address, port and protocol of some backend),
    /// routed through the node: tracked, as Linux conntrack tracks every flow, because its reply tuple is one a service
    /// connection can also produce. A pod's direct flow P -> backend:port and its flow from the same port P through the
    /// ClusterIP (DNAT to that backend) both have the reply tuple backend:port -> pod:P; the kernel sees the clash when
    /// it binds the second connection's NAT (get_unique_tuple with nf_nat_used_tuple, net/netfilter/nf_nat_core.c) and
    /// moves that connection's source port (nf_nat_l4proto_unique_tuple, in the port's class). Whichever comes first is
    /// kept: a service connection after the direct flow gets the new port in <see cref="Create"/>; a direct flow after
    /// the service connection gets it here (the null binding's SNAT, nf_nat_alloc_null_binding at POSTROUTING), and is
    /// then translated both ways like any SNAT. Otherwise the flow is passed untouched, as before, its entry only
    /// reserving the tuple; its replies are found and passed untranslated.
    /// <para>
    /// Which flows: only those that can clash, with a backend endpoint at one end (tracking every passed flow would cost
    /// an insert per flow that can never clash). Not tracked: other protocols, an RST (it opens nothing: tcp_new refuses
    /// it), a destination on the node itself (its own stack answers, <see cref="HostPortStage"/>), TTL 0 or 1 (not
    /// forwarded, so never confirmed), and any flow when the table is full (passed untracked, as before).
    /// </para>
    /// Returns <see cref="Verdict.Continue"/> when not tracked, <see cref="Verdict.Pass"/> when tracked untranslated,
    /// <see cref="Verdict.Forward"/> with a new entry (<c>ctx.NewFlow</c>) when its source port had to move.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Verdict Direct(ref PacketContext ctx, MapSet maps, WorkerState w)
    {
        if (ctx.Proto is not (IpProto.Tcp or IpProto.Udp) || (ctx.TcpFlags & L4.TcpRst) != 0 || ctx.IsLaterFragment
            || ForwardStage.Expires(ref ctx) || maps.Node.IsNodeAddress(ctx.DstIp))
            return Verdict.Continue;
        // The client's side is the other end from the endpoint: its port is the flow's class (FlowSteering sends both
        // directions by it), which numbers the flow and bounds a replacement port.
        bool toEndpoint = maps.IsEndpoint(ctx.DstIp, ctx.DstPort, ctx.Proto);
        if (!toEndpoint && !maps.IsEndpoint(ctx.SrcIp, ctx.SrcPort, ctx.Proto)) return Verdict.Continue;
        ConntrackMap ct = w.Conntrack;
        var original = new CtTuple4(ctx.SrcIp, ctx.SrcPort, ctx.DstIp, ctx.DstPort, ctx.Proto);
        int flowClass = PipelineOptions.ClassOf(toEndpoint ? ctx.SrcPort : ctx.DstPort, w.FlowClasses);
        ushort port = ctx.SrcPort;
        MapStatus st = ct.TryCreate(original, original.Reverse(), out int entry, ctx.NowNs, flowClass);
        if (st == MapStatus.Exists)
        {
            // First seen from the endpoint's side (a flow picked up mid-stream): its source is the endpoint's own port,
            // which no null binding would move; left untracked, as before.
            if (!toEndpoint) return Verdict.Continue;
            // The reply tuple is a service connection's (the original tuple would have been found by the lookup).
            var (lo, hi) = SnatRange(ctx.SrcPort, w.Options);
            var peer = new Lb4Backend { Address = ctx.DstIp, Port = ctx.DstPort, Proto = ctx.Proto };
            st = AllocatePort(in original, in peer, ctx.SrcIp, lo, hi, flowClass, w.FlowClasses, ct, w.Options, out entry, out port, ctx.NowNs);
            if (st == MapStatus.Exists) return ctx.Drop(DropReason.NatPortExhausted);
        }
        if (st == MapStatus.Full) return Verdict.Continue;
        ref CtEntry e = ref ct[entry];
        ConntrackMap.BeginWrite(ref e);
        e.Generation = (ushort)maps.Generation;
        if (port != ctx.SrcPort) e.Flags |= CtFlags.Snat;
        ConntrackMap.EndWrite(ref e);
        ctx.CtIndex = entry;
        ctx.Direction = CtDirection.Original;
        if (port != ctx.SrcPort)
        {
            ctx.NewFlow = true;
            return Verdict.Forward;
        }
        Update(ref ctx, ref e, in w.Timeouts);
        return Verdict.Pass;
    }

    /// <summary>
    /// The client acknowledges (ACK or FIN+ACK) while its connection is still in SYN_SENT: nothing it could be
    /// acknowledging has been seen. Linux conntrack classes it INVALID (tcp_conntracks, ORIGINAL ack/fin in sSS -> sIV)
    /// and kube-proxy's KUBE-FORWARD rule drops INVALID (pkg/proxy/iptables/proxier.go, --ctstate INVALID -j DROP). The entry is left
    /// as it was. (With nf_conntrack_tcp_be_liberal the kernel would forward it untranslated instead; not mirrored.)
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static Verdict Invalid(ref PacketContext ctx)
    {
        return ctx.Drop(DropReason.CtInvalid);
    }

    /// <summary>
    /// Once per map generation per connection: is this a UDP service connection whose backend no longer serves the
    /// service? kube-proxy then deletes it (pkg/proxy/conntrack/cleanup.go, CleanStaleEntries) so the next datagram is
    /// balanced again instead of black-holing. It keeps TCP connections, which live on to their timeout or RST, and
    /// the flows of a service with no serving endpoint at all (nothing better to send them to), and ignores traffic
    /// policies and terminating state: only whether the reply source is a serving endpoint address of the service.
    /// Otherwise stamps the entry as checked for this generation.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static bool BackendGone(ref CtEntry e, MapSet maps)
    {
        if (e.Original.Proto == IpProto.Udp && (e.Flags & CtFlags.Dnat) != 0
            && maps.ServingCountOf(e.RevNatIndex) > 0 && !maps.IsServing(e.RevNatIndex, e.Reply.SrcIp))
            return true;
        ConntrackMap.BeginWrite(ref e);
        e.Generation = (ushort)maps.Generation;
        ConntrackMap.EndWrite(ref e);
        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static Verdict Stale(ref PacketContext ctx, ConntrackMap ct, int idx)
    {
        ct.Delete(idx);
        ctx.CtIndex = -1;
        return Verdict.Continue;
    }

    /// <summary>Account a packet to its connection: flags seen, SEEN_REPLY, lifetime.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Update(ref PacketContext ctx, ref CtEntry e, in CtTimeouts t)
    {
        ConntrackMap.BeginWrite(ref e);
        long lifetime;
        if (ctx.Proto == IpProto.Tcp)
        {
            if (ctx.Direction == CtDirection.Original) e.TcpFlagsOriginal |= ctx.TcpFlags;
            else e.TcpFlagsReply |= ctx.TcpFlags;
            TcpWindow.Track(ref ctx, ref e);
            byte all = (byte)(e.TcpFlagsOriginal | e.TcpFlagsReply);
            if (e.IsClosed) lifetime = t.TcpClose;
            // Cilium keeps an entry at the SYN lifetime until it sees a packet without SYN (seen_non_syn).
            else if ((all & L4.TcpAck) != 0 || ctx.Direction == CtDirection.Reply) lifetime = t.TcpEstablished;
            else lifetime = t.TcpSyn;
        }
        else lifetime = t.NonTcp;
        if (ctx.Direction == CtDirection.Reply) e.Flags |= CtFlags.SeenReply;
        e.ExpiresNs = ctx.NowNs + lifetime;
        ConntrackMap.EndWrite(ref e);
    }

    /// <summary>
    /// Creates the connection for a new service flow to <c>ctx.BackendId</c>: DNAT to the backend, and SNAT to
    /// <c>ctx.MasqueradeIp</c> when <c>ctx.Masquerade</c> (<see cref="MasqueradeStage"/> decided both). The reply
    /// tuple must be unique in the table (it is how replies find the connection); for a masqueraded flow the source
    /// port is the client's when it lies in the SNAT range and is free, otherwise one of the range's ports in the
    /// client port's flow class (<see cref="PipelineOptions.FlowClasses"/>: its replies must steer to the same worker),
    /// from a start keyed by the connection's first packet, then linear probing with bounded retries (cilium snat_v4_new_mapping).
    /// Exhaustion drops, never collides. The reply tuple can also be a direct flow's (<see cref="Direct"/>): the pod's
    /// own connection to the backend from the same port, which the kernel tracks too and so moves this one's port.
    /// </summary>
    public static Verdict Create(ref PacketContext ctx, MapSet maps, WorkerState w)
    {
        ConntrackMap ct = w.Conntrack;
        PipelineOptions o = w.Options;
        Lb4Backend be = maps.Backend(ctx.BackendId);
        var original = new CtTuple4(ctx.SrcIp, ctx.SrcPort, ctx.DstIp, ctx.DstPort, ctx.Proto);
        uint natIp = ctx.Masquerade ? ctx.MasqueradeIp : ctx.SrcIp;
        ushort natPort = ctx.SrcPort;

        int entry = -1, flowClass = PipelineOptions.ClassOf(ctx.SrcPort, w.FlowClasses);
        var (lo, hi) = SnatRange(ctx.SrcPort, o);
        if (ctx.Masquerade && w.Hints is { } hints) FollowSnat(ref ctx, hints, natIp, o, ref natPort, ref lo, ref hi);
        MapStatus st = !ctx.Masquerade || (natPort >= lo && natPort <= hi)
            ? ct.TryCreate(original, new CtTuple4(be.Address, be.Port, natIp, natPort, ctx.Proto), out entry, ctx.NowNs, flowClass)
            : MapStatus.Exists;
        if (st == MapStatus.Exists)
        {
            // The tuple is taken (or the client's port is outside the range): search the SNAT range. A DNAT-only flow
            // lands here only when its reply tuple clashes with another connection's (another service connection's, or
            // the client's direct flow to that backend from the same port); Linux then gives it a unique source port
            // too (nf_nat's null binding), so do the same.
            st = AllocatePort(in original, in be, natIp, lo, hi, flowClass, w.FlowClasses, ct, o, out entry, out natPort, ctx.NowNs);
            if (st == MapStatus.Exists) return ctx.Drop(DropReason.NatPortExhausted);
        }
        if (st == MapStatus.Full) return ctx.Drop(DropReason.CtFull);

        ref CtEntry e = ref ct[entry];
        ConntrackMap.BeginWrite(ref e);
        e.BackendId = ctx.BackendId;
        e.RevNatIndex = ctx.Service.RevNatIndex;
        e.Generation = (ushort)maps.Generation;
        e.Flags |= CtFlags.Dnat;
        if (natIp != ctx.SrcIp || natPort != ctx.SrcPort) e.Flags |= CtFlags.Snat;
        if ((ctx.Service.Flags & (ServiceFlags.NodePort | ServiceFlags.ExternalIp | ServiceFlags.LoadBalancer)) != 0)
            e.Flags |= CtFlags.NodePort;
        ConntrackMap.EndWrite(ref e);
        ctx.CtIndex = entry;
        ctx.Direction = CtDirection.Original;
        ctx.NewFlow = true;
        // sessionAffinity ClientIP remembers the backend of a connection that was actually made (cilium
        // lb4_update_affinity_by_addr; kube-proxy's recent --set in the endpoint chain, which only a NEW packet that
        // passed the DNAT reaches).
        if ((ctx.Service.Flags & ServiceFlags.Affinity) != 0)
            w.Affinity.Record(ctx.SrcIp, ctx.Service.RevNatIndex, be.Address, be.Port, ctx.NowNs);
        return Verdict.Continue;
    }

    /// <summary>
    /// <c>verify</c>: the source port the capture shows the node masqueraded this connection to, when it is one the
    /// kernel may pick for this client port and the address is the one MASQUERADE takes here. Without --to-ports,
    /// nf_nat_l4proto_unique_tuple keeps a privileged source privileged (1-511, 600-1023) and takes anything from
    /// 1024 for the rest, with or without --random-fully; with a configured range it stays within it. The range is
    /// widened to the kernel's class so the port, if taken, is searched for in what the kernel could have chosen.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void FollowSnat(ref PacketContext ctx, BackendHints hints, uint natIp, PipelineOptions o, ref ushort natPort, ref ushort lo, ref ushort hi)
    {
        if (!hints.TryGetSnat(new BackendHints.Connection(ctx.Proto, ctx.SrcIp, ctx.SrcPort, ctx.DstIp, ctx.DstPort), ctx.NowNs, out uint ip, out ushort port) || ip != natIp)
            return;
        var (kLo, kHi) = KernelSnatClass(ctx.SrcPort, o);
        if (port < kLo || port > kHi) return;
        natPort = port;
        (lo, hi) = (kLo, kHi);
    }

    /// <summary>The ports MASQUERADE may give a source port: its privileged class, or 1024-65535 (the configured range when one was set).</summary>
    public static (ushort Min, ushort Max) KernelSnatClass(ushort clientPort, PipelineOptions o) =>
        !o.SnatPrivilegedClasses ? (o.SnatPortMin, o.SnatPortMax)
        : clientPort == 0 || clientPort >= 1024 ? ((ushort)1024, ushort.MaxValue)
        : clientPort < 512 ? ((ushort)1, (ushort)511) : ((ushort)600, (ushort)1023);

    /// <summary>
    /// The source ports a masqueraded flow from <paramref name="clientPort"/> may get: the kernel's port classes for
    /// privileged ports (nf_nat_l4proto_unique_tuple without NF_NAT_RANGE_PROTO_SPECIFIED: below 512 within 1-511,
    /// 512-1023 within 600-1023, so a privileged source stays privileged, as --random-fully also keeps it), the SNAT
    /// range for the rest and for every port once a range was configured explicitly (MASQUERADE --to-ports).
    /// </summary>
    public static (ushort Min, ushort Max) SnatRange(ushort clientPort, PipelineOptions o) =>
        !o.SnatPrivilegedClasses || clientPort >= 1024 || clientPort == 0 ? (o.SnatPortMin, o.SnatPortMax)
        : clientPort < 512 ? ((ushort)1, (ushort)511) : ((ushort)600, (ushort)1023);

    [MethodImpl(MethodImplOptions.NoInlining)]
    static MapStatus AllocatePort(in CtTuple4 original, in Lb4Backend be, uint natIp, ushort lo, ushort hi, int flowClass, int k, ConntrackMap ct,
        PipelineOptions o, out int entry, out ushort port, long nowNs)
    {
        // The candidates are the range's ports of the connection's flow class: for class 0 every port below 1024, then
        // from 1024 on first, first + k, first + 2k...
        int low = flowClass == 0 && lo < 1024 ? Math.Min((int)hi, 1023) - lo + 1 : 0;
        int from = Math.Max((int)lo, 1024), first = from + ((flowClass - from) & (k - 1));
        uint count = (uint)(low + (first > hi ? 0 : (hi - first) / k + 1));
        var draw = DeterministicRandom.ForPacket(o.Seed, DeterministicRandom.SnatDraw, original.SrcIp, original.SrcPort, original.DstIp, original.DstPort, original.Proto, nowNs);
        uint p = count == 0 ? 0 : draw.Next(count);
        int tries = Math.Min(o.SnatRetries, (int)count);
        for (; tries > 0; tries--, p = p + 1 == count ? 0 : p + 1)
        {
            port = (ushort)(p < low ? lo + (int)p : first + ((int)p - low) * k);
            MapStatus st = ct.TryCreate(original, new CtTuple4(be.Address, be.Port, natIp, port, original.Proto), out entry, nowNs, flowClass);
            if (st != MapStatus.Exists) return st;
        }
        entry = -1;
        port = 0;
        return MapStatus.Exists;
    }
}
