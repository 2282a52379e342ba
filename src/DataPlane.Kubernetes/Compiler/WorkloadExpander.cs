using DataPlane.Kubernetes.Manifests;
using DataPlane.Packets;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// Turns the manifests into what a running cluster would hold: the controllers make pods from the workloads, the
/// scheduler places them, the CNI's host-local IPAM gives them addresses, the kubelet reports them ready; nodes come
/// from <see cref="DefaultTopology"/> when the manifests hold none, LoadBalancer services get addresses from
/// <see cref="LoadBalancerAllocator"/>. Everything is deterministic: the same manifests give the same pod names,
/// nodes and IPs.
/// <list type="bullet">
/// <item>Controllers: a Deployment makes a ReplicaSet <c>&lt;deploy&gt;-&lt;pod-template-hash&gt;</c> whose pods are
/// <c>&lt;rs&gt;-&lt;5 chars&gt;</c> with the label <c>pod-template-hash</c> (<see cref="PodNames"/>); ReplicaSet,
/// ReplicationController and DaemonSet pods are <c>&lt;owner&gt;-&lt;5 chars&gt;</c>; StatefulSet pods are
/// <c>&lt;name&gt;-&lt;ordinal&gt;</c> with <c>hostname</c> = the pod name, <c>subdomain</c> = spec.serviceName and the
/// labels <c>statefulset.kubernetes.io/pod-name</c>, <c>apps.kubernetes.io/pod-index</c>; a DaemonSet makes one pod per
/// node whose labels match its nodeSelector and whose taints it tolerates (it tolerates unschedulable nodes, as the
/// daemonset controller adds that toleration). Labels, annotations and container ports come from the template.</item>
/// <item>Existing pods: a workload that already has pods in the manifests (a pod whose ownerReferences name it, or, for
/// a Deployment, a ReplicaSet owned by it or a pod owned by its ReplicaSet) is not expanded: a dump's pods are used
/// as they are. A pod with status.podIP is kept as it is; a bare pod without one is scheduled like the others.</item>
/// <item>Scheduler: <c>spec.nodeName</c> binds directly; otherwise the eligible nodes are those not unschedulable, whose
/// labels match nodeSelector and whose NoSchedule/NoExecute taints are tolerated (PreferNoSchedule is ignored), and the
/// pod goes to the eligible node with the fewest pods so far, the first in node order on a tie: round-robin when all
/// are eligible, like the default scheduler's balancing of equal pods. No eligible node: the pod stays Pending, with
/// no IP, and a warning.</item>
/// <item>IPAM: host-local on each node's podCIDR: addresses in order from network+2 (network+1 is the gateway, the
/// broadcast address is never used), skipping addresses already held by pods from the manifests. hostNetwork pods take
/// the node's InternalIP. A node without podCIDR gives no address (warning).</item>
/// <item>Readiness: generated pods and bare pods given an address are Running and Ready, unless the annotation
/// <see cref="Pod.ReadyAnnotation"/> is "false"; that annotation also overrides a dumped pod's Ready condition.</item>
/// <item>Cluster CIDR: with emulated nodes and no clusterCIDR configured, kube-proxy's clusterCIDR is the emulated
/// 10.244.0.0/16 when it holds every pod CIDR, else the smallest prefix holding them all.</item>
/// </list>
/// </summary>
public static class WorkloadExpander
{
    public const string PodTemplateHashLabel = "pod-template-hash";
    public const string StatefulSetPodNameLabel = "statefulset.kubernetes.io/pod-name";
    public const string PodIndexLabel = "apps.kubernetes.io/pod-index";
    static readonly Taint UnschedulableTaint = new("node.kubernetes.io/unschedulable", null, "NoSchedule");

