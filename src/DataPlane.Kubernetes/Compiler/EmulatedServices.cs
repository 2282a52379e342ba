using DataPlane.Kubernetes.Manifests;
using DataPlane.Packets;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// The two Services every cluster has before anyone applies a manifest, added when the manifests do not bring their
/// own (a dump from a real cluster does; a repository's manifests never do):
/// <list type="bullet">
/// <item><c>default/kubernetes</c>: kube-apiserver's own service (pkg/controlplane/controller/kubernetesservice:
/// ClusterIP, port <c>https</c> 443/TCP → the API server's secure port, 6443 as kubeadm sets it, no selector, the
/// range's first address). Its endpoint is the control-plane node's address, which the API server itself reconciles
/// (pkg/controlplane/reconcilers) — also for a <c>default/kubernetes</c> of the manifests that has no endpoints written.</item>
/// <item><c>kube-system/kube-dns</c>: kubeadm's CoreDNS service (cmd/kubeadm/app/phases/addons/dns/manifests.go:
/// ClusterIP the range's tenth address, <c>dns</c> 53/UDP, <c>dns-tcp</c> 53/TCP, <c>metrics</c> 9153/TCP, selector
/// <c>k8s-app: kube-dns</c>). With no CoreDNS pods it has no endpoints, and the data plane answers DNS itself.</item>
/// </list>
/// Both are marked <see cref="Service.Emulated"/>; the allocator gives them those addresses and never hands the
/// addresses to another service (<see cref="Allocator"/>).
/// </summary>
public static class EmulatedServices
{
    public const string KubernetesKey = "default/kubernetes";
    public const string KubeDnsKey = "kube-system/kube-dns";
    public const string Source = "(emulated)";

    /// <summary>Whether a compiled service port's name ("ns/name:port") belongs to one of the cluster's own services.</summary>
    public static bool IsEmulatedPort(string? servicePort) =>
        servicePort is not null && (servicePort.StartsWith(KubernetesKey + ":", StringComparison.Ordinal) || servicePort.StartsWith(KubeDnsKey + ":", StringComparison.Ordinal));

    /// <summary>kubeadm's default --secure-port of kube-apiserver, the kubernetes service's targetPort.</summary>
    public const int ApiServerPort = 6443;

    /// <summary>The label a node of the control plane carries (kubeadm's LabelNodeRoleControlPlane).</summary>
    public const string ControlPlaneLabel = "node-role.kubernetes.io/control-plane";

    /// <summary>
    /// <paramref name="services"/> with the missing ones in front (the cluster made them first), and the slices the
    /// API server keeps for <c>default/kubernetes</c> when nothing in the manifests gives its endpoints.
    /// </summary>
    public static (IReadOnlyList<Service> Services, IReadOnlyList<EndpointSlice> Slices) Add(IReadOnlyList<Service> services,
        IReadOnlyList<EndpointSlice> slices, IReadOnlyList<Endpoints> endpoints, IReadOnlyList<Node> nodes)
    {
        var added = new List<Service>();
        Service? kubernetes = services.FirstOrDefault(s => s.Key == KubernetesKey);
        if (kubernetes is null)
        {
            kubernetes = new Service
            {
                Name = "kubernetes",
                Namespace = "default",
                SourceFile = Source,
                Type = ServiceType.ClusterIP,
                ClusterIPMode = ClusterIPMode.Allocate,
                Ports = [new ServicePort { Name = "https", Port = 443, Protocol = PortProtocol.TCP, TargetPort = new TargetPort(ApiServerPort, null) }],
                Emulated = true,
            };
            added.Add(kubernetes);
        }
        if (!services.Any(s => s.Key == KubeDnsKey))
            added.Add(new Service
            {
                Name = "kube-dns",
                Namespace = "kube-system",
                SourceFile = Source,
                Type = ServiceType.ClusterIP,
                ClusterIPMode = ClusterIPMode.Allocate,
                Selector = new Dictionary<string, string> { ["k8s-app"] = "kube-dns" },
                Ports =
                [
                    new ServicePort { Name = "dns", Port = 53, Protocol = PortProtocol.UDP, TargetPort = new TargetPort(53, null) },
                    new ServicePort { Name = "dns-tcp", Port = 53, Protocol = PortProtocol.TCP, TargetPort = new TargetPort(53, null) },
                    new ServicePort { Name = "metrics", Port = 9153, Protocol = PortProtocol.TCP, TargetPort = new TargetPort(9153, null) },
                ],
                Emulated = true,
            });

        IReadOnlyList<EndpointSlice> outSlices = slices;
        bool hasEndpoints = slices.Any(s => s.Namespace == "default" && s.ServiceName == "kubernetes")
            || endpoints.Any(e => e.Namespace == "default" && e.Name == "kubernetes");
        if (!hasEndpoints && kubernetes.Selector is null && ApiServerAddress(nodes) is uint apiServer)
        {
            // The API server writes its own endpoint (EndpointSlice "kubernetes", port named like the service port).
            ServicePort port = kubernetes.Ports.Count > 0 ? kubernetes.Ports[0] : new ServicePort { Name = "https", Port = 443 };
            int target = port.TargetPort.IsNamed || port.TargetPort.Number == 0 ? ApiServerPort : port.TargetPort.Number;
            outSlices = [.. slices, new EndpointSlice
            {
                Name = "kubernetes",
                Namespace = "default",
                SourceFile = Source,
                ServiceName = "kubernetes",
                AddressType = EndpointAddressType.IPv4,
                Endpoints = [new SliceEndpoint { Addresses = [apiServer], Ready = true, Serving = true, Terminating = false }],
                Ports = [new EndpointSlicePort { Name = port.Name, Port = target, Protocol = PortProtocol.TCP }],
                Labels = new Dictionary<string, string> { [EndpointsController.ServiceNameLabel] = "kubernetes" },
            }];
        }
        return added.Count == 0 ? (services, outSlices) : ([.. added, .. services], outSlices);
    }

    /// <summary>The control-plane node's first InternalIP: the node labelled control-plane (or master), else the first node.</summary>
    static uint? ApiServerAddress(IReadOnlyList<Node> nodes)
    {
        Node? cp = nodes.FirstOrDefault(n => n.Labels.ContainsKey(ControlPlaneLabel) || n.Labels.ContainsKey("node-role.kubernetes.io/master"))
            ?? (nodes.Count > 0 ? nodes[0] : null);
        return cp is null ? null : cp.InternalIPs.Count > 0 ? cp.InternalIPs[0] : cp.Addresses.Select(a => a.IP).FirstOrDefault(ip => ip is not null);
    }
}
