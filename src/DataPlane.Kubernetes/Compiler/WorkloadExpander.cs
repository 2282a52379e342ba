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
/// are eligible, like the default scheduler's balancing of equal pods. A full node (as many pods as its podCIDR has
/// addresses) is not eligible. No eligible node with room: the pod stays Pending, with no IP; so do the workload's
/// later replicas, counted rather than made, with one warning line per workload (<see cref="Expand"/>).</item>
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

    /// <summary>
    /// The most pods a cluster holds, the bound of Kubernetes' scalability thresholds ("Considerations for large
    /// clusters", kubernetes.io/docs/setup/best-practices/cluster-large: no more than 150 000 pods in total). It caps
    /// what the scheduler places even when hand-written nodes carry podCIDRs far larger than a /24 (a /8 would
    /// otherwise hold 16 M pods), so no replica count makes more than this many pods.
    /// </summary>
    public const int MaxClusterPods = 150_000;

    /// <summary>
    /// The kubelet's default <c>--max-pods</c> (110): what a node without a podCIDR accepts (only hostNetwork pods can
    /// run there; the others are admitted but get no address).
    /// </summary>
    public const int KubeletDefaultMaxPods = 110;

    /// <summary>
    /// Expands the workloads. <paramref name="cancel"/> is checked in every loop over pods, so an abandoned reload stops
    /// within a few thousand pods' work.
    /// <para>
    /// Bounded by what the cluster holds, never by a replica count: a node holds as many pods as its podCIDR has
    /// host-local addresses (<see cref="KubeletDefaultMaxPods"/> without one), the cluster at most
    /// <see cref="MaxClusterPods"/>. A workload's pods are made in replica order until the scheduler finds no node with
    /// room for the next; that pod is listed Pending, and the rest are counted, not made: one warning line per workload
    /// says how many of its replicas stay Pending and why.
    /// </para>
    /// </summary>
    public static ClusterManifests Expand(ClusterManifests m, Cidr4? lbPool = null, Action<string>? warn = null, CancellationToken cancel = default)
    {
        if (m.Expanded) return m;
        IReadOnlyList<Node> nodes = DefaultTopology.NodesFor(m);
        var state = new Scheduler(nodes, m.Pods);

        // A Pod object of the manifests named like a pod some workload's controller makes (kubectl get pod NAME -o yaml,
        // or a hand-written status) is that pod's status, not another pod.
        Dictionary<(string?, string), (Pod Status, int Workload, int Replica)> statusOf = StatusObjects(m, nodes, state.Capacity, cancel);

        var pods = new List<Pod>(m.Pods.Count);
        foreach (Pod p in m.Pods)
        {
            if (statusOf.ContainsKey((p.Namespace, p.Name))) continue;
            Pod pod = p.ReadyOverride is bool r ? p with { Ready = r } : p;
            if (pod.PodIP is null && pod.Phase is PodPhase.Pending)
            {
                // A bare pod is an object of the manifests: its warning names it (one line per written object).
                pod = pod with { Ready = p.ReadyOverride ?? true, Phase = PodPhase.Running, Generated = true };
                Pod? bound = state.Bind(pod, out string? why);
                if (why is not null) warn?.Invoke($"Pod {pod.Key}: {why}");
                pod = bound ?? Pending(pod);
            }
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
        var byWorkload = statusOf.ToLookup(kv => kv.Value.Workload, kv => (kv.Key.Item2, kv.Value));
        long unlisted = 0;
        for (int w = 0; w < m.Workloads.Count; w++)
            if (!HasPods(owners, m.Workloads[w]))
                unlisted += ExpandWorkload(m.Workloads[w], w, nodes, state, statusOf, byWorkload, pods, warn, cancel);

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
            ServiceCidrFlag6 = m.ServiceCidrFlag6,
            ServiceCidrFlagPrimary = m.ServiceCidrFlagPrimary,
            Warnings = m.Warnings,
            Files = m.Files,
            Expanded = true,
            UnlistedPendingPods = unlisted,
        };
    }

    static Pod Pending(Pod pod) => pod with { Phase = PodPhase.Pending, Ready = false };

    /// <summary>
    /// Makes <paramref name="w"/>'s pods in replica order, each placed as it is made, until no node has room for the
    /// next: that one is listed Pending, later replicas only counted (those a status object names are still made, the
    /// object says what they are). One warning line sums up the replicas left Pending and why. Returns how many
    /// Pending pods were counted but not listed.
    /// </summary>
    static long ExpandWorkload(Workload w, int index, IReadOnlyList<Node> nodes, Scheduler state,
        Dictionary<(string?, string), (Pod Status, int Workload, int Replica)> statusOf,
        ILookup<int, (string Name, (Pod Status, int Workload, int Replica) Of)> laterStatus, List<Pod> pods, Action<string>? warn, CancellationToken cancel)
    {
        var reasons = new Dictionary<string, long>(StringComparer.Ordinal);
        long pending = 0, unlisted = 0;
        long total = 0;
        int i = 0;
        using IEnumerator<(int Replica, Pod Pod)> made = PodsOf(w, nodes).GetEnumerator();
        while (made.MoveNext())
        {
            // Checked every 256 pods: a cancelled reload stops within microseconds, the check costs nothing measurable.
            if ((i++ & 255) == 0) cancel.ThrowIfCancellationRequested();
            (int replica, Pod pod) = made.Current;
            total++;
            string? why;
            if (statusOf.TryGetValue((pod.Namespace, pod.Name), out var status))
            {
                Pod withStatus = WithStatus(pod, status.Status, state, out why);
                pods.Add(withStatus);
                if (why is not null) { pending++; Count(reasons, why); }
                continue;
            }
            Pod? bound = state.Bind(pod, out why);
            if (why is not null) { pending++; Count(reasons, why); }
            if (bound is not null)
            {
                pods.Add(bound);
                continue;
            }
            // No node has room for this pod, so none for any later replica of the same template either: list this
            // one as Pending (kubectl shows such pods; trace's why finds the workload's pods waiting), count the rest.
            pods.Add(Pending(pod));
            if (w.Kind == WorkloadKind.DaemonSet) continue; // one pod per node, each bound to its own node: the next may fit
            long remaining = (long)w.Replicas - replica - 1;
            // Later replicas a status object names are made anyway: the object says what they are (an address of
            // their own, or Pending too).
            foreach (var (name, s) in laterStatus[index])
                if (s.Replica > replica)
                {
                    Pod later = PodAt(w, s.Replica, name);
                    pods.Add(WithStatus(later, s.Status, state, out string? laterWhy));
                    remaining--;
                    total++;
                    if (laterWhy is not null) { pending++; Count(reasons, laterWhy); }
                }
            pending += remaining;
            unlisted += remaining;
            total += remaining;
            Count(reasons, why!, remaining);
            break;
        }
        if (pending > 0)
            warn?.Invoke($"{w.Kind} {w.Key}: {pending} of {total} pods stay Pending{(unlisted > 0 ? $" ({pending - unlisted} listed)" : "")}: " +
                         string.Join("; ", reasons.Select(r => r.Value == pending ? r.Key : $"{r.Value}: {r.Key}")));
        return unlisted;
    }

    static void Count(Dictionary<string, long> reasons, string why, long n = 1) =>
        reasons[why] = reasons.GetValueOrDefault(why) + n;

    /// <summary>
    /// The Pod objects of the manifests that are the status of a pod some workload makes, with the workload and replica
    /// they stand for. A pod object can only be one whose name is the workload's prefix, a dash and a suffix; only for
    /// such candidates are names generated, and only up to <paramref name="capacity"/> replicas (a status object names
    /// a pod the cluster can hold; replica numbers beyond that are never made, so an object named like one is a pod of
    /// its own).
    /// </summary>
    static Dictionary<(string?, string), (Pod, int, int)> StatusObjects(ClusterManifests m, IReadOnlyList<Node> nodes, int capacity, CancellationToken cancel)
    {
        var result = new Dictionary<(string?, string), (Pod, int, int)>();
        var byPrefix = new Dictionary<(string?, string), List<Pod>>();
        foreach (Pod p in m.Pods)
        {
            int dash = p.Name.LastIndexOf('-');
            if (dash <= 0) continue;
            var key = (p.Namespace, p.Name[..dash]);
            if (!byPrefix.TryGetValue(key, out var list)) byPrefix[key] = list = [];
            list.Add(p);
        }
        for (int w = 0; w < m.Workloads.Count; w++)
        {
            Workload wl = m.Workloads[w];
            string prefix = wl.Kind == WorkloadKind.Deployment ? ReplicaSetName(wl) : wl.Name;
            if (!byPrefix.TryGetValue((wl.Namespace, prefix), out var candidates)) continue;
            var wanted = new Dictionary<string, Pod>(StringComparer.Ordinal);
            foreach (Pod c in candidates) wanted.TryAdd(c.Name, c);
            if (wl.Kind == WorkloadKind.StatefulSet)
            {
                // <name>-<ordinal>: the ordinal is read back instead of generated (canonical decimal, below replicas).
                foreach (Pod c in candidates)
                    if (int.TryParse(c.Name.AsSpan(prefix.Length + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int ordinal)
                        && ordinal < wl.Replicas && c.Name == $"{prefix}-{ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture)}")
                        result.TryAdd((c.Namespace, c.Name), (c, w, ordinal));
                continue;
            }
            int count = wl.Kind == WorkloadKind.DaemonSet ? nodes.Count : Math.Min(wl.Replicas, capacity);
            int i = 0, found = 0;
            foreach (string name in GeneratedNames(prefix, count))
            {
                if ((i & 255) == 0) cancel.ThrowIfCancellationRequested();
                if (wanted.TryGetValue(name, out Pod? status) && result.TryAdd((status.Namespace, name), (status, w, i)) && ++found == wanted.Count) break;
                i++;
            }
        }
        return result;
    }

    /// <summary>
    /// A controller-made pod with the status a Pod object of the same name gives: its Ready condition (or the
    /// readiness annotation), phase, deletionTimestamp, and, when it has them, its node and address; the rest (labels,
    /// ports, owner) stays the controller's where the object leaves it out. So readiness can differ per pod, and change
    /// with a later apply, as the kubelet's probes make it. <paramref name="why"/>: why it stays Pending, when it does.
    /// </summary>
    static Pod WithStatus(Pod made, Pod status, Scheduler state, out string? why)
    {
        why = null;
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
        Pod? bound = state.Bind(pod, out why);
        if (bound is null) return Pending(pod);
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

    /// <summary>
    /// The pods <paramref name="w"/>'s controller creates, with their replica numbers, lazily (a caller stops when the
    /// cluster is full, so a replica count never sets the work), unplaced except for a DaemonSet's (one per node).
    /// </summary>
    static IEnumerable<(int Replica, Pod Pod)> PodsOf(Workload w, IReadOnlyList<Node> nodes)
    {
        if (w.Kind == WorkloadKind.DaemonSet)
        {
            // daemon.Tolerations: DaemonSet pods tolerate unschedulable (and the not-ready/pressure taints).
            PodTemplate t = w.Template;
            Node[] eligible = [.. nodes.Where(n => Matches(t.NodeSelector, n.Labels) && (t.NodeName is null || t.NodeName == n.Name)
                && Tolerated(n.Taints, t.Tolerations))];
            int i = 0;
            foreach (string name in GeneratedNames(w.Name, eligible.Length))
            {
                yield return (i, Make(w, name, t.Labels, new OwnerReference("DaemonSet", w.Name, true)) with { NodeName = eligible[i].Name });
                i++;
            }
            yield break;
        }
        if (w.Kind == WorkloadKind.StatefulSet)
        {
            for (int i = 0; i < w.Replicas; i++)
                yield return (i, PodAt(w, i, $"{w.Name}-{i.ToString(System.Globalization.CultureInfo.InvariantCulture)}"));
            yield break;
        }
        var shared = Shared(w); // one label dictionary and owner for all replicas
        int r = 0;
        foreach (string name in GeneratedNames(shared.Owner.Name, w.Replicas))
            yield return (r, PodAt(w, r++, name, shared));
    }

    /// <summary>
    /// What every replica of a Deployment (labels with pod-template-hash, owned by its ReplicaSet), ReplicaSet or
    /// ReplicationController shares: computed once per workload, not per pod.
    /// </summary>
    static (IReadOnlyDictionary<string, string> Labels, OwnerReference Owner) Shared(Workload w)
    {
        if (w.Kind != WorkloadKind.Deployment) return (w.Template.Labels, new OwnerReference(w.Kind.ToString(), w.Name, true));
        string hash = PodNames.TemplateHash(w.Template);
        return (new Dictionary<string, string>(w.Template.Labels) { [PodTemplateHashLabel] = hash }, new OwnerReference("ReplicaSet", $"{w.Name}-{hash}", true));
    }

    /// <summary>Replica <paramref name="replica"/> of a Deployment, ReplicaSet, ReplicationController or StatefulSet, named <paramref name="name"/>.</summary>
    static Pod PodAt(Workload w, int replica, string name, (IReadOnlyDictionary<string, string> Labels, OwnerReference Owner)? shared = null)
    {
        PodTemplate t = w.Template;
        switch (w.Kind)
        {
            case WorkloadKind.StatefulSet:
            {
                var own = new Dictionary<string, string>(t.Labels) { [StatefulSetPodNameLabel] = name, [PodIndexLabel] = replica.ToString(System.Globalization.CultureInfo.InvariantCulture) };
                // StatefulSet controller newStatefulSetPod/updateIdentity: hostname = pod name, subdomain = serviceName.
                return Make(w, name, own, new OwnerReference("StatefulSet", w.Name, true)) with { Hostname = name, Subdomain = w.ServiceName };
            }
            default:
                var (labels, owner) = shared ?? Shared(w);
                return Make(w, name, labels, owner);
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

    /// <summary>
    /// Scheduler and IPAM state: pods per node, each node's pod limit and next candidate address, addresses in use.
    /// <para>
    /// A node holds at most <see cref="Limit"/> pods, counting every pod bound to it (the scheduler's NodeResourcesFit
    /// "Too many pods" on the kubelet's allocatable pods, which counts hostNetwork pods too); the limit is the
    /// podCIDR's host-local addresses, the kubelet's max-pods sized to its range as kubenet and GKE size it, so a full
    /// node is passed over rather than given pods that cannot get an address. The cluster holds at most
    /// <see cref="MaxClusterPods"/>. Bounded work: choosing a node is a heap pop (least loaded, node order on a tie)
    /// instead of a scan of every node per pod, and the eligible set of a template is worked out once.
    /// </para>
    /// </summary>
    sealed class Scheduler
    {
        readonly IReadOnlyList<Node> _nodes;
        readonly Dictionary<string, int> _index = new(StringComparer.Ordinal); // node name → position in _nodes
        readonly int[] _load;   // pods bound to each node (manifest pods with an address included)
        readonly int[] _limit;  // pods each node holds
        readonly uint[] _cursor; // host-local's next candidate address per node (0: network+2)
        readonly HashSet<uint> _used = [];
        readonly int[] _open; // nodes any pod fits: not cordoned, no NoSchedule/NoExecute taint
        // Least-loaded eligible nodes: of pods with no nodeSelector or tolerations (kept), and of the last template with
        // some (a workload's pods come one after the other and share their template's instances, so one entry serves
        // them all; keeping one per template would hold templates × nodes entries).
        Candidates? _openCandidates, _last;
        (object, object)? _lastKey;
        long _total; // pods bound to any node

        public Scheduler(IReadOnlyList<Node> nodes, IEnumerable<Pod> existing)
        {
            _nodes = nodes;
            _load = new int[nodes.Count];
            _limit = new int[nodes.Count];
            _cursor = new uint[nodes.Count];
            for (int i = 0; i < nodes.Count; i++)
            {
                _index.TryAdd(nodes[i].Name, i);
                _limit[i] = Limit(nodes[i]);
            }
            _open = [.. Enumerable.Range(0, nodes.Count).Where(i => !nodes[i].Unschedulable && Tolerated(nodes[i].Taints, []))];
            foreach (Pod p in existing)
            {
                if (p.PodIP is uint ip) _used.Add(ip);
                if (p.NodeName is { } n && p.PodIP is not null && _index.TryGetValue(n, out int i)) { _load[i]++; _total++; }
            }
            long room = 0;
            for (int i = 0; i < nodes.Count; i++) room += Math.Max(0, _limit[i] - _load[i]);
            Capacity = (int)Math.Min(room, MaxClusterPods);
        }

        /// <summary>How many more pods the cluster holds at most (before any is bound here).</summary>
        public int Capacity { get; }

        /// <summary>
        /// The pods a node holds: its podCIDR's host-local addresses (network+2 to broadcast-1), or the kubelet's
        /// default max-pods without a podCIDR; never more than the cluster's bound.
        /// </summary>
        static int Limit(Node n)
        {
            if (n.PodCIDR is not { } cidr) return KubeletDefaultMaxPods;
            ulong size = 1UL << (32 - cidr.Length);
            return size < 4 ? 0 : (int)Math.Min(size - 3, MaxClusterPods);
        }

        bool HasRoom(int node) => _load[node] < _limit[node] && _total < MaxClusterPods;

        /// <summary>
        /// Places <paramref name="pod"/>: on its spec.nodeName, else on the least-loaded eligible node with room, and
        /// gives it an address. Null when no node has room for it (nor, the template being the same, for any later pod
        /// of its workload); <paramref name="why"/> says why, also when the pod is placed but cannot run (Pending).
        /// </summary>
        public Pod? Bind(Pod pod, out string? why)
        {
            why = null;
            int node;
            if (pod.NodeName is { } bound)
            {
                if (!_index.TryGetValue(bound, out node))
                {
                    why = $"spec.nodeName '{bound}' is not a node of the cluster; no kubelet runs it";
                    return null;
                }
                if (!HasRoom(node))
                {
                    why = _total >= MaxClusterPods ? ClusterFull : $"node {bound} is full ({_limit[node]} pods{LimitWhy(node)})";
                    return null;
                }
            }
            else
            {
                Candidates c = EligibleFor(pod);
                if (c.Count == 0)
                {
                    why = $"0/{_nodes.Count} nodes are available (unschedulable, nodeSelector or untolerated taints)";
                    return null;
                }
                if (_total >= MaxClusterPods || c.Next(this) is not int chosen)
                {
                    why = _total >= MaxClusterPods ? ClusterFull
                        : $"0/{_nodes.Count} nodes have room: {(c.Count == 1 ? "the eligible node is" : $"all {c.Count} eligible nodes are")} full (a node holds as many pods as its podCIDR has addresses)";
                    return null;
                }
                node = chosen;
                pod = pod with { NodeName = _nodes[node].Name };
            }
            _load[node]++;
            _total++;
            Node n = _nodes[node];
            uint? hostIp = n.InternalIPs.Count > 0 ? n.InternalIPs[0] : null;
            if (pod.HostNetwork)
                return hostIp is uint h ? pod with { PodIP = h, PodIPs = [h], HostIP = h } : pod;
            if (n.PodCIDR is not { } cidr)
            {
                // The CNI's IPAM fails, the sandbox is never created: the pod stays ContainerCreating (Pending), not ready.
                why = $"node {n.Name} has no podCIDR; it gets no IP";
                return Pending(pod);
            }
            if (Allocate(node, cidr) is not uint ip)
            {
                why = $"no free address left in {n.Name}'s podCIDR {cidr}; it gets no IP";
                return Pending(pod);
            }
            return pod with { PodIP = ip, PodIPs = [ip], HostIP = hostIp };
        }

        static string ClusterFull => $"the cluster holds {MaxClusterPods} pods, the most Kubernetes supports";

        string LimitWhy(int node) => _nodes[node].PodCIDR is { } c ? $", the addresses of its podCIDR {c}" : ", the kubelet's default max-pods";

        Candidates EligibleFor(Pod pod)
        {
            if (pod.NodeSelector.Count == 0 && pod.Tolerations.Count == 0)
                return _openCandidates ??= new Candidates(_open, _load);
            (object, object) key = (pod.NodeSelector, pod.Tolerations);
            if (_last is not null && _lastKey.Equals(key)) return _last;
            int[] eligible = [.. Enumerable.Range(0, _nodes.Count).Where(i => Matches(pod.NodeSelector, _nodes[i].Labels)
                && Tolerated(_nodes[i].Unschedulable ? _nodes[i].Taints.Append(UnschedulableTaint) : _nodes[i].Taints, pod.Tolerations))];
            _lastKey = key;
            return _last = new Candidates(eligible, _load);
        }

        uint? Allocate(int node, Cidr4 cidr)
        {
            // host-local: range from network+2 (network+1 is the gateway) to broadcast-1.
            ulong size = 1UL << (32 - cidr.Length);
            if (size < 4) return null;
            uint last = (uint)(cidr.Prefix + size - 2);
            uint next = _cursor[node] != 0 ? _cursor[node] : cidr.Prefix + 2;
            while (next <= last && _used.Contains(next)) next++;
            if (next > last) return null;
            _used.Add(next);
            _cursor[node] = next + 1;
            return next;
        }

        /// <summary>
        /// The eligible nodes of one template in a min-heap by (pods bound, node order). Loads only grow, and pods of
        /// other templates raise them behind this heap's back, so an entry's load may be stale: the top is re-pushed
        /// with its current load until it is current, which makes it the true minimum (every other entry's load is at
        /// most its current one). Full nodes leave for good. Each bind costs O(log nodes).
        /// </summary>
        sealed class Candidates
        {
            readonly PriorityQueue<int, (int Load, int Node)> _heap = new();

            public Candidates(int[] eligible, int[] load)
            {
                Count = eligible.Length;
                foreach (int i in eligible) _heap.Enqueue(i, (load[i], i));
            }

            /// <summary>How many nodes the template fits (full or not).</summary>
            public int Count { get; }

            public int? Next(Scheduler s)
            {
                while (_heap.TryPeek(out int node, out var key))
                {
                    if (!s.HasRoom(node)) _heap.Dequeue();
                    else if (key.Load != s._load[node]) _heap.DequeueEnqueue(node, (s._load[node], node));
                    else return node;
                }
                return null;
            }
        }
    }
}
