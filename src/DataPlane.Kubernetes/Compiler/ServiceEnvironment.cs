using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Packets;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// The service environment variables the kubelet gives a pod (pkg/kubelet/kubelet_pods.go <c>getServiceEnvVarMap</c>,
/// pkg/kubelet/envvars): for every service of the pod's namespace with a cluster IP, plus the default namespace's
/// <c>kubernetes</c> service (always, even with enableServiceLinks false), the Kubernetes-style
/// <c>NAME_SERVICE_HOST</c> / <c>NAME_SERVICE_PORT[_PORTNAME]</c> and the Docker-link-style
/// <c>NAME_PORT[_port_PROTO[_PROTO|_PORT|_ADDR]]</c>. Names are upper case with dashes turned into underscores.
/// Headless and ExternalName services have no cluster IP and give nothing.
/// <para>
/// Variables are fixed when the container starts, so a pod sees only the services that existed when it was created:
/// by creationTimestamp when both objects carry one (a dump), else by the order the manifests apply them in (file,
/// then document) — pods of a workload are created with it. <c>enableServiceLinks: false</c> leaves only the
/// <c>kubernetes</c> service's variables.
/// </para>
/// </summary>
public static class ServiceEnvironment
{
    /// <summary>What a pod created now in <paramref name="ns"/> sees: every service of the namespace.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> For(ResolvedCluster c, string ns) => Build(c, ns, _ => true, serviceLinks: true);

    /// <summary>What <paramref name="pod"/> sees (its namespace, its creation, its enableServiceLinks).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> For(ResolvedCluster c, Pod pod)
    {
        var files = c.Manifests.Files;
        return Build(c, pod.Namespace ?? "default", s => CreatedBefore(s, pod, files), pod.EnableServiceLinks);
    }

    static bool CreatedBefore(Service s, Pod pod, IReadOnlyList<string> files)
    {
        if (s.Emulated) return true; // the cluster's own services exist before any pod
        if (s.CreationTimestamp is { } st && pod.CreationTimestamp is { } pt) return st < pt;
        int fs = IndexOf(files, s.SourceFile), fp = IndexOf(files, pod.SourceFile);
        return fs != fp ? fs < fp : s.Document < pod.Document;
    }

    static int IndexOf(IReadOnlyList<string> files, string file)
    {
        for (int i = 0; i < files.Count; i++)
            if (files[i] == file) return i;
        return -1;
    }

    static List<KeyValuePair<string, string>> Build(ResolvedCluster c, string ns, Func<Service, bool> visible, bool serviceLinks)
    {
        var chosen = new SortedDictionary<string, (Service Svc, uint Ip)>(StringComparer.Ordinal);
        // The pod's own namespace wins over the default namespace's kubernetes service of the same name.
        foreach (Service s in c.Services)
        {
            if (c.ClusterIp(s) is not uint ip || !visible(s)) continue;
            bool master = s.Namespace == "default" && s.Name == "kubernetes";
            if (s.Namespace == ns && (serviceLinks || master)) chosen[s.Name] = (s, ip);
            else if (master) chosen.TryAdd(s.Name, (s, ip));
        }
        var vars = new List<KeyValuePair<string, string>>();
        foreach (var (svc, ip) in chosen.Values)
        {
            string name = Upper(svc.Name);
            string host = Ip4.Format(ip);
            if (svc.Ports.Count == 0) continue;
            Add(vars, $"{name}_SERVICE_HOST", host);
            Add(vars, $"{name}_SERVICE_PORT", svc.Ports[0].Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            foreach (ServicePort p in svc.Ports)
                if (p.Name.Length > 0) Add(vars, $"{name}_SERVICE_PORT_{Upper(p.Name)}", p.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            ServicePort first = svc.Ports[0];
            Add(vars, $"{name}_PORT", $"{Lower(first.Protocol)}://{host}:{first.Port}");
            foreach (ServicePort p in svc.Ports)
            {
                string prefix = $"{name}_PORT_{p.Port}_{p.Protocol}";
                Add(vars, prefix, $"{Lower(p.Protocol)}://{host}:{p.Port}");
                Add(vars, $"{prefix}_PROTO", Lower(p.Protocol));
                Add(vars, $"{prefix}_PORT", p.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
                Add(vars, $"{prefix}_ADDR", host);
            }
        }
        return vars;
    }

    static void Add(List<KeyValuePair<string, string>> vars, string k, string v) => vars.Add(new(k, v));
    static string Upper(string s) => s.Replace('-', '_').ToUpperInvariant();
    static string Lower(PortProtocol p) => p.ToString().ToLowerInvariant();
}
