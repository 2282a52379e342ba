using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.IO.Text;

/// <summary>
/// <c>dataplane maps</c>: the compiled service map in the shape of <c>cilium-dbg bpf lb list</c> (one row per slot, the
/// master, slot 0, with its rev-NAT id and flags, then each backend slot), the reverse NAT table, the ranges in force,
/// then the topology section.
/// </summary>
public static class MapsListing
{
    /// <summary>The whole listing: service map, ranges, topology.</summary>
    public static void Write(TextWriter w, MapSet maps, ClusterManifests m, TopologyReport topology)
    {
        WriteServices(w, maps);
        WriteCidrs(w, m);
        TopologyText.WriteMaps(w, topology);
    }

    /// <summary>The ranges in force and where they came from (ServiceCIDR, --service-cidr, inferred, default).</summary>
    public static void WriteCidrs(TextWriter w, ClusterManifests m)
    {
        w.WriteLine();
        w.WriteLine($"SERVICE CIDRS  {m.ServiceCidrsInForce}");
        if (m.ProxyConfig.ClusterCIDRs.Count > 0)
            w.WriteLine($"CLUSTER CIDR   {string.Join(", ", m.ProxyConfig.ClusterCIDRs)} ({(m.ProxyConfig.ClusterCidrInferred ? "holding the emulated nodes' pod CIDRs" : "KubeProxyConfiguration clusterCIDR")})");
        w.WriteLine($"PROXY MODE     {m.ProxyConfig.RequestedMode}{(m.ProxyConfig.RequestedMode == "ipvs" ? " (emulated with iptables semantics)" : "")}");
    }

    /// <summary>The frontends ordered by rev-NAT id, each followed by its backend slots; then the reverse NAT table.</summary>
    public static void WriteServices(TextWriter w, MapSet maps)
    {
        var rows = new List<(Lb4Key Key, Lb4Service Svc)>();
        maps.ForEachFrontend((k, v) => rows.Add((k, v)));
        rows.Sort((a, b) => (a.Svc.RevNatIndex, a.Key.Address, a.Key.Port, a.Key.Proto, a.Key.Scope)
            .CompareTo((b.Svc.RevNatIndex, b.Key.Address, b.Key.Port, b.Key.Proto, b.Key.Scope)));
        w.WriteLine($"{"SERVICE ADDRESS",-30} BACKEND ADDRESS (REVNAT_ID) (SLOT)");
        foreach (var (key, svc) in rows)
        {
            string proto = key.Proto == 0 ? "ANY" : IpProto.Name(key.Proto).ToUpperInvariant();
            string frontend = $"{Ip4.Format(key.Address, key.Port)}/{proto}{(key.Scope == 1 ? "/i" : "")}";
            string extra = svc.AffinityTimeoutSeconds != 0 ? $" affinity={svc.AffinityTimeoutSeconds}s" : "";
            w.WriteLine($"{frontend,-30} 0.0.0.0:0 ({svc.RevNatIndex}) (0) [{svc.Flags}]{extra}  {maps.ServiceNames[svc.RevNatIndex]}");
            for (int i = 0; i < svc.Count; i++)
            {
                uint id = maps.Slot(svc.SlotOffset + (uint)i);
                Lb4Backend b = maps.Backend(id);
                string state = b.State == BackendState.Active ? "" : $" {b.State.ToString().ToLowerInvariant()}";
                string local = b.Local ? " local" : "";
                w.WriteLine($"{"",-30} {Ip4.Format(b.Address, b.Port)}/{IpProto.Name(b.Proto).ToUpperInvariant()} ({svc.RevNatIndex}) ({i + 1}){state}{local}");
            }
        }
        w.WriteLine();
        w.WriteLine($"REVNAT_ID  FRONTEND                 SERVICE");
        for (int i = 1; i < maps.ReverseNat.Length; i++)
        {
            var rn = maps.ReverseNat[i];
            if (maps.ServiceName((ushort)i) is null) continue; // an id of an earlier generation, now unused
            w.WriteLine($"{i,-10} {Ip4.Format(rn.Address, rn.Port) + "/" + IpProto.Name(rn.Proto).ToUpperInvariant(),-24} {maps.ServiceNames[i]}");
        }
    }
}
