using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Kubernetes.Resolved;

/// <summary>
/// What Kubernetes promises each client of a node's Services, read from the resolved cluster: the frontends the node
/// serves (cluster IPs, node ports on the node's node-port addresses, load-balancer ingress IPs, external IPs), and for
/// a client address the outcome, the usable endpoints, and whether the client address is kept.
/// <para>
/// Every fact comes from where the map compile takes it: the endpoint sets per scope from
/// <see cref="ClusterCompiler.Endpoints"/> (readiness, terminating fallback, topology), the traffic-policy decisions from
/// <see cref="ClusterCompiler.InternalPolicyLocal"/> and <see cref="ClusterCompiler.ExternalPolicyLocal"/>, the node's
/// addresses and cluster CIDRs from its <see cref="NodeInfo"/>, node-port addresses and source ranges as compiled. What
/// this class adds is Kubernetes' documented promise per client kind (the Service docs' "Traffic policies" and "Source
/// IP" pages, kube-proxy's TestInternalExternalMasquerade), which <c>lab check</c> holds the live data plane to.
/// </para>
/// </summary>
public sealed class ServicePromises
{
    readonly ResolvedCluster _c;
    readonly string _node;
    readonly NodeInfo _info;
    readonly Dictionary<(string, int), ClusterCompiler.ScopedEndpoints> _eps = [];
    readonly Dictionary<(string, int), Recorder> _recorders = [];

    public ServicePromises(ResolvedCluster cluster, string nodeName)
    {
        _c = cluster;
        _node = nodeName;
        _info = ClusterCompiler.BuildNodeInfo(cluster.Manifests, cluster.RequireNode(nodeName));
        Frontends = [.. Enumerate()];
    }

    /// <summary>The node's frontends, in service order (TCP and UDP ports; SCTP is left out: the lab's clients speak TCP and UDP).</summary>
    public IReadOnlyList<ServiceFrontend> Frontends { get; }

    /// <summary>The node's primary address (the NodePort a reader types).</summary>
    public uint NodeAddress => _info.PrimaryAddress;

    /// <summary>The node's addresses (127.0.0.1, which kube-proxy counts as local, left out).</summary>
    public IEnumerable<uint> NodeAddresses => _info.Addresses.Where(a => a != 0x7F000001);

    /// <summary>The cluster CIDRs of kube-proxy's local-traffic detector (empty: none known).</summary>
    public Cidr4[] ClusterCidrs => _info.ClusterCidrs;

    /// <summary>Whether <paramref name="address"/> is inside the cluster CIDR kube-proxy's local-traffic detector uses.</summary>
    public bool InCluster(uint address) => _info.InClusterCidr(address);

    IEnumerable<ServiceFrontend> Enumerate()
    {
        KubeProxyConfig kp = _c.Manifests.ProxyConfig;
        foreach (Service svc in _c.Services)
        {
            if (_c.ClusterIp(svc) is not uint clusterIp) continue;
            for (int i = 0; i < svc.Ports.Count; i++)
            {
                ServicePort p = svc.Ports[i];
                if (p.Protocol is not (PortProtocol.TCP or PortProtocol.UDP)) continue;
                yield return new ServiceFrontend(svc, i, FrontendKind.ClusterIP, clusterIp, p.Port, p.Protocol);
                if (svc.Type is ServiceType.NodePort or ServiceType.LoadBalancer && _c.NodePort(svc, i) is int np)
                    foreach (uint a in ClusterCompiler.NodePortAddresses(_info, kp))
                        if (a != 0x7F000001) yield return new ServiceFrontend(svc, i, FrontendKind.NodePort, a, np, p.Protocol);
                if (svc.Type == ServiceType.LoadBalancer)
                    foreach (LoadBalancerIngress ing in svc.LoadBalancerIngress)
                        if (ing.IPMode != LoadBalancerIPMode.Proxy)
                            yield return new ServiceFrontend(svc, i, FrontendKind.LoadBalancer, ing.IP, p.Port, p.Protocol);
                foreach (uint ip in svc.ExternalIPs)
                    yield return new ServiceFrontend(svc, i, FrontendKind.ExternalIP, ip, p.Port, p.Protocol);
            }
        }
    }

