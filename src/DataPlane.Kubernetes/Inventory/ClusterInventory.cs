using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Packets;

namespace DataPlane.Kubernetes.Inventory;

/// <summary>
/// What the cluster holds once the controllers have run (<see cref="WorkloadExpander"/>): nodes, pods, services of every
/// type with their allocated cluster IPs and node ports, their endpoints (hand-written EndpointSlices, the endpoints
/// controller's, or a legacy Endpoints object, as kube-proxy reads them), and the CIDRs in force.
/// </summary>
public sealed record ClusterInventory(IReadOnlyList<NodeEntry> Nodes, IReadOnlyList<PodEntry> Pods, IReadOnlyList<ServiceEntry> Services,
    IReadOnlyList<string> ServiceCIDRs, string? ClusterCIDR)
{
    public static ClusterInventory Build(ClusterManifests manifests, CompileOptions? options = null)
    {
        options ??= new CompileOptions();
        ClusterManifests m = WorkloadExpander.Expand(manifests, options.LoadBalancerPool, options.Warn);
        var allocator = new Allocator(m, options.NodePortMin, options.NodePortMax);

        var nodes = m.Nodes.Select(n => new NodeEntry(n.Name, [.. n.InternalIPs.Select(Ip4.Format)], [.. n.ExternalIPs.Select(Ip4.Format)],
            n.PodCIDR?.ToString(), n.Unschedulable, n.Generated)).ToArray();
        var pods = m.Pods.Select(p => new PodEntry(p.Namespace ?? "default", p.Name, p.PodIP is uint ip ? Ip4.Format(ip) : null, p.NodeName,
            p.Ready, p.Phase.ToString(), p.Owner, p.Hostname, p.Subdomain, p.Generated)).ToArray();

        // Which pod holds an address, per namespace (hostNetwork pods share the node's: the first one listed wins).
        var podByIp = new Dictionary<(string?, uint), string>();
        foreach (Pod p in m.Pods)
            if (p.PodIP is uint ip && !p.HostNetwork) podByIp.TryAdd((p.Namespace, ip), p.Name);

        ILookup<(string?, string?), EndpointSlice> slices = m.EndpointSlices.Concat(EndpointsController.Build(m))
            .Where(s => s.IsIPv4).ToLookup(s => (s.Namespace, s.ServiceName));
        ILookup<(string?, string), Endpoints> legacy = m.Endpoints.ToLookup(e => (e.Namespace, e.Name));

        var services = new List<ServiceEntry>();
        foreach (Service svc in m.Services)
        {
            string? clusterIp = svc.Type == ServiceType.ExternalName ? null : svc.ClusterIPMode switch
            {
                ClusterIPMode.Headless => "None",
                ClusterIPMode.Assigned or ClusterIPMode.Allocate => Ip4.Format(svc.ClusterIP ?? allocator.ClusterIp(svc)),
                _ => null,
            };
            var ports = new List<ServicePortEntry>();
            for (int i = 0; i < svc.Ports.Count; i++)
            {
                ServicePort p = svc.Ports[i];
                int? nodePort = svc.Type is ServiceType.NodePort or ServiceType.LoadBalancer ? allocator.NodePortOrNull(svc, i) : null;
                ports.Add(new ServicePortEntry(p.Name, p.Port, p.Protocol.ToString(), p.TargetPort.ToString(), nodePort));
            }
            string[] external = [.. svc.ExternalIPs.Select(Ip4.Format), .. svc.LoadBalancerIngress.Select(i => Ip4.Format(i.IP))];
            var endpoints = new List<EndpointEntry>();
            if (svc.Type != ServiceType.ExternalName)
            {
                var own = slices[(svc.Namespace, svc.Name)].ToArray();
                foreach (EndpointSlice slice in own)
                    foreach (SliceEndpoint e in slice.Endpoints)
                        foreach (uint ip in e.Addresses)
                        {
                            string? pod = podByIp.GetValueOrDefault((svc.Namespace, ip));
                            if (slice.Ports.Count == 0)
                                endpoints.Add(new EndpointEntry(Ip4.Format(ip), null, null, e.IsReady, e.IsServing, e.IsTerminating, e.NodeName, pod));
                            foreach (EndpointSlicePort sp in slice.Ports)
                                endpoints.Add(new EndpointEntry(Ip4.Format(ip), sp.Port, sp.Name, e.IsReady, e.IsServing, e.IsTerminating, e.NodeName, pod));
                        }
                if (own.Length == 0)
                    foreach (Endpoints ep in legacy[(svc.Namespace, svc.Name)])
                        foreach (EndpointSubset sub in ep.Subsets)
                            foreach (var (a, ready) in sub.Addresses.Select(a => (a, true)).Concat(sub.NotReadyAddresses.Select(a => (a, false))))
                                foreach (EndpointPort port in sub.Ports)
                                    endpoints.Add(new EndpointEntry(Ip4.Format(a.IP), port.Port, port.Name, ready, ready, false, a.NodeName,
                                        podByIp.GetValueOrDefault((svc.Namespace, a.IP))));
            }
            services.Add(new ServiceEntry(svc.Namespace ?? "default", svc.Name, svc.Type.ToString(), clusterIp, svc.ExternalName, external, ports, endpoints));
        }

        string? clusterCidr = m.ProxyConfig.ClusterCIDRs.Count == 0 ? null : string.Join(",", m.ProxyConfig.ClusterCIDRs);
        return new ClusterInventory(nodes, pods, services, [.. m.ServiceClusterIPRanges.Select(c => c.ToString())], clusterCidr);
    }
}
