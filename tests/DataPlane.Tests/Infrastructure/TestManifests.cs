namespace DataPlane.Tests.Infrastructure;

/// <summary>Manifest fragments the control-plane tests share.</summary>
public static class TestManifests
{
    /// <summary>The node the tests emulate (as in pcaps/cluster): node-1, 192.168.0.2, pods 10.244.1.0/24; then a separator.</summary>
    public const string Node1 = "apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\nspec: {podCIDR: 10.244.1.0/24}\n" +
                                "status: {addresses: [{type: InternalIP, address: 192.168.0.2}]}\n---\n";

    /// <summary>node-1 (192.168.0.2) and node-2 (192.168.0.3), addresses only, no trailing separator.</summary>
    public const string TwoNodes = "apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\nstatus: {addresses: [{type: InternalIP, address: 192.168.0.2}]}\n---\n" +
                                   "apiVersion: v1\nkind: Node\nmetadata: {name: node-2}\nstatus: {addresses: [{type: InternalIP, address: 192.168.0.3}]}\n";

    /// <summary>
    /// <see cref="Node1"/>, node-2 (192.168.0.3, pods 10.244.2.0/24) and an iptables-mode KubeProxyConfiguration with the
    /// cluster CIDR 10.244.0.0/16 (so clients outside it are masqueraded); then a separator.
    /// </summary>
    public const string TwoNodesIptables = Node1 +
        "apiVersion: v1\nkind: Node\nmetadata: {name: node-2}\nspec: {podCIDR: 10.244.2.0/24}\n" +
        "status: {addresses: [{type: InternalIP, address: 192.168.0.3}]}\n---\n" +
        "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\nclusterCIDR: 10.244.0.0/16\n---\n";
}
