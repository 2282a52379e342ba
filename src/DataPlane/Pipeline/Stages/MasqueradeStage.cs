using System.Runtime.CompilerServices;
using DataPlane.Maps;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// Whether a new connection's source is masqueraded, following kube-proxy's KUBE-MARK-MASQ rules
/// (kubernetes pkg/proxy/iptables/proxier.go and pkg/proxy/nftables/proxier.go; their proxier_test.go TestInternalExternalMasquerade):
/// external entries with externalTrafficPolicy Cluster and masqueradeAll mark everything; ClusterIP marks sources
/// outside the cluster CIDR (and nothing when no cluster CIDR is known); an endpoint reaching itself through its own
/// service (hairpin) is always marked, and so is a node-local source reaching an external entry, so its reply does not short-circuit inside the pod.
/// </summary>
public static class MasqueradeStage
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Decide(ref PacketContext ctx, MapSet maps)
    {
        ServiceFlags f = ctx.Service.Flags;
        ctx.Masquerade =
            (f & ServiceFlags.MasqueradeAll) != 0 ||
            ((f & ServiceFlags.MasqueradeOffCluster) != 0 && OffCluster(maps.Node, ctx.SrcIp)) ||
            // node -> NodePort and localhost -> NodePort are masqueraded whatever the policy (kube-proxy TestNodePorts,
            // TestExternalTrafficPolicyLocal "LOCAL, KUBE-MARK-MASQ").
            ((f & ServiceFlags.External) != 0 && maps.Node.IsNodeAddress(ctx.SrcIp)) ||
            maps.Backend(ctx.BackendId).Address == ctx.SrcIp;
    }

    static bool OffCluster(NodeInfo node, uint src) => node.ClusterCidrs.Length != 0 && !node.InClusterCidr(src);
}
