using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Packets;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// Compiles loaded manifests into one <see cref="MapSet"/> generation for one node: what kube-proxy's proxier does when
/// it syncs (service map + endpoints map → rules), with cilium's map shapes as the target.
/// <para>
/// Frontends: ClusterIP, NodePort, externalIPs and LoadBalancer ingress IPs (not those with ipMode Proxy), plus the
/// healthCheckNodePort. Endpoints: EndpointSlices, the manifests' own and those the endpoints controller derives from
/// Pods for services with a selector (or legacy Endpoints when a service has no slice); ready endpoints first and
/// serving-terminating ones only when none is ready (KEP-1669), narrowed by topology hints (kube-proxy
/// pkg/proxy/topology.go). Policies: internal/externalTrafficPolicy Local, ClientIP session affinity,
/// loadBalancerSourceRanges, masquerade per kube-proxy's proxier rules, and random or Maglev backend selection
/// (cilium's lb4 maps).
/// </para>
/// </summary>
public static class ClusterCompiler
{
    public const string Localhost = "127.0.0.1";
    const uint Loopback = 0x7F000001;

    public static MapSet Compile(ClusterManifests m, string nodeName, long generation = 1) => Compile(m, nodeName, new CompileOptions(), generation);

    /// <summary>Resolves <paramref name="m"/> and compiles it for <paramref name="nodeName"/> (one-off callers and tests).</summary>
    public static MapSet Compile(ClusterManifests m, string nodeName, CompileOptions options, long generation = 1) =>
        Compile(ResolvedCluster.Resolve(m, options, generation), nodeName, options.Topology);

    /// <summary>
    /// The maps of node <paramref name="nodeName"/> for the resolved cluster <paramref name="c"/> (its options, ids and
    /// generation); <paramref name="topology"/>, when given, records the topology decisions of this node.
    /// </summary>
    /// <param name="cancel">Checked per service: an abandoned reload stops here too (nothing is published, the ids are given back).</param>
    public static MapSet Compile(ResolvedCluster c, string nodeName, TopologyReport? topology = null, CancellationToken cancel = default)
    {
        IdRegistry ids = c.Options.Ids ?? new IdRegistry();
        try
        {
            MapSet maps = Compile(c, nodeName, c.Options with { Topology = topology }, ids, cancel);
            ids.Commit();
            return maps;
        }
        catch
        {
            ids.Abandon(); // the last good generation's ids stay allocated
            throw;
        }
    }

