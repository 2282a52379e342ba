using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Packets;

namespace DataPlane.Kubernetes.Inventory;

/// <summary>
/// The resolved cluster as rows, the way <c>kubectl get nodes,pods,svc,endpointslices -o wide</c> lists it: nodes, pods,
/// services of every type with their allocated cluster IPs and node ports, their endpoints with the pod each is, and
/// the CIDRs in force. Read off <see cref="ResolvedCluster"/>, never worked out again.
/// </summary>
public sealed record ClusterInventory(IReadOnlyList<NodeEntry> Nodes, IReadOnlyList<PodEntry> Pods, IReadOnlyList<ServiceEntry> Services,
    IReadOnlyList<string> ServiceCIDRs, string? ClusterCIDR)
{
    /// <summary>
    /// Controller-made pods beyond what the cluster holds: counted, not made (<see cref="ClusterManifests.UnlistedPendingPods"/>;
    /// each such workload lists its first Pending pod in <see cref="Pods"/>).
    /// </summary>
    public long UnlistedPendingPods { get; init; }

    /// <summary>Resolves <paramref name="manifests"/> and lists it (one-off callers; the CLI reads <see cref="ResolvedCluster.Inventory"/>).</summary>
    public static ClusterInventory Build(ClusterManifests manifests, CompileOptions? options = null) => ResolvedCluster.Resolve(manifests, options).Inventory;

    public static ClusterInventory From(ResolvedCluster c)
    {
        ClusterManifests m = c.Manifests;
        var nodes = m.Nodes.Select(n => new NodeEntry(n.Name, [.. n.InternalIPs.Select(Ip4.Format)], [.. n.ExternalIPs.Select(Ip4.Format)],
            n.PodCIDR?.ToString(), n.Unschedulable, n.Generated)
        { PodCIDRs = [.. n.PodCIDRs.Select(c => c.ToString()), .. n.IPv6PodCIDRs.Select(c => c.ToString())] }).ToArray();
        var pods = m.Pods.Select(p => new PodEntry(p.Namespace ?? "default", p.Name, p.PodIP is uint ip ? Ip4.Format(ip) : null, p.NodeName,
            p.Ready, p.Phase.ToString(), p.Owner, p.Hostname, p.Subdomain, p.Generated)
        { IPs = [.. (p.PodIPs.Count > 0 ? p.PodIPs : p.PodIP is uint one ? [one] : []).Select(Ip4.Format), .. p.IPv6PodIPs] }).ToArray();

        var services = new List<ServiceEntry>();
        foreach (Service svc in m.Services)
        {
            ServiceFamilies families = c.Families(svc);
            string[] clusterIps = svc.Type == ServiceType.ExternalName ? []
                : svc.ClusterIPMode == ClusterIPMode.Headless ? ["None"]
                : [.. families.ClusterIPs.Select(ip => ip.ToString())];
            string? clusterIp = clusterIps.Length > 0 ? clusterIps[0] : null;
            var ports = new List<ServicePortEntry>();
            for (int i = 0; i < svc.Ports.Count; i++)
            {
                ServicePort p = svc.Ports[i];
                ports.Add(new ServicePortEntry(p.Name, p.Port, p.Protocol.ToString(), p.TargetPort.ToString(), c.NodePort(svc, i)));
            }
            string[] external = [.. svc.ExternalIPs.Select(Ip4.Format), .. svc.LoadBalancerIngress.Select(i => Ip4.Format(i.IP))];
            services.Add(new ServiceEntry(svc.Namespace ?? "default", svc.Name, svc.Type.ToString(), clusterIp, svc.ExternalName, external, ports,
                c.Endpoints(svc))
            {
                Emulated = svc.Emulated,
                ClusterIPs = clusterIps,
                IPFamilies = [.. families.Families.Select(f => f.ToString())],
                IPFamilyPolicy = families.Policy?.ToString(),
            });
        }

        string? clusterCidr = m.ProxyConfig.ClusterCIDRs.Count == 0 ? null : string.Join(",", m.ProxyConfig.ClusterCIDRs);
        return new ClusterInventory(nodes, pods, services, m.ServiceCidrsInForce.RangeTexts, clusterCidr)
        {
            UnlistedPendingPods = m.UnlistedPendingPods,
        };
    }
}
