using DataPlane.Kubernetes;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// Gives services what the API server would have given them when the manifest leaves it out: a cluster IP from the
/// service CIDRs and node ports from 30000-32767. Deterministic (lowest free value, in manifest order) so that the same
/// manifests always compile to the same maps; the API server picks at random. The first address of a range is never
/// handed out (the API server reserves it for the `kubernetes` service's network address).
/// </summary>
internal sealed class Allocator
{
    public const int NodePortMin = 30000, NodePortMax = 32767;

    readonly ClusterManifests _m;
    readonly HashSet<uint> _usedIps = [];
    readonly HashSet<int> _usedPorts = [];
    readonly Dictionary<(string, int), int> _ports = [];
    readonly Dictionary<string, uint> _ips = [];

    public Allocator(ClusterManifests m)
    {
        _m = m;
        foreach (Service s in m.Services)
        {
            if (s.ClusterIP is uint ip) _usedIps.Add(ip);
            foreach (ServicePort p in s.Ports)
                if (p.NodePort is int np) _usedPorts.Add(np);
        }
    }

    public uint ClusterIp(Service svc)
    {
        if (_ips.TryGetValue(svc.Key, out uint ip)) return ip;
        foreach (Ipv4Cidr range in _m.ServiceClusterIPRanges)
        {
            ulong size = 1UL << (32 - range.Length);
            for (ulong i = 1; i + 1 < size; i++)
            {
                uint candidate = range.Prefix + (uint)i;
                if (_usedIps.Add(candidate)) return _ips[svc.Key] = candidate;
            }
        }
        throw new ManifestException(svc.SourceFile, $"Service {svc.Key}", "spec.clusterIP", "no free address left in the service CIDRs");
    }

    public int NodePort(Service svc, int portIndex)
    {
        if (_ports.TryGetValue((svc.Key, portIndex), out int p)) return p;
        for (int candidate = NodePortMin; candidate <= NodePortMax; candidate++)
            if (_usedPorts.Add(candidate)) return _ports[(svc.Key, portIndex)] = candidate;
        throw new ManifestException(svc.SourceFile, $"Service {svc.Key}", $"spec.ports[{portIndex}].nodePort", "no free node port left in 30000-32767");
    }
}