    static MapSet Compile(ResolvedCluster c, string nodeName, CompileOptions options, IdRegistry ids, CancellationToken cancel)
    {
        ClusterManifests m = c.Manifests;
        long generation = c.Generation;
        Node node = c.RequireNode(nodeName);
        NodeInfo info = BuildNodeInfo(m, node);
        if (!MaglevTable.IsSupportedSize(options.MaglevTableSize))
            throw new ArgumentException($"Maglev table size {options.MaglevTableSize} is not one of {string.Join(", ", MaglevTable.SupportedSizes)}");
        var b = new MapSetBuilder(info, ids) { MaglevSize = options.MaglevTableSize };
        // Slices indexed by service once (the resolved cluster's): looking them up per service port keeps a 10 k-service
        // compile linear, not quadratic.
        ILookup<(string?, string?), EndpointSlice> slices = c.SliceLookup;
        ILookup<(string?, string), Manifests.Endpoints> legacy = c.LegacyLookup;
        KubeProxyConfig kp = m.ProxyConfig;

        foreach (Service svc in m.Services)
        {
            cancel.ThrowIfCancellationRequested();
            // Headless and ExternalName services are DNS-only: no proxy rules (kube-proxy TestBuildServiceMapServiceHeadless,
            // TestBuildServiceMapServiceTypeExternalName).
            if (svc.Type == ServiceType.ExternalName || svc.ClusterIPMode is ClusterIPMode.Headless or ClusterIPMode.None)
                continue;
            // IPv6-only services (written, or resolved from ipFamilies) have no IPv4 cluster IP: the IPv4 data plane
            // installs nothing for them yet; dual-stack services get their IPv4 half.
            if (c.ClusterIp(svc) is not uint clusterIp)
                continue;
            ushort firstRevNat = 0;
            for (int pi = 0; pi < svc.Ports.Count; pi++)
            {
                ServicePort port = svc.Ports[pi];
                // SCTP ports are proxied like TCP and UDP (kube-proxy does in iptables and nftables modes); the data
                // plane recomputes their CRC32c on translation.
                byte proto = ProtoOf(port.Protocol);
                string display = PortName(svc, port);
                ushort revNat;
                try
                {
                    revNat = b.AddServicePort(display, clusterIp, (ushort)port.Port, proto);
                }
                catch (InvalidOperationException)
                {
                    // Reverse-NAT ids are 16 bits, as in cilium's lb4 maps (and conntrack entries hold them).
                    throw new ManifestException(svc.SourceFile, $"Service {svc.Key}", $"spec.ports[{pi}]",
                        $"more than {ushort.MaxValue} service ports in the cluster: the data plane's service-port id is 16 bits (cilium's lb4 reverse-NAT id)");
                }
                if (firstRevNat == 0) firstRevNat = revNat;
                ScopedEndpoints eps = Endpoints(slices, legacy, svc, port, proto, nodeName, node.Zone, b, revNat, options.Topology);
                // No usable endpoint anywhere: every address of the service rejects, whatever the policies
                // (kube-proxy TestNoEndpointsReject); a Local policy with endpoints only elsewhere drops instead.
                bool noneAnywhere = eps.All.Length == 0;
                ServiceFlags common = svc.SessionAffinity == SessionAffinity.ClientIP ? ServiceFlags.Affinity : ServiceFlags.None;
                if ((svc.LoadBalancerAlgorithm ?? options.Algorithm) == LoadBalancerAlgorithm.Maglev) common |= ServiceFlags.Maglev;
                uint affinity = svc.SessionAffinity == SessionAffinity.ClientIP ? (uint)svc.SessionAffinityTimeoutSeconds : 0;

                // ClusterIP: internalTrafficPolicy Local restricts it to this node's endpoints (TestInternalTrafficPolicy).
                ServiceFlags clusterFlags = common | ServiceFlags.ClusterIp | (kp.MasqueradeAll ? ServiceFlags.MasqueradeAll : ServiceFlags.MasqueradeOffCluster);
                bool itpLocal = InternalPolicyLocal(svc, noneAnywhere);
                b.AddFrontend(new Lb4Key(clusterIp, (ushort)port.Port, proto), revNat,
                    clusterFlags | (itpLocal ? ServiceFlags.IntLocal | ServiceFlags.DropWhenEmpty : 0), itpLocal ? eps.Local : eps.All, affinity);

                // External entries: externalIPs, LB ingress IPs, NodePorts.
                bool etpLocal = ExternalPolicyLocal(svc, noneAnywhere);
                void External(uint address, ushort p, ServiceFlags kind, SourceRangeSet? ranges)
                {
                    ServiceFlags f = common | kind | Local(info, address) | (ranges is null ? 0 : ServiceFlags.SourceRange);
                    var key = new Lb4Key(address, p, proto);
                    if (!etpLocal)
                    {
                        // externalTrafficPolicy Cluster: masquerade every source (TestExternalTrafficPolicyCluster).
                        b.AddFrontend(key, revNat, f | ServiceFlags.MasqueradeAll, eps.All, affinity);
                        return;
                    }
                    // externalTrafficPolicy Local: external clients reach only local endpoints with their address kept,
                    // and are dropped when there is none; pods (with a cluster-CIDR detector) and node-local sources use
                    // the internal scope, every endpoint, node-local ones masqueraded (TestExternalTrafficPolicyLocal).
                    b.AddFrontend(key, revNat, f | ServiceFlags.ExtLocal | ServiceFlags.TwoScopes | ServiceFlags.DropWhenEmpty, eps.Local, affinity);
                    b.AddFrontend(new Lb4Key(address, p, proto, scope: 1), revNat, f | ServiceFlags.MasqueradeOffCluster, eps.All, affinity);
                }
                foreach (uint ip in svc.ExternalIPs)
                    External(ip, (ushort)port.Port, ServiceFlags.ExternalIp, null);
                if (svc.Type == ServiceType.LoadBalancer)
                {
                    SourceRangeSet? ranges = SourceRanges(svc, info);
                    if (ranges is not null) b.SetSourceRanges(revNat, ranges);
                    foreach (LoadBalancerIngress ing in svc.LoadBalancerIngress)
                        if (ing.IPMode != LoadBalancerIPMode.Proxy) // ipMode Proxy: the LB proxies, kube-proxy installs nothing
                            External(ing.IP, (ushort)port.Port, ServiceFlags.LoadBalancer, ranges);
                }
                if (svc.Type is ServiceType.NodePort or ServiceType.LoadBalancer)
                {
                    // NodePorts are not filtered by loadBalancerSourceRanges (TestLoadBalancer "nodePort bypasses").
                    if (c.NodePort(svc, pi) is int nodePort)
                        foreach (uint addr in NodePortAddresses(info, kp))
                            External(addr, (ushort)nodePort, ServiceFlags.NodePort, null);
                }
            }
            if (firstRevNat == 0) continue;
            // healthCheckNodePort: only LoadBalancer + externalTrafficPolicy Local (TestBuildServiceMapAddRemove), TCP, on
            // every node address, even where nodePortAddresses excludes it (TestHealthCheckNodePort).
            if (svc.Type == ServiceType.LoadBalancer && svc.ExternalTrafficPolicy == TrafficPolicy.Local && c.HealthCheckNodePort(svc) is int hc)
                foreach (uint addr in info.Addresses)
                    b.AddFrontend(new Lb4Key(addr, (ushort)hc, IpProto.Tcp), firstRevNat, ServiceFlags.HealthCheck | ServiceFlags.LocalAddress, []);
            // nftables: a cluster IP on a port/protocol it does not serve is rejected (TestClusterIPGeneral, NFT).
            if (kp.Mode == ProxyMode.NFTables)
                b.AddFrontend(new Lb4Key(clusterIp, 0, 0), firstRevNat, ServiceFlags.ClusterIp | ServiceFlags.Wildcard, []);
        }
        b.Dns = c.Dns;
        MapSet built = b.Build(generation);
        foreach (string d in b.DuplicateFrontends) options.Warn?.Invoke(d);
        return built;
    }

