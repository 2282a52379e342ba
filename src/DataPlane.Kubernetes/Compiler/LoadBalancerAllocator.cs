using DataPlane.Kubernetes.Manifests;
using DataPlane.Packets;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// What a bare-metal load-balancer controller (MetalLB's IPAddressPool, or <c>minikube tunnel</c>) does for a
/// LoadBalancer Service that no cloud serves: writes an address into status.loadBalancer.ingress.
/// <list type="bullet">
/// <item>A service that already has an IPv4 ingress (from a dump) keeps it.</item>
/// <item><c>spec.loadBalancerIP</c> is honoured (MetalLB honours it too, even outside its pools).</item>
/// <item>Otherwise the next free address of the pool in manifest order, every address of the CIDR in turn (MetalLB
/// hands out network and broadcast addresses too unless <c>avoidBuggyIPs</c>), skipping any address already an
/// ingress, an externalIP, a requested loadBalancerIP or a node address. An exhausted pool leaves the service
/// without an address (<c>&lt;pending&gt;</c> in kubectl), reported through <c>warn</c>.</item>
/// </list>
/// </summary>
public static class LoadBalancerAllocator
{
    /// <summary>The default pool: the top /28 of the default topology's node LAN, as a MetalLB L2 pool is usually cut.</summary>
    public static readonly Cidr4 DefaultPool = new(0xC0A800F0, 28); // 192.168.0.240/28

    public static IReadOnlyList<Service> Assign(IReadOnlyList<Service> services, IEnumerable<Node> nodes, Cidr4 pool, Action<string>? warn)
    {
        var used = new HashSet<uint>();
        foreach (Node n in nodes)
            foreach (NodeAddress a in n.Addresses)
                if (a.IP is uint ip) used.Add(ip);
        foreach (Service s in services)
        {
            foreach (uint ip in s.ExternalIPs) used.Add(ip);
            foreach (LoadBalancerIngress i in s.LoadBalancerIngress) used.Add(i.IP);
            if (s.LoadBalancerIP is uint r) used.Add(r);
        }
        ulong next = pool.Prefix;
        ulong end = (ulong)pool.Prefix + (1UL << (32 - pool.Length));
        var result = new Service[services.Count];
        for (int i = 0; i < services.Count; i++)
        {
            Service s = services[i];
            result[i] = s;
            if (s.Type != ServiceType.LoadBalancer || s.LoadBalancerIngress.Count > 0) continue;
            uint? address = s.LoadBalancerIP;
            if (address is null)
            {
                while (next < end && used.Contains((uint)next)) next++;
                if (next < end) { address = (uint)next; used.Add((uint)next); next++; }
                else
                {
                    warn?.Invoke($"Service {s.Key}: no address left in the load-balancer pool {pool}; its external IP stays <pending>");
                    continue;
                }
            }
            result[i] = s with { LoadBalancerIngress = [new LoadBalancerIngress(address.Value, LoadBalancerIPMode.VIP)] };
        }
        return result;
    }
}
