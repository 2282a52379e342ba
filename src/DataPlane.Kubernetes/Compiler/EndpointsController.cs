using DataPlane.Kubernetes.Manifests;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// What kube-controller-manager's EndpointSlice controller writes for services with a selector, computed from the Pods
/// in the manifests (upstream <c>k8s.io/endpointslice</c> reconciler: <c>reconcileByAddressType</c>, <c>podToEndpoint</c>,
/// <c>getEndpointPorts</c>, <c>FindPort</c>; <c>ShouldPodBeInEndpoints</c>). IPv4 slices only, like the rest of the model.
/// <list type="bullet">
/// <item>Services: a selector, not ExternalName, not IPv6-only. Headless services get slices too (DNS uses them).</item>
/// <item>Pods: same namespace, labels matching every selector pair, not Succeeded/Failed, with an IPv4 pod IP
/// (hostNetwork pods included, with their pod IP = the node's IP), scheduled on a Node present in the manifests —
/// upstream skips pods whose node is unknown unless publishNotReadyAddresses is set (reported through <c>warn</c>).</item>
/// <item>Conditions: serving = pod Ready; terminating = deletionTimestamp set; ready = serving and not terminating,
/// or always true with publishNotReadyAddresses. Not-ready pods stay in the slice with ready false.</item>
/// <item>Ports: one per service port, named like it; a numeric targetPort is used as is, a named one is looked up per
/// pod among its container ports by name and protocol, and the pod simply lacks that port when it has no match. Pods are
/// grouped by their resulting port list, one group of slices per distinct list (so two pods mapping "http" to different
/// numbers land in different slices), at most 100 endpoints per slice (the default --max-endpoints-per-slice).</item>
/// <item>Zone: the node's <c>topology.kubernetes.io/zone</c> label; hints as <see cref="TopologyHints"/> describes.</item>
/// <item>A service with no endpoint gets one empty placeholder slice, as upstream.</item>
/// </list>
/// Deliberate differences: slice names are "&lt;service&gt;-&lt;n&gt;" (n from 1, in order) instead of a random
/// generateName suffix, groups and endpoints follow manifest order instead of Go map order, and a service that already
/// has a hand-written EndpointSlice (any slice labelled with its name) or a legacy Endpoints object of its name gets
/// nothing from here: the manifests' author said what the endpoints are, and that wins. (Upstream would add its own
/// slices next to a foreign one, and would overwrite an Endpoints object of a selector service.)
/// </summary>
public static class EndpointsController
{
    public const string ServiceNameLabel = "kubernetes.io/service-name";
    public const string ManagedByLabel = "endpointslice.kubernetes.io/managed-by";
    public const string ControllerName = "endpointslice-controller.k8s.io";
    public const string HeadlessLabel = "service.kubernetes.io/headless";
    public const int MaxEndpointsPerSlice = 100;

    /// <summary>
    /// The controller-made slices for every eligible service, services in manifest order. <paramref name="warn"/> gets one
    /// line per pod skipped because its node is not in the manifests (upstream logs "skipping Pod for Service, Node not found").
    /// </summary>
    /// <param name="cancel">Checked per service and every 256 pods (an abandoned reload stops here).</param>
    /// <param name="hasIPv4">
    /// Whether a service's resolved IP families include IPv4 (<see cref="Allocator.Families"/>): the controller writes
    /// one slice address type per family of the service (<c>getAddressTypesForService</c>), and only IPv4 pod IPs are
    /// modelled, so an IPv6-only service gets no slice. Null: every service but those written IPv6-only.
    /// </param>
    public static IReadOnlyList<EndpointSlice> Build(ClusterManifests m, Action<string>? warn = null, Func<Service, bool>? hasIPv4 = null, CancellationToken cancel = default)
    {
        hasIPv4 ??= s => s.ClusterIPMode != ClusterIPMode.OtherFamily;
        var result = new List<EndpointSlice>();
        var nodes = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (Node n in m.Nodes) nodes.TryAdd(n.Name, n);
        // A user-managed slice or Endpoints object wins over the controller: see the class comment.
        var userManaged = new HashSet<(string?, string)>();
        foreach (EndpointSlice s in m.EndpointSlices)
            if (s.ServiceName is not null) userManaged.Add((s.Namespace, s.ServiceName));
        foreach (Endpoints e in m.Endpoints)
            userManaged.Add((e.Namespace, e.Name));

        // Pods indexed by (namespace, label key, label value), in manifest order: a service only looks at the pods
        // carrying the rarest of its selector's labels, so 1 k services over 10 k pods do not make 10 M label matches.
        var byLabel = new Dictionary<(string?, string, string), List<Pod>>();
        foreach (Pod p in m.Pods)
            foreach (var (key, value) in p.Labels)
            {
                if (!byLabel.TryGetValue((p.Namespace, key, value), out var list)) byLabel[(p.Namespace, key, value)] = list = [];
                list.Add(p);
            }
        foreach (Service svc in m.Services)
        {
            cancel.ThrowIfCancellationRequested();
            if (svc.Selector is null || svc.Type == ServiceType.ExternalName || !hasIPv4(svc))
                continue;
            if (userManaged.Contains((svc.Namespace, svc.Name)))
                continue;
            List<Pod>? candidates = null;
            foreach (var (key, value) in svc.Selector)
            {
                List<Pod> withLabel = byLabel.GetValueOrDefault((svc.Namespace, key, value)) ?? [];
                if (candidates is null || withLabel.Count < candidates.Count) candidates = withLabel;
            }
            BuildService(candidates ?? [], svc, nodes, m.Nodes, warn, result, cancel);
        }
        return result;
    }

