namespace DataPlane.Tests.Infrastructure;

/// <summary>Manifest fragments the control-plane tests share.</summary>
public static class TestManifests
{
    /// <summary>The node the tests emulate (as in pcaps/cluster): node-1, 192.168.0.2, pods 10.244.1.0/24; then a separator.</summary>
    public const string Node1 = "apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\nspec: {podCIDR: 10.244.1.0/24}\n" +
                                "status: {addresses: [{type: InternalIP, address: 192.168.0.2}]}\n---\n";
}