    /// <summary>
    /// internalTrafficPolicy Local narrows the cluster IP to this node's endpoints, unless the port has no usable
    /// endpoint anywhere: then every address rejects (kube-proxy TestInternalTrafficPolicy, TestNoEndpointsReject).
    /// Read by the compile and by the lab's promises (<see cref="Resolved.ServicePromises"/>).
    /// </summary>
    internal static bool InternalPolicyLocal(Service svc, bool noneAnywhere) => svc.InternalTrafficPolicy == TrafficPolicy.Local && !noneAnywhere;

    /// <summary>externalTrafficPolicy Local on the external entries, under the same no-endpoint rule.</summary>
    internal static bool ExternalPolicyLocal(Service svc, bool noneAnywhere) => svc.ExternalTrafficPolicy == TrafficPolicy.Local && !noneAnywhere;

    static ServiceFlags Local(NodeInfo node, uint ip) => node.IsNodeAddress(ip) ? ServiceFlags.LocalAddress : ServiceFlags.None;

    internal static NodeInfo BuildNodeInfo(ClusterManifests m, Node node)
    {
        var addrs = new List<uint>();
        foreach (NodeAddress a in node.Addresses)
            if (a.IP is uint ip && !addrs.Contains(ip)) addrs.Add(ip);
        if (addrs.Count == 0)
            throw new ManifestException(node.SourceFile, $"Node {node.Name}", "status.addresses", "the node has no IPv4 address");
        uint primary = node.InternalIPs.Count > 0 ? node.InternalIPs[0] : addrs[0];
        // kube-proxy's "LOCAL" addresses are the node IPs plus 127.0.0.1 (iptables tracer in proxier_test.go).
        if (!addrs.Contains(Loopback)) addrs.Add(Loopback);
        Cidr4? pod = node.PodCIDR;
        KubeProxyConfig kp = m.ProxyConfig;
        Cidr4[] cluster = kp.DetectLocalMode == LocalDetectMode.NodeCIDR
            ? (pod is { } pc ? [pc] : [])
            : [.. kp.ClusterCIDRs];
        Cidr4[] serviceCidrs = [.. m.ServiceClusterIPRanges];
        return new NodeInfo(node.Name, primary, [.. addrs], pod, cluster, serviceCidrs, dropUnallocatedServiceIps: kp.Mode == ProxyMode.NFTables);
    }