    public static ClusterManifests Expand(ClusterManifests m, Cidr4? lbPool = null, Action<string>? warn = null)
    {
        if (m.Expanded) return m;
        IReadOnlyList<Node> nodes = DefaultTopology.NodesFor(m);
        var state = new Scheduler(nodes, m.Pods, warn);

        // What each workload's controller makes, before anything is placed. A Pod object of the manifests named like
        // one of these (kubectl get pod NAME -o yaml, or a hand-written status) is that pod's status, not another pod.
        var made = m.Workloads.Select(w => (Workload: w, Pods: PodsOf(w, nodes).ToArray())).ToArray();
        var madeNames = new HashSet<(string?, string)>();
        foreach (var (_, ps) in made)
            foreach (Pod p in ps) madeNames.Add((p.Namespace, p.Name));
        var statusOf = new Dictionary<(string?, string), Pod>();
        foreach (Pod p in m.Pods)
            if (madeNames.Contains((p.Namespace, p.Name))) statusOf.TryAdd((p.Namespace, p.Name), p);

        var pods = new List<Pod>(m.Pods.Count);
        foreach (Pod p in m.Pods)
        {
            if (statusOf.ContainsKey((p.Namespace, p.Name))) continue;
            Pod pod = p.ReadyOverride is bool r ? p with { Ready = r } : p;
            if (pod.PodIP is null && pod.Phase is PodPhase.Pending)
                pod = state.Bind(pod with { Ready = p.ReadyOverride ?? true, Phase = PodPhase.Running, Generated = true });
            pods.Add(pod);
        }

        // (namespace, owner kind, owner name) of every pod and ReplicaSet in the manifests, for the "already has pods" test.
        var owners = new HashSet<(string?, string, string)>();
        foreach (Pod p in m.Pods)
            if (!statusOf.ContainsKey((p.Namespace, p.Name)))
                foreach (OwnerReference o in p.OwnerReferences) owners.Add((p.Namespace, o.Kind, o.Name));
        foreach (Workload r in m.Workloads)
            if (r.Kind == WorkloadKind.ReplicaSet)
                foreach (OwnerReference o in r.OwnerReferences) owners.Add((r.Namespace, "ReplicaSet→" + o.Kind, o.Name));
        foreach (var (w, made1) in made)
            if (!HasPods(owners, w))
                foreach (Pod pod in made1)
                    pods.Add(statusOf.TryGetValue((pod.Namespace, pod.Name), out Pod? status) ? WithStatus(pod, status, state) : state.Bind(pod));

        KubeProxyConfig kp = m.ProxyConfig;
        if (nodes.Count > 0 && nodes[0].Generated && kp.ClusterCIDRs.Count == 0)
            kp = kp with { ClusterCIDRs = [ClusterCidrOf(nodes)], ClusterCidrInferred = true };

        // The services every cluster has (the API server's, kubeadm's DNS), unless the manifests bring them.
        var (services, slices) = EmulatedServices.Add(m.Services, m.EndpointSlices, m.Endpoints, nodes);
        return new ClusterManifests
        {
            Services = LoadBalancerAllocator.Assign(services, nodes, lbPool ?? LoadBalancerAllocator.DefaultPool, warn),
            EndpointSlices = slices,
            Endpoints = m.Endpoints,
            Pods = pods,
            Nodes = nodes,
            ServiceCidrs = m.ServiceCidrs,
            Workloads = m.Workloads,
            ProxyConfig = kp,
            HasProxyConfig = m.HasProxyConfig,
            Namespaces = m.Namespaces,
            ServiceCidrFlag = m.ServiceCidrFlag,
            Warnings = m.Warnings,
            Files = m.Files,
            Expanded = true,
        };
    }

    /// <summary>
    /// A controller-made pod with the status a Pod object of the same name gives: its Ready condition (or the
    /// readiness annotation), phase, deletionTimestamp, and, when it has them, its node and address; the rest (labels,
    /// ports, owner) stays the controller's where the object leaves it out. So readiness can differ per pod, and change
    /// with a later apply, as the kubelet's probes make it.
    /// </summary>
    static Pod WithStatus(Pod made, Pod status, Scheduler state)
    {
        Pod pod = made with
        {
            Ready = status.ReadyOverride ?? status.ReadyCondition ?? made.Ready,
            Phase = status.Phase == PodPhase.Pending ? made.Phase : status.Phase,
            Terminating = status.Terminating,
            Labels = status.Labels.Count > 0 ? status.Labels : made.Labels,
            ContainerPorts = status.ContainerPorts.Count > 0 ? status.ContainerPorts : made.ContainerPorts,
            CreationTimestamp = status.CreationTimestamp ?? made.CreationTimestamp,
            NodeName = status.NodeName ?? made.NodeName,
        };
        if (status.PodIP is uint ip) return pod with { PodIP = ip, PodIPs = status.PodIPs, HostIP = status.HostIP };
        Pod bound = state.Bind(pod);
        // Bind decides Pending/not ready only when the pod cannot run; otherwise the status given stands.
        return bound.PodIP is null ? bound : bound with { Ready = pod.Ready, Phase = pod.Phase };
    }

    static Cidr4 ClusterCidrOf(IReadOnlyList<Node> nodes)
    {
        var cidrs = nodes.Where(n => n.PodCIDR is not null).Select(n => n.PodCIDR!.Value).ToArray();
        if (cidrs.All(c => DefaultTopology.ClusterCidr.Contains(c.Prefix) && c.Length >= 16)) return DefaultTopology.ClusterCidr;
        int length = cidrs.Min(c => c.Length);
        uint prefix = cidrs[0].Prefix;
        while (length > 0 && !cidrs.All(c => new Cidr4(prefix, length).Contains(c.Prefix))) length--;
        return new Cidr4(prefix, length);
    }

