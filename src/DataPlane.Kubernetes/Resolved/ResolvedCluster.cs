using DataPlane.Dns;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Inventory;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Packets;

namespace DataPlane.Kubernetes.Resolved;

/// <summary>
/// The cluster as its controllers leave it, worked out once per generation from the manifests: nodes (emulated ones
/// included), workloads expanded into pods, pods scheduled and addressed, the services every cluster has
/// (<see cref="EmulatedServices"/>), cluster IPs, node ports and load-balancer addresses allocated, EndpointSlices as
/// the controller writes them with their pod links, the DNS zone, and what the kubelet puts in each pod's environment.
/// <para>
/// Every consumer reads this one model — the map compiler (<see cref="ClusterCompiler"/>), <c>dns</c> and <c>--from</c>,
/// <c>trace</c>'s why, <c>cluster</c>, <c>env</c>, <c>maps</c>, reloads — and nothing else expands workloads, allocates
/// addresses or builds endpoints, so two views cannot disagree about the cluster. Immutable once built; safe to read
/// from any thread.
/// </para>
/// </summary>
public sealed class ResolvedCluster
{
    readonly Dictionary<string, Service> _services = new(StringComparer.Ordinal);
    readonly Dictionary<(string, string), Pod> _pods = [];
    readonly Dictionary<(string, uint), Pod?> _podByIp = []; // null: several pods of the namespace hold the address
    readonly Dictionary<uint, Node> _nodeByAddress = [];
    readonly Dictionary<string, (Service Service, int Port)> _servicePorts = new(StringComparer.Ordinal);
    readonly ILookup<(string?, string?), EndpointSlice> _slices;
    readonly ILookup<(string?, string), Endpoints> _legacy;
    readonly Dictionary<string, IReadOnlyList<EndpointEntry>> _endpoints = new(StringComparer.Ordinal);
    ClusterInventory? _inventory;

    ResolvedCluster(ClusterManifests expanded, CompileOptions options, long generation, Allocator allocator,
        IReadOnlyList<EndpointSlice> slices, DnsZone dns)
    {
        Manifests = expanded;
        Options = options;
        Generation = generation;
        Allocator = allocator;
        Slices = slices;
        Dns = dns;
        _slices = slices.ToLookup(s => (s.Namespace, s.ServiceName));
        _legacy = expanded.Endpoints.ToLookup(e => (e.Namespace, e.Name));
        foreach (Service s in expanded.Services)
        {
            _services.TryAdd(s.Key, s);
            for (int i = 0; i < s.Ports.Count; i++) _servicePorts.TryAdd(ClusterCompiler.PortName(s, s.Ports[i]), (s, i));
        }
        foreach (Pod p in expanded.Pods)
        {
            string ns = p.Namespace ?? "default";
            _pods.TryAdd((ns, p.Name), p);
            foreach (uint ip in p.PodIPs.Count > 0 ? p.PodIPs : p.PodIP is uint one ? [one] : [])
                _podByIp[(ns, ip)] = _podByIp.ContainsKey((ns, ip)) ? null : p;
        }
        foreach (Node n in expanded.Nodes)
            foreach (NodeAddress a in n.Addresses)
                if (a.IP is uint ip) _nodeByAddress.TryAdd(ip, n);
    }