    static void BuildService(IEnumerable<Pod> pods, Service svc, Dictionary<string, Node> nodes, IReadOnlyList<Node> allNodes, Action<string>? warn,
        List<EndpointSlice> result, CancellationToken cancel)
    {
        // Port list → endpoints (with the pod each came from), in order of first appearance.
        var groups = new List<(EndpointSlicePort[] Ports, List<(SliceEndpoint Endpoint, Pod Pod)> Endpoints)>();
        int seen = 0;
        foreach (Pod pod in pods)
        {
            if ((seen++ & 255) == 0) cancel.ThrowIfCancellationRequested();
            if (!Matches(svc.Selector!, pod.Labels)) continue;
            if (pod.Phase is PodPhase.Succeeded or PodPhase.Failed) continue;
            if (pod.PodIP is not uint ip) continue; // no IPv4 address: nothing to put in an IPv4 slice
            if (!nodes.TryGetValue(pod.NodeName ?? "", out Node? node) && !svc.PublishNotReadyAddresses)
            {
                warn?.Invoke($"skipping Pod {pod.Key} for Service {svc.Key}: Node '{pod.NodeName}' not found");
                continue;
            }

            EndpointSlicePort[] ports = PortsFor(svc, pod);
            int g = groups.FindIndex(x => x.Ports.AsSpan().SequenceEqual(ports));
            if (g < 0) { groups.Add((ports, [])); g = groups.Count - 1; }

            bool serving = pod.Ready;
            bool terminating = pod.Terminating;
            groups[g].Endpoints.Add((new SliceEndpoint
            {
                Addresses = [ip],
                Ready = svc.PublishNotReadyAddresses || (serving && !terminating),
                Serving = serving,
                Terminating = terminating,
                NodeName = string.IsNullOrEmpty(pod.NodeName) ? null : pod.NodeName,
                // podToEndpoint: the zone is the node's topology.kubernetes.io/zone label, when it has one.
                Zone = node is not null && node.Labels.TryGetValue(Node.ZoneLabel, out string? zone) ? zone : null,
                // endpointutil.ShouldSetHostname: spec.hostname set and spec.subdomain names this service.
                Hostname = !string.IsNullOrEmpty(pod.Hostname) && pod.Subdomain == svc.Name ? pod.Hostname : null,
                PodName = pod.Name, // podToEndpoint: targetRef {kind: Pod, name, namespace, uid}
            }, pod));
        }

        // Hints over all of the service's endpoints, in slice order (TopologyHints: trafficDistribution or topology-mode Auto).
        SliceEndpoint[] hinted = TopologyHints.Apply(svc, [.. groups.SelectMany(g => g.Endpoints.Select(e => e.Endpoint))], allNodes, out string? why);
        if (why is not null) warn?.Invoke($"Service {svc.Key}: topology-aware hints not written: {why}");
        int k = 0;
        foreach (var g in groups)
            for (int i = 0; i < g.Endpoints.Count; i++)
                g.Endpoints[i] = (hinted[k++], g.Endpoints[i].Pod);

        var labels = new Dictionary<string, string>
        {
            [ServiceNameLabel] = svc.Name,
            [ManagedByLabel] = ControllerName,
        };
        if (svc.ClusterIPMode == ClusterIPMode.Headless) labels[HeadlessLabel] = "";

        int n = 0;
        foreach (var (ports, endpoints) in groups)
            for (int start = 0; start < endpoints.Count; start += MaxEndpointsPerSlice)
            {
                var chunk = endpoints.GetRange(start, Math.Min(MaxEndpointsPerSlice, endpoints.Count - start));
                Pod first = chunk[0].Pod;
                result.Add(Slice(svc, ++n, first.SourceFile, first.Document, ports, [.. chunk.Select(c => c.Endpoint)], labels));
            }
        // No endpoint at all: upstream keeps one placeholder slice with no ports and no endpoints.
        if (n == 0)
            result.Add(Slice(svc, 1, svc.SourceFile, svc.Document, [], [], labels));
    }

    static EndpointSlice Slice(Service svc, int n, string file, int document, EndpointSlicePort[] ports, SliceEndpoint[] endpoints,
        Dictionary<string, string> labels) => new()
        {
            Name = $"{svc.Name}-{n}",
            Namespace = svc.Namespace,
            SourceFile = file,
            Document = document,
            ServiceName = svc.Name,
            AddressType = EndpointAddressType.IPv4,
            Ports = ports,
            Endpoints = endpoints,
            Labels = new Dictionary<string, string>(labels),
        };

    static bool Matches(IReadOnlyDictionary<string, string> selector, IReadOnlyDictionary<string, string> labels)
    {
        foreach (var (key, value) in selector)
            if (!labels.TryGetValue(key, out string? v) || v != value) return false;
        return true;
    }

    /// <summary>getEndpointPorts: one entry per service port the pod can serve, in service-port order.</summary>
    static EndpointSlicePort[] PortsFor(Service svc, Pod pod)
    {
        var ports = new List<EndpointSlicePort>(svc.Ports.Count);
        foreach (ServicePort sp in svc.Ports)
            if (FindPort(pod, sp) is int number)
                ports.Add(new EndpointSlicePort { Name = sp.Name, Port = number, Protocol = sp.Protocol });
        return [.. ports];
    }

    /// <summary>
    /// podutil FindPort: a numeric targetPort as is; a named one is the first container port with that name and the
    /// service port's protocol, or none.
    /// </summary>
    public static int? FindPort(Pod pod, ServicePort port)
    {
        if (!port.TargetPort.IsNamed) return port.TargetPort.Number;
        foreach (ContainerPort cp in pod.ContainerPorts)
            if (cp.Name == port.TargetPort.Name && cp.Protocol == port.Protocol) return cp.Port;
        return null;
    }
}
