using System.Runtime.CompilerServices;
using DataPlane.Maps;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// Whether a new connection's source is masqueraded, following kube-proxy's KUBE-MARK-MASQ rules
/// (kubernetes pkg/proxy/iptables/proxier.go and pkg/proxy/nftables/proxier.go; their proxier_test.go TestInternalExternalMasquerade):
/// external entries with externalTrafficPolicy Cluster and masqueradeAll mark everything; ClusterIP marks sources
/// outside the cluster CIDR (and nothing when no cluster CIDR is known); an endpoint reaching itself through its own
/// service (hairpin) is always marked, and so is a node-local source reaching an external entry, so its reply does not short-circuit inside the pod.
/// The stage also picks the address MASQUERADE will use, so the decision and its address live in one place.
/// </summary>
public static class MasqueradeStage
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Verdict Run(ref PacketContext ctx, MapSet maps, WorkerState w)
    {
        ServiceFlags f = ctx.Service.Flags;
        ref readonly Lb4Backend be = ref maps.Backend(ctx.BackendId);
        ctx.Masquerade =
            (f & ServiceFlags.MasqueradeAll) != 0 ||
            ((f & ServiceFlags.MasqueradeOffCluster) != 0 && OffCluster(maps.Node, ctx.SrcIp)) ||
            // node -> NodePort and localhost -> NodePort are masqueraded whatever the policy (kube-proxy TestNodePorts,
            // TestExternalTrafficPolicyLocal "LOCAL, KUBE-MARK-MASQ").
            ((f & ServiceFlags.External) != 0 && maps.Node.IsNodeAddress(ctx.SrcIp)) ||
            be.Address == ctx.SrcIp;
        if (ctx.Masquerade) ctx.MasqueradeIp = Source(maps.Node, in be);
        return Verdict.Continue;
    }

    /// <summary>
    /// MASQUERADE takes the primary address of the egress interface (net/netfilter/nf_nat_masquerade.c,
    /// inet_select_addr on the output device): the node IP on the uplink, but the pod-side gateway (first address of
    /// spec.podCIDR, like cni0's 10.244.1.1) when the backend is on this node.
    /// </summary>
    static uint Source(NodeInfo node, in Lb4Backend be) =>
        be.Local && node.PodCidr is { } pod ? pod.At(1) : node.PrimaryAddress;

    static bool OffCluster(NodeInfo node, uint src) => node.ClusterCidrs.Length != 0 && !node.InClusterCidr(src);
}