    /// <summary>
    /// Resolves <paramref name="manifests"/> (as loaded) under <paramref name="options"/>. Throws
    /// <see cref="ManifestException"/> for what the API server would refuse (a cluster IP or node port taken twice).
    /// The controllers' warnings go to <see cref="CompileOptions.Warn"/>.
    /// </summary>
    /// <param name="cancel">
    /// Checked in the loops over pods, services and endpoints (the expander, the endpoints controller, the DNS zone):
    /// a reload that a newer one or SIGTERM abandons throws <see cref="OperationCanceledException"/> within
    /// microseconds, and nothing is published.
    /// </param>
    public static ResolvedCluster Resolve(ClusterManifests manifests, CompileOptions? options = null, long generation = 1, CancellationToken cancel = default)
    {
        options ??= new CompileOptions();
        // Workloads become pods, nodes and LoadBalancer addresses are filled in, as the cluster's controllers would.
        ClusterManifests m = WorkloadExpander.Expand(manifests, options.LoadBalancerPool, options.Warn, cancel);
        cancel.ThrowIfCancellationRequested();
        var allocator = new Allocator(m, options.NodePortMin, options.NodePortMax);
        // Services with a selector get their endpoints from the Pods, as the EndpointSlice controller would make them.
        // IPv6 slices (written ones: the controller makes none) are kept for listing, not used by the IPv4 data plane.
        IReadOnlyList<EndpointSlice> all = [.. m.EndpointSlices.Concat(EndpointsController.Build(m, options.Warn,
            s => allocator.Families(s).Has(IPFamily.IPv4), cancel))];
        IReadOnlyList<EndpointSlice> slices = [.. all.Where(s => s.IsIPv4)];
        FamilyNotices(m, allocator, all, options.Warn);
        ILookup<(string?, string?), EndpointSlice> byService = slices.ToLookup(s => (s.Namespace, s.ServiceName));
        ILookup<(string?, string), Endpoints> legacy = m.Endpoints.ToLookup(e => (e.Namespace, e.Name));
        DnsZone dns = DnsZoneCompiler.Compile(m, options.Dns, allocator, byService, legacy, generation, options.Warn, cancel);
        return new ResolvedCluster(m, options, generation, allocator, slices, dns) { OtherFamilySlices = [.. all.Where(s => !s.IsIPv4)] };
    }

    /// <summary>
    /// One notice per kind of IPv6 thing the control plane resolves but the IPv4 data plane does not emulate yet: the
    /// IPv6 half of dual-stack services, IPv6-only services, IPv6 EndpointSlices. Never a refusal.
    /// </summary>
    static void FamilyNotices(ClusterManifests m, Allocator allocator, IReadOnlyList<EndpointSlice> slices, Action<string>? warn)
    {
        if (warn is null) return;
        var dual = new List<string>();
        var v6Only = new List<string>();
        foreach (Service s in m.Services)
        {
            if (s.ClusterIPMode == ClusterIPMode.Headless) continue; // no cluster IP: DNS-only, nothing to emulate per family
            ServiceFamilies f = allocator.Families(s);
            if (f.IsDualStack) dual.Add(s.Key);
            else if (f.IsIPv6Only) v6Only.Add(s.Key);
        }
        static string List(List<string> keys) => string.Join(", ", keys.Take(5)) + (keys.Count > 5 ? ", …" : "");
        static string Plural(int n, string one) => $"{n} {one}{(n == 1 ? "" : "s")}";
        if (dual.Count > 0)
            warn($"{Plural(dual.Count, "dual-stack service")} ({List(dual)}): the IPv4 cluster IP gets rules; the IPv6 one is allocated and listed but gets no rules in the data plane yet");
        if (v6Only.Count > 0)
            warn($"{Plural(v6Only.Count, "IPv6-only service")} ({List(v6Only)}): listed with the IPv6 cluster IP, no rules in the data plane yet (IPv4 only)");
        var v6Slices = slices.Where(s => !s.IsIPv4).Select(s => $"{s.Namespace ?? "default"}/{s.Name}").ToList();
        if (v6Slices.Count > 0)
            warn($"{Plural(v6Slices.Count, "EndpointSlice")} of addressType IPv6 ({List(v6Slices)}): kept and listed, not used by the IPv4 data plane");
    }

    /// <summary>The manifests with everything the controllers add (<see cref="ClusterManifests.Expanded"/>).</summary>
    public ClusterManifests Manifests { get; }
    public CompileOptions Options { get; }
    public long Generation { get; }

    /// <summary>Cluster IPs and node ports, as written or allocated.</summary>
    public Allocator Allocator { get; }

