using DataPlane.Kubernetes.Manifests;
using DataPlane.Packets;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// The service environment variables the kubelet gives a pod (pkg/kubelet/envvars, enableServiceLinks true): for every
/// service of the pod's namespace with a cluster IP, plus the default namespace's `kubernetes` service, the
/// Kubernetes-style <c>NAME_SERVICE_HOST</c> / <c>NAME_SERVICE_PORT[_PORTNAME]</c> and the Docker-link-style
/// <c>NAME_PORT[_port_PROTO[_PROTO|_PORT|_ADDR]]</c>. Names are upper case with dashes turned into underscores.
/// Headless and ExternalName services have no cluster IP and give nothing.
/// </summary>
public static class ServiceEnvironment
{
    public static IReadOnlyList<KeyValuePair<string, string>> For(ClusterManifests m, string ns)
    {
        var allocator = new Allocator(m);
        var chosen = new SortedDictionary<string, (Service Svc, uint Ip)>(StringComparer.Ordinal);
        // The pod's own namespace wins over the default namespace's kubernetes service of the same name.
        foreach (Service s in m.Services)
        {
            if (s.Type == ServiceType.ExternalName || s.ClusterIPMode is ClusterIPMode.Headless or ClusterIPMode.None or ClusterIPMode.OtherFamily)
                continue;
            uint ip = s.ClusterIP ?? allocator.ClusterIp(s);
            if (s.Namespace == ns) chosen[s.Name] = (s, ip);
            else if (s.Namespace == "default" && s.Name == "kubernetes") chosen.TryAdd(s.Name, (s, ip));
        }
        var vars = new List<KeyValuePair<string, string>>();
        foreach (var (svc, ip) in chosen.Values)
        {
            string name = Upper(svc.Name);
            string host = Ip4.Format(ip);
            if (svc.Ports.Count == 0) continue;
            Add(vars, $"{name}_SERVICE_HOST", host);
            Add(vars, $"{name}_SERVICE_PORT", svc.Ports[0].Port.ToString());
            foreach (ServicePort p in svc.Ports)
                if (p.Name.Length > 0) Add(vars, $"{name}_SERVICE_PORT_{Upper(p.Name)}", p.Port.ToString());
            ServicePort first = svc.Ports[0];
            Add(vars, $"{name}_PORT", $"{Lower(first.Protocol)}://{host}:{first.Port}");
            foreach (ServicePort p in svc.Ports)
            {
                string prefix = $"{name}_PORT_{p.Port}_{p.Protocol}";
                Add(vars, prefix, $"{Lower(p.Protocol)}://{host}:{p.Port}");
                Add(vars, $"{prefix}_PROTO", Lower(p.Protocol));
                Add(vars, $"{prefix}_PORT", p.Port.ToString());
                Add(vars, $"{prefix}_ADDR", host);
            }
        }
        return vars;
    }

    static void Add(List<KeyValuePair<string, string>> vars, string k, string v) => vars.Add(new(k, v));
    static string Upper(string s) => s.Replace('-', '_').ToUpperInvariant();
    static string Lower(PortProtocol p) => p.ToString().ToLowerInvariant();
}