    /// <summary>What a new connection from <paramref name="client"/> to <paramref name="f"/> is promised.</summary>
    public ServicePromise For(ServiceFrontend f, uint client)
    {
        Service svc = f.Service;
        ClusterCompiler.ScopedEndpoints eps = EndpointsOf(f, out Recorder rec);
        bool noneAnywhere = eps.All.Length == 0;
        bool affinity = svc.SessionAffinity == SessionAffinity.ClientIP;
        bool masqueradeAll = _c.Manifests.ProxyConfig.MasqueradeAll;
        if (noneAnywhere)
            return new ServicePromise(PromisedOutcome.Refused, [], false, false, "no usable endpoint anywhere: the node rejects");
        bool offCluster = _info.ClusterCidrs.Length != 0 && !_info.InClusterCidr(client);
        if (f.Kind == FrontendKind.ClusterIP)
        {
            bool local = ClusterCompiler.InternalPolicyLocal(svc, noneAnywhere);
            uint[] set = local ? eps.Local : eps.All;
            if (set.Length == 0)
                return new ServicePromise(PromisedOutcome.TimedOut, [], false, false, "internalTrafficPolicy Local and no endpoint on this node: dropped");
            bool kept = !masqueradeAll && !offCluster;
            return new ServicePromise(PromisedOutcome.Served, rec.Addresses(set), kept, affinity,
                (local ? "internalTrafficPolicy Local: this node's endpoints" : "every ready endpoint") +
                (kept ? ", client address kept" : masqueradeAll ? ", masqueradeAll" : ", masqueraded (source outside the cluster CIDR)"));
        }
        if (f.Kind == FrontendKind.LoadBalancer && ClusterCompiler.SourceRanges(svc, _info) is { } ranges && !ranges.Allows(client))
            return new ServicePromise(PromisedOutcome.TimedOut, [], false, false, "source outside loadBalancerSourceRanges: dropped");
        if (!ClusterCompiler.ExternalPolicyLocal(svc, noneAnywhere))
            return new ServicePromise(PromisedOutcome.Served, rec.Addresses(eps.All), false, affinity,
                "externalTrafficPolicy Cluster: every ready endpoint, source masqueraded");
        if (_info.UsesInternalScope(client))
        {
            bool kept = !_info.IsNodeAddress(client) && !offCluster;
            return new ServicePromise(PromisedOutcome.Served, rec.Addresses(eps.All), kept, affinity,
                "externalTrafficPolicy Local, but a pod or node source: every ready endpoint" + (kept ? ", client address kept" : ", masqueraded"));
        }
        if (eps.Local.Length == 0)
            return new ServicePromise(PromisedOutcome.TimedOut, [], false, false, "externalTrafficPolicy Local and no endpoint on this node: dropped");
        return new ServicePromise(PromisedOutcome.Served, rec.Addresses(eps.Local), true, affinity,
            "externalTrafficPolicy Local: this node's endpoints, client address kept");
    }

    /// <summary>Each service port's endpoint sets, worked out once; safe to call from several threads (lab check's probes).</summary>
    ClusterCompiler.ScopedEndpoints EndpointsOf(ServiceFrontend f, out Recorder rec)
    {
        lock (_eps) return EndpointsOfLocked(f, out rec);
    }

    ClusterCompiler.ScopedEndpoints EndpointsOfLocked(ServiceFrontend f, out Recorder rec)
    {
        var key = (f.Service.Key, f.PortIndex);
        if (_eps.TryGetValue(key, out var eps))
        {
            rec = _recorders[key];
            return eps;
        }
        rec = new Recorder();
        byte proto = ClusterCompiler.ProtoOf(f.Protocol);
        eps = ClusterCompiler.Endpoints(_c.SliceLookup, _c.LegacyLookup, f.Service, f.ServicePort, proto, _node, _c.RequireNode(_node).Zone, rec, 1);
        _eps[key] = eps;
        _recorders[key] = rec;
        return eps;
    }

    /// <summary>Collects the endpoints the compile's endpoint code registers, so its ids can be read back as addresses.</summary>
    sealed class Recorder : IBackendSink
    {
        readonly List<(uint Address, int Port)> _backends = [];

        public uint AddBackend(uint address, ushort port, byte proto, BackendState state = BackendState.Active, bool local = false)
        {
            int i = _backends.IndexOf((address, port));
            if (i < 0)
            {
                _backends.Add((address, port));
                i = _backends.Count - 1;
            }
            return (uint)i + 1;
        }

        public void AddServing(ushort revNatIndex, uint address) { }

        public IReadOnlyList<(uint Address, int Port)> Addresses(uint[] ids) => [.. ids.Select(id => _backends[(int)id - 1])];
    }
}