    public IReadOnlyList<Node> Nodes => Manifests.Nodes;
    public IReadOnlyList<Pod> Pods => Manifests.Pods;
    public IReadOnlyList<Service> Services => Manifests.Services;

    /// <summary>Every IPv4 EndpointSlice: the manifests' own, the API server's, then the endpoints controller's.</summary>
    public IReadOnlyList<EndpointSlice> Slices { get; }

    /// <summary>The manifests' EndpointSlices of addressType IPv6 (and FQDN): kept for listing, not used by the data plane.</summary>
    public IReadOnlyList<EndpointSlice> OtherFamilySlices { get; private init; } = [];

    /// <summary>The cluster DNS zone (CoreDNS's kubernetes plugin's view of this cluster).</summary>
    public DnsZone Dns { get; }

    /// <summary>The EndpointSlices of <paramref name="svc"/> (labelled with its name).</summary>
    public IEnumerable<EndpointSlice> SlicesOf(Service svc) => _slices[(svc.Namespace, svc.Name)];

    /// <summary>Lookups by service for the compilers: slices by (namespace, service name), legacy Endpoints by (namespace, name).</summary>
    public ILookup<(string?, string?), EndpointSlice> SliceLookup => _slices;
    public ILookup<(string?, string), Endpoints> LegacyLookup => _legacy;

    public Service? Service(string key) => _services.GetValueOrDefault(key);

    /// <summary>The service and port index a compiled service port's display name ("ns/name:port") stands for.</summary>
    public (Service Service, ServicePort Port)? ServicePort(string? displayName) =>
        displayName is not null && _servicePorts.TryGetValue(displayName, out var sp) ? (sp.Service, sp.Service.Ports[sp.Port]) : null;

    public Pod? Pod(string ns, string name) => _pods.GetValueOrDefault((ns, name));

    public Node? Node(string name) => Nodes.FirstOrDefault(n => n.Name == name);

    /// <summary>The node named <paramref name="name"/>, or the one error every command gives for a node the cluster lacks.</summary>
    public Node RequireNode(string name) => Node(name)
        ?? throw new ManifestException(Manifests.Files.Count == 1 ? Manifests.Files[0] : "manifests", $"Node {name}", null,
            $"no Node named '{name}' in the manifests (found: {(Nodes.Count == 0 ? "none" : string.Join(", ", Nodes.Select(n => n.Name)))})");

    /// <summary>The IPv4 cluster IP as written or allocated; null for headless, ExternalName and IPv6-only services.</summary>
    public uint? ClusterIp(Service s) => Allocator.ClusterIpOrNull(s);

    /// <summary>
    /// ipFamilyPolicy, ipFamilies and clusterIPs as the API server stores them (<c>kubectl get svc -o yaml</c>): both
    /// families of a dual-stack service, primary first.
    /// </summary>
    public ServiceFamilies Families(Service s) => Allocator.Families(s);

    /// <summary>The node port of <c>s.Ports[i]</c> as written or allocated; null when it has none.</summary>
    public int? NodePort(Service s, int i) => Allocator.NodePortOrNull(s, i);

    public int? HealthCheckNodePort(Service s) => Allocator.HealthCheckNodePort(s);

    /// <summary>
    /// The node where <paramref name="address"/> lives: a node's own address, or the node a pod with that IP runs on
    /// (hostNetwork pods share their node's address). Null for an address outside the cluster.
    /// </summary>
    public Node? NodeOfAddress(uint address)
    {
        if (_nodeByAddress.TryGetValue(address, out Node? n)) return n;
        foreach (Pod p in Pods)
            if (p.PodIP == address && p.NodeName is { } name) return Node(name);
        return null;
    }