    /// <summary>
    /// iptables mode without nodePortAddresses: every local address, 127.0.0.1 only with localhostNodePorts
    /// (TestNodePorts); with CIDRs, the node addresses inside them; nftables (or "primary"): the primary IP only.
    /// </summary>
    internal static IEnumerable<uint> NodePortAddresses(NodeInfo node, KubeProxyConfig kp)
    {
        bool localhost = kp.Mode == ProxyMode.IPTables && kp.LocalhostNodePorts;
        if (kp.NodePortAddressesPrimary || (kp.Mode == ProxyMode.NFTables && kp.NodePortAddresses.Count == 0))
        {
            yield return node.PrimaryAddress;
            yield break;
        }
        foreach (uint a in node.Addresses)
        {
            if (a == Loopback) { if (localhost && (kp.NodePortAddresses.Count == 0 || kp.NodePortAddresses.Any(c => c.Contains(a)))) yield return a; continue; }
            if (kp.NodePortAddresses.Count == 0 || kp.NodePortAddresses.Any(c => c.Contains(a))) yield return a;
        }
    }

    /// <summary>A service port's usable endpoints, cluster-wide and on this node, each with its own terminating fallback.</summary>
    internal readonly record struct ScopedEndpoints(uint[] All, uint[] Local);

    /// <summary>"namespace/name:port-name" (or the port number when unnamed): a service port's display name and id key.</summary>
    internal static string PortName(Service svc, ServicePort port) => $"{svc.Key}:{(port.Name.Length > 0 ? port.Name : port.Port.ToString())}";