    /// <summary>Whether the manifests already hold what <paramref name="w"/>'s controller would make.</summary>
    static bool HasPods(HashSet<(string?, string, string)> owners, Workload w) =>
        owners.Contains((w.Namespace, w.Kind.ToString(), w.Name))
        || (w.Kind == WorkloadKind.Deployment
            && (owners.Contains((w.Namespace, "ReplicaSet→Deployment", w.Name)) || owners.Contains((w.Namespace, "ReplicaSet", ReplicaSetName(w)))));

    public static string ReplicaSetName(Workload deployment) => $"{deployment.Name}-{PodNames.TemplateHash(deployment.Template)}";

    /// <summary>The pods <paramref name="w"/>'s controller creates, unplaced except for a DaemonSet's (one per node).</summary>
    static IEnumerable<Pod> PodsOf(Workload w, IReadOnlyList<Node> nodes)
    {
        PodTemplate t = w.Template;
        switch (w.Kind)
        {
            case WorkloadKind.Deployment:
            {
                string hash = PodNames.TemplateHash(t);
                string rs = $"{w.Name}-{hash}";
                var labels = new Dictionary<string, string>(t.Labels) { [PodTemplateHashLabel] = hash };
                foreach (string name in GeneratedNames(rs, w.Replicas))
                    yield return Make(w, name, labels, new OwnerReference("ReplicaSet", rs, true));
                break;
            }
            case WorkloadKind.ReplicaSet or WorkloadKind.ReplicationController:
                foreach (string name in GeneratedNames(w.Name, w.Replicas))
                    yield return Make(w, name, t.Labels, new OwnerReference(w.Kind.ToString(), w.Name, true));
                break;
            case WorkloadKind.StatefulSet:
                for (int i = 0; i < w.Replicas; i++)
                {
                    string name = $"{w.Name}-{i}";
                    var labels = new Dictionary<string, string>(t.Labels) { [StatefulSetPodNameLabel] = name, [PodIndexLabel] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) };
                    // StatefulSet controller newStatefulSetPod/updateIdentity: hostname = pod name, subdomain = serviceName.
                    yield return Make(w, name, labels, new OwnerReference("StatefulSet", w.Name, true)) with { Hostname = name, Subdomain = w.ServiceName };
                }
                break;
            case WorkloadKind.DaemonSet:
            {
                // daemon.Tolerations: DaemonSet pods tolerate unschedulable (and the not-ready/pressure taints).
                var eligible = nodes.Where(n => Matches(t.NodeSelector, n.Labels) && (t.NodeName is null || t.NodeName == n.Name)
                    && Tolerated(n.Taints, t.Tolerations)).ToArray();
                var names = GeneratedNames(w.Name, eligible.Length).ToArray();
                for (int i = 0; i < eligible.Length; i++)
                    yield return Make(w, names[i], t.Labels, new OwnerReference("DaemonSet", w.Name, true)) with { NodeName = eligible[i].Name };
                break;
            }
        }
    }

    static IEnumerable<string> GeneratedNames(string owner, int count)
    {
        var seen = new HashSet<string>();
        for (int i = 0; i < count; i++)
        {
            string name = $"{owner}-{PodNames.Suffix($"{owner}/{i}")}";
            for (int k = 1; !seen.Add(name); k++) name = $"{owner}-{PodNames.Suffix($"{owner}/{i}/{k}")}";
            yield return name;
        }
    }

    static Pod Make(Workload w, string name, IReadOnlyDictionary<string, string> labels, OwnerReference owner) => new()
    {
        Name = name,
        Namespace = w.Namespace,
        SourceFile = w.SourceFile,
        Document = w.Document,
        Labels = labels,
        NodeName = w.Template.NodeName,
        Hostname = w.Template.Hostname,
        Subdomain = w.Template.Subdomain,
        HostNetwork = w.Template.HostNetwork,
        EnableServiceLinks = w.Template.EnableServiceLinks,
        CreationTimestamp = w.CreationTimestamp,
        Phase = PodPhase.Running,
        Ready = !(w.Template.Annotations.TryGetValue(Pod.ReadyAnnotation, out string? v) && v.Equals("false", StringComparison.OrdinalIgnoreCase)),
        ContainerPorts = w.Template.ContainerPorts,
        OwnerReferences = [owner],
        NodeSelector = w.Template.NodeSelector,
        Tolerations = w.Template.Tolerations,
        Generated = true,
    };

    static bool Matches(IReadOnlyDictionary<string, string> selector, IReadOnlyDictionary<string, string> labels) =>
        selector.All(kv => labels.TryGetValue(kv.Key, out string? v) && v == kv.Value);

    /// <summary>TaintToleration filter: every NoSchedule/NoExecute taint is tolerated by some toleration.</summary>
    static bool Tolerated(IEnumerable<Taint> taints, IReadOnlyList<Toleration> tolerations) =>
        taints.Where(t => t.Effect is "NoSchedule" or "NoExecute").All(t => tolerations.Any(x => x.Tolerates(t)));

    /// <summary>Scheduler and IPAM state: pods per node, each node's next candidate address, addresses in use.</summary>
    sealed class Scheduler
    {
        readonly IReadOnlyList<Node> _nodes;
        readonly Action<string>? _warn;
        readonly Dictionary<string, int> _load = new(StringComparer.Ordinal);
        readonly Dictionary<string, uint> _cursor = new(StringComparer.Ordinal);
        readonly HashSet<uint> _used = [];
        readonly Node[] _open; // nodes any pod fits: not cordoned, no NoSchedule/NoExecute taint

        public Scheduler(IReadOnlyList<Node> nodes, IEnumerable<Pod> existing, Action<string>? warn)
        {
            _nodes = nodes;
            _open = [.. nodes.Where(n => !n.Unschedulable && Tolerated(n.Taints, []))];
            _warn = warn;
            foreach (Node n in nodes) _load[n.Name] = 0;
            foreach (Pod p in existing)
            {
                if (p.PodIP is uint ip) _used.Add(ip);
                if (p.NodeName is { } n && p.PodIP is not null && _load.TryGetValue(n, out int load)) _load[n] = load + 1;
            }
        }

        public Pod Bind(Pod pod)
        {
            Node? node;
            if (pod.NodeName is { } bound)
            {
                node = _nodes.FirstOrDefault(n => n.Name == bound);
                if (node is null)
                {
                    _warn?.Invoke($"Pod {pod.Key}: spec.nodeName '{bound}' is not a node of the cluster; it gets no IP");
                    return pod with { Phase = PodPhase.Pending, Ready = false }; // no kubelet runs it
                }
            }
            else
            {
                Node[] eligible = pod.NodeSelector.Count == 0 && pod.Tolerations.Count == 0 ? _open
                    : [.. _nodes.Where(n => Matches(pod.NodeSelector, n.Labels)
                        && Tolerated(n.Unschedulable ? n.Taints.Append(UnschedulableTaint) : n.Taints, pod.Tolerations))];
                if (eligible.Length == 0)
                {
                    _warn?.Invoke($"Pod {pod.Key}: 0/{_nodes.Count} nodes are available (unschedulable, nodeSelector or untolerated taints); it stays Pending");
                    return pod with { Phase = PodPhase.Pending, Ready = false };
                }
                node = eligible.MinBy(n => _load[n.Name])!; // MinBy keeps the first of equals: node order breaks ties
                pod = pod with { NodeName = node.Name };
            }
            _load[node.Name]++;
            uint? hostIp = node.InternalIPs.Count > 0 ? node.InternalIPs[0] : null;
            if (pod.HostNetwork)
                return hostIp is uint h ? pod with { PodIP = h, PodIPs = [h], HostIP = h } : pod;
            if (node.PodCIDR is not { } cidr)
            {
                _warn?.Invoke($"Pod {pod.Key}: node {node.Name} has no podCIDR; it gets no IP");
                // The CNI's IPAM fails, the sandbox is never created: the pod stays ContainerCreating (Pending), not ready.
                return pod with { Phase = PodPhase.Pending, Ready = false };
            }
            if (Allocate(node.Name, cidr) is not uint ip)
            {
                _warn?.Invoke($"Pod {pod.Key}: no free address left in {node.Name}'s podCIDR {cidr}; it gets no IP");
                return pod with { Phase = PodPhase.Pending, Ready = false };
            }
            return pod with { PodIP = ip, PodIPs = [ip], HostIP = hostIp };
        }

        uint? Allocate(string node, Cidr4 cidr)
        {
            // host-local: range from network+2 (network+1 is the gateway) to broadcast-1.
            ulong size = 1UL << (32 - cidr.Length);
            if (size < 4) return null;
            uint last = (uint)(cidr.Prefix + size - 2);
            uint next = _cursor.TryGetValue(node, out uint c) ? c : cidr.Prefix + 2;
            while (next <= last && _used.Contains(next)) next++;
            if (next > last) return null;
            _used.Add(next);
            _cursor[node] = next + 1;
            return next;
        }
    }
}