    /// <summary>
    /// The pod an endpoint address is: its targetRef when the slice names one (the controller always does), else the
    /// one pod of the namespace holding the address (none when several do: hostNetwork pods share their node's).
    /// </summary>
    public Pod? PodOfEndpoint(string? ns, uint address, string? podName)
    {
        string n = ns ?? "default";
        if (podName is not null) return Pod(n, podName);
        // Ambiguous (hostNetwork pods share their node's address): say nothing rather than the wrong pod.
        return _podByIp.GetValueOrDefault((n, address));
    }

    /// <summary>
    /// A service's endpoints as <c>kubectl get endpointslices</c> lists them, one row per (address, port), with the pod
    /// each address is; from its EndpointSlices, else its legacy Endpoints object (as kube-proxy reads them).
    /// </summary>
    public IReadOnlyList<EndpointEntry> Endpoints(Service svc)
    {
        lock (_endpoints)
        {
            if (_endpoints.TryGetValue(svc.Key, out var cached)) return cached;
            var rows = new List<EndpointEntry>();
            if (svc.Type != ServiceType.ExternalName)
            {
                var own = SlicesOf(svc).ToArray();
                foreach (EndpointSlice slice in own)
                    foreach (SliceEndpoint e in slice.Endpoints)
                        foreach (uint ip in e.Addresses)
                        {
                            string? pod = PodOfEndpoint(svc.Namespace, ip, e.PodName)?.Name;
                            if (slice.Ports.Count == 0)
                                rows.Add(new EndpointEntry(Ip4.Format(ip), null, null, e.IsReady, e.IsServing, e.IsTerminating, e.NodeName, pod));
                            foreach (EndpointSlicePort sp in slice.Ports)
                                rows.Add(new EndpointEntry(Ip4.Format(ip), sp.Port, sp.Name, e.IsReady, e.IsServing, e.IsTerminating, e.NodeName, pod));
                        }
                // IPv6 slices: listed as kubectl lists them, never used by the IPv4 data plane.
                foreach (EndpointSlice slice in OtherFamilySlices.Where(s => s.Namespace == svc.Namespace && s.ServiceName == svc.Name))
                    foreach (SliceEndpoint e in slice.IPv6Endpoints)
                        foreach (string ip in e.AddressTexts)
                        {
                            string? pod = e.PodName is { } p ? Pod(svc.Namespace ?? "default", p)?.Name : null;
                            if (slice.Ports.Count == 0)
                                rows.Add(new EndpointEntry(ip, null, null, e.IsReady, e.IsServing, e.IsTerminating, e.NodeName, pod));
                            foreach (EndpointSlicePort sp in slice.Ports)
                                rows.Add(new EndpointEntry(ip, sp.Port, sp.Name, e.IsReady, e.IsServing, e.IsTerminating, e.NodeName, pod));
                        }
                if (own.Length == 0)
                    foreach (Endpoints ep in _legacy[(svc.Namespace, svc.Name)])
                        foreach (EndpointSubset sub in ep.Subsets)
                            foreach (var (a, ready) in sub.Addresses.Select(a => (a, true)).Concat(sub.NotReadyAddresses.Select(a => (a, false))))
                                foreach (EndpointPort port in sub.Ports)
                                    rows.Add(new EndpointEntry(Ip4.Format(a.IP), port.Port, port.Name, ready, ready, false, a.NodeName,
                                        PodOfEndpoint(svc.Namespace, a.IP, a.PodName)?.Name));
            }
            _endpoints[svc.Key] = rows;
            return rows;
        }
    }

    /// <summary>What <c>kubectl get nodes,pods,svc,endpointslices</c> would list: the same facts, as rows.</summary>
    public ClusterInventory Inventory => _inventory ??= ClusterInventory.From(this);

    /// <summary>
    /// The service variables the kubelet gives <paramref name="pod"/> (<see cref="ServiceEnvironment"/>): the services
    /// that existed when it was created, none when it disables service links.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> Environment(Pod pod) => ServiceEnvironment.For(this, pod);

    /// <summary>The service variables a new pod in <paramref name="ns"/> gets (every service of the namespace).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Environment(string ns) => ServiceEnvironment.For(this, ns);
}