    /// <summary>
    /// The endpoints of one service port: EndpointSlices labelled with the service's name (kube-proxy's
    /// endpointslicecache), or the legacy Endpoints object when the service has no slice. Ports are matched by the
    /// service port's name and protocol; the slice's port number is the DNAT target (targetPort reflected through the
    /// slice, TestClusterIPGeneral). Ready endpoints serve; serving-and-terminating ones only when none is ready
    /// (KEP-1669, TestTerminatingEndpointsTrafficPolicyCluster).
    /// </summary>
    internal static ScopedEndpoints Endpoints(ILookup<(string?, string?), EndpointSlice> slices, ILookup<(string?, string), Manifests.Endpoints> legacy,
        Service svc, ServicePort port, byte proto, string nodeName, string? zone, IBackendSink b, ushort revNat, TopologyReport? report = null)
    {
        var ready = new List<uint>();
        var readyHints = new List<TopologyCandidate>(); // the ready endpoints with their hints, for TopologyFilter
        var terminating = new List<uint>();
        var localIds = new HashSet<uint>();
        bool anySlice = false;
        foreach (EndpointSlice slice in slices[(svc.Namespace, svc.Name)])
        {
            anySlice = true;
            foreach (EndpointSlicePort sp in slice.Ports)
            {
                if (sp.Name != port.Name || sp.Port is not int target || ProtoOf(sp.Protocol) != proto) continue;
                foreach (SliceEndpoint ep in slice.Endpoints)
                    foreach (uint addr in ep.Addresses)
                    {
                        bool local = ep.NodeName == nodeName;
                        uint id;
                        if (ep.IsReady || svc.PublishNotReadyAddresses)
                        {
                            id = b.AddBackend(addr, (ushort)target, proto, BackendState.Active, local);
                            if (!ready.Contains(id))
                            {
                                ready.Add(id);
                                readyHints.Add(new TopologyCandidate(id, addr, (ushort)target, ep.ForZones, ep.ForNodes));
                            }
                        }
                        else if (ep.IsServing && ep.IsTerminating)
                            Add(terminating, id = b.AddBackend(addr, (ushort)target, proto, BackendState.Terminating, local));
                        else continue;
                        if (local) localIds.Add(id);
                        b.AddServing(revNat, addr);
                    }
            }
        }
        if (!anySlice)
        {
            foreach (Manifests.Endpoints eps in legacy[(svc.Namespace, svc.Name)])
            {
                foreach (EndpointSubset subset in eps.Subsets)
                    foreach (EndpointPort ep in subset.Ports)
                    {
                        if (ep.Name != port.Name || ProtoOf(ep.Protocol) != proto) continue;
                        foreach (EndpointAddress a in subset.Addresses)
                            AddLegacy(a);
                        if (svc.PublishNotReadyAddresses)
                            foreach (EndpointAddress a in subset.NotReadyAddresses)
                                AddLegacy(a);
                        void AddLegacy(EndpointAddress a)
                        {
                            uint id = b.AddBackend(a.IP, (ushort)ep.Port, proto, BackendState.Active, a.NodeName == nodeName);
                            if (!ready.Contains(id))
                            {
                                ready.Add(id);
                                readyHints.Add(new TopologyCandidate(id, a.IP, (ushort)ep.Port, [], [])); // Endpoints have no hints
                            }
                            if (a.NodeName == nodeName) localIds.Add(id);
                            b.AddServing(revNat, a.IP);
                        }
                    }
            }
        }
        // Terminating fallback per scope (TestTerminatingEndpointsTrafficPolicyLocal): each scope uses its ready
        // endpoints, or its serving-terminating ones when it has no ready endpoint.
        // Topology narrows the cluster scope's ready endpoints first (kube-proxy CategorizeEndpoints); a chosen mode
        // always keeps one, so the terminating fallback below is reached only when nothing is ready anywhere.
        var (clusterReady, decision) = TopologyFilter.Decide(PortName(svc, port), readyHints, nodeName, zone);
        if (report is not null && (decision.AnyHints || svc.TrafficDistribution is not null || svc.TopologyMode is not null))
            report.Add(decision);
        uint[] all = clusterReady.Length > 0 ? clusterReady : [.. terminating];
        uint[] localReady = [.. ready.Where(localIds.Contains)];
        uint[] onNode = localReady.Length > 0 ? localReady : [.. terminating.Where(localIds.Contains)];
        return new ScopedEndpoints(all, onNode);
    }

    /// <summary>
    /// loadBalancerSourceRanges, and the LB IPs themselves when a node IP falls inside a range (TestLoadBalancer
    /// "same node to LB, SNATted").
    /// </summary>
    internal static SourceRangeSet? SourceRanges(Service svc, NodeInfo node)
    {
        if (svc.LoadBalancerSourceRanges.Count == 0) return null;
        Cidr4[] ranges = [.. svc.LoadBalancerSourceRanges];
        bool nodeInside = node.Addresses.Any(a => a != Loopback && ranges.Any(r => r.Contains(a)));
        uint[] lbIps = nodeInside ? [.. svc.LoadBalancerIngress.Select(i => i.IP)] : [];
        return new SourceRangeSet(ranges, lbIps);
    }

    static void Add(List<uint> list, uint id)
    {
        if (!list.Contains(id)) list.Add(id);
    }

    internal static byte ProtoOf(PortProtocol p) => p switch
    {
        PortProtocol.UDP => IpProto.Udp,
        PortProtocol.SCTP => IpProto.Sctp,
        _ => IpProto.Tcp,
    };
}
