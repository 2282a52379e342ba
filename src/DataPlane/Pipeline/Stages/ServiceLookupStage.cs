using System.Runtime.CompilerServices;
using DataPlane.Maps;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// Frontend lookup on (destination, port, protocol), cilium's lb4_lookup_service, then what decides which frontend
/// entry a new connection uses: the source-range check (cilium step "SOURCE_RANGE", kube-proxy's firewall chain), the
/// scope for two-scope services, and the node's own answer for health-check ports. A miss is not ours: pass (or, in
/// nftables mode, reject/drop inside the service CIDRs).
/// </summary>
public static class ServiceLookupStage
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Verdict Run(ref PacketContext ctx, MapSet maps, WorkerState w)
    {
        ref Lb4Service svc = ref maps.Frontend(new Lb4Key(ctx.DstIp, ctx.DstPort, ctx.Proto));
        if (Unsafe.IsNullRef(ref svc)) return Miss(ref ctx, maps);
        ctx.Service = svc;
        if ((svc.Flags & (ServiceFlags.SourceRange | ServiceFlags.TwoScopes | ServiceFlags.HealthCheck)) != 0)
            return Special(ref ctx, maps);
        return Verdict.Continue;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static Verdict Special(ref PacketContext ctx, MapSet maps)
    {
        ServiceFlags f = ctx.Service.Flags;
        if ((f & ServiceFlags.HealthCheck) != 0) return Verdict.Local;
        // Source ranges apply to LB-IP traffic from everyone, pods included; NodePort and ClusterIP are not filtered.
        if ((f & ServiceFlags.SourceRange) != 0 && maps.SourceRanges[ctx.Service.RevNatIndex] is { } ranges && !ranges.Allows(ctx.SrcIp))
        {
            return ctx.Drop(DropReason.NotInSourceRange);
        }
        if ((f & ServiceFlags.TwoScopes) != 0 && maps.Node.UsesInternalScope(ctx.SrcIp))
        {
            ref Lb4Service inner = ref maps.Frontend(new Lb4Key(ctx.DstIp, ctx.DstPort, ctx.Proto, scope: 1));
            if (!Unsafe.IsNullRef(ref inner))
            {
                ctx.Service = inner;
                ctx.Scope = 1;
            }
        }
        return Verdict.Continue;
    }

    /// <summary>
    /// nftables mode only (kubernetes pkg/proxy/nftables/proxier.go, chain cluster-ips-check): an existing cluster IP on a port or protocol it does not serve hits
    /// the per-IP catch-all and is rejected; an unallocated address inside the service CIDRs is dropped. iptables
    /// leaves both untouched (pass).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static Verdict Miss(ref PacketContext ctx, MapSet maps)
    {
        NodeInfo node = maps.Node;
        if (!node.DropUnallocatedServiceIps) return Verdict.Pass;
        ref Lb4Service any = ref maps.Frontend(new Lb4Key(ctx.DstIp, 0, 0));
        if (!Unsafe.IsNullRef(ref any))
        {
            ctx.Service = any;
            return Verdict.Continue; // Count 0 without DropWhenEmpty: the selection stage rejects
        }
        if (node.InServiceCidr(ctx.DstIp))
        {
            return ctx.Drop(DropReason.ServiceIpUnallocated);
        }
        return Verdict.Pass;
    }
}
