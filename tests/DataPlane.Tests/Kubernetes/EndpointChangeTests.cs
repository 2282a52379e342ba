using System.Text;
using CsCheck;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;

using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Kubernetes;

/// <summary>
/// The incremental path (an EndpointSlice change published as a delta over the last full generation) must give the
/// same maps as recompiling everything: checked frontend by frontend, slot by slot, serving set by serving set, over
/// random sequences of slice changes on services with every policy that shapes slots.
/// </summary>
public class EndpointChangeTests
{
    /// <summary>
    /// Cluster DNS proxied to CoreDNS (<c>--dns proxy</c>): with the emulated kube-dns answering (auto, no CoreDNS pods) every
    /// endpoint change would also change the DNS zone the data plane answers from, and take the full compile.
    /// </summary>
    static readonly CompileOptions ProxiedDns = new() { Dns = new DnsOptions { Mode = DataPlane.Dns.DnsMode.Proxy } };

    const string Cluster = TestManifests.Node1 + """
        apiVersion: kubeproxy.config.k8s.io/v1alpha1
        kind: KubeProxyConfiguration
        clusterCIDR: 10.244.0.0/16
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: plain, namespace: default}
        spec: {clusterIP: 10.96.0.1, ports: [{name: a, port: 80, targetPort: 8080}, {name: u, port: 53, protocol: UDP, targetPort: 5353}, {name: s, port: 3868, protocol: SCTP, targetPort: 3869}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: local, namespace: default}
        spec: {type: NodePort, externalTrafficPolicy: Local, clusterIP: 10.96.0.2, externalIPs: [198.51.100.7], ports: [{name: a, port: 80, targetPort: 8080, nodePort: 30002}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: internal, namespace: default}
        spec: {internalTrafficPolicy: Local, clusterIP: 10.96.0.3, ports: [{name: a, port: 80, targetPort: 8080}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: hashed, namespace: default, annotations: {service.cilium.io/lb-algorithm: maglev}}
        spec: {type: NodePort, clusterIP: 10.96.0.4, sessionAffinity: ClientIP, ports: [{name: a, port: 80, targetPort: 8080, nodePort: 30004}]}
        """;

    static readonly string[] Services = ["plain", "local", "internal", "hashed"];

    static string Slice(string svc, IEnumerable<(int Host, bool Local, int Condition)> eps)
    {
        var sb = new StringBuilder();
        sb.Append($"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: {svc}-1\n  namespace: default\n");
        sb.Append($"  labels: {{kubernetes.io/service-name: {svc}}}\naddressType: IPv4\n");
        sb.Append("ports: [{name: a, port: 8080}, {name: u, port: 5353, protocol: UDP}, {name: s, port: 3869, protocol: SCTP}]\nendpoints:");
        var list = eps.ToList();
        if (list.Count == 0) sb.Append(" []\n"); else sb.Append('\n');
        foreach (var (host, local, condition) in list)
        {
            string conditions = condition switch { 0 => "{ready: true}", 1 => "{ready: false, serving: true, terminating: true}", _ => "{ready: false}" };
            sb.Append($"- addresses: [\"10.244.{(local ? 1 : 2)}.{host}\"]\n  nodeName: {(local ? "node-1" : "node-2")}\n  conditions: {conditions}\n");
        }
        return sb.ToString();
    }

    static readonly Gen<(int Svc, (int, bool, int)[] Eps)> Change =
        Gen.Select(Gen.Int[0, Services.Length - 1], Gen.Select(Gen.Int[10, 25], Gen.Bool, Gen.Int[0, 2]).Array[0, 6]);

    [Fact]
    public void Incremental_changes_compile_to_the_same_maps_as_a_full_compile()
    {
        int incremental = 0, total = 0;
        Change.Array[1, 12].Sample(changes =>
        {
            using var dir = new ManifestDirectory();
            dir.Write("cluster.yaml", Cluster);
            foreach (string s in Services) dir.Write($"{s}.yaml", Slice(s, [(10, false, 0), (11, true, 0)]));
            var cp = new ControlPlane(dir.Root, "node-1", ProxiedDns);
            var published = new List<(MapSet Generation, string Seen)>();
            foreach (var (svc, eps) in changes)
            {
                string name = Services[svc];
                string path = dir.Write($"../change-{Guid.NewGuid():N}.yaml", Slice(name, eps.DistinctBy(e => (e.Item1, e.Item2))));
                MapSet got = cp.Apply(path);
                File.Delete(path);
                dir.Write($"{name}.yaml", Slice(name, eps.DistinctBy(e => (e.Item1, e.Item2)))); // the state a full compile sees
                total++;
                if (got.Delta is not null) incremental++;
                AssertSameMaps(ControlPlane.LoadAndCompile(dir.Root, "node-1"), got);
                published.Add((got, Describe(got)));
            }
            // Later deltas append to the slot and Maglev arrays earlier ones share: a published generation, which a
            // packet thread may still be reading, must read exactly as it did when it was published.
            foreach (var (generation, seen) in published) Assert.Equal(seen, Describe(generation));
        }, iter: 150);
        // The property is about the incremental path: most changes must have taken it.
        Assert.True(incremental > total / 2, $"only {incremental} of {total} changes were incremental");
    }

    [Fact]
    public void Thousands_of_changes_to_one_service_stay_incremental_and_keep_the_overlay_small()
    {
        // Each change leaves the previous slots and Maglev table behind; the overlay must compact them, not grow.
        using var dir = new ManifestDirectory();
        dir.Write("cluster.yaml", Cluster);
        foreach (string s in Services) dir.Write($"{s}.yaml", Slice(s, [(10, false, 0), (11, true, 0)]));
        var cp = new ControlPlane(dir.Root, "node-1", ProxiedDns);
        ClusterManifests[] variants = [.. Enumerable.Range(0, 3).Select(v =>
        {
            string path = dir.Write($"../variant-{Guid.NewGuid():N}.yaml", Slice("hashed", Enumerable.Range(10, 3 + v).Select(h => (h, h % 2 == 0, 0))));
            ClusterManifests m = ManifestLoader.Load(path);
            File.Delete(path);
            return m;
        })];
        MapSet last = cp.Holder.Current;
        var kept = new List<(MapSet Generation, string Seen)>();
        for (int i = 0; i < 3000; i++)
        {
            last = cp.Apply(variants[i % 3]);
            if (i % 97 == 0) kept.Add((last, Describe(last)));
            Assert.NotNull(last.Delta);
            Assert.True(last.Delta!.SlotCount < 4 * 64 + 4096 + 64, $"overlay slots grew to {last.Delta.SlotCount}");
            Assert.True(last.Delta.MaglevTableCount <= 2 * 4 + 4 + 4, $"overlay Maglev tables grew to {last.Delta.MaglevTableCount}");
        }
        dir.Write("hashed.yaml", Slice("hashed", Enumerable.Range(10, 3 + 2999 % 3).Select(h => (h, h % 2 == 0, 0))));
        AssertSameMaps(ControlPlane.LoadAndCompile(dir.Root, "node-1"), last);
        // Compaction moved the live slots to new arrays; generations published before it still read their own.
        foreach (var (generation, seen) in kept) Assert.Equal(seen, Describe(generation));
    }

    static void AssertSameMaps(MapSet expected, MapSet actual)
    {
        Assert.Equal(Describe(expected), Describe(actual));
    }

    /// <summary>Every frontend's effective value with ids resolved to what they name (the two compiles number differently).</summary>
    static string Describe(MapSet m)
    {
        var lines = new List<string>();
        m.ForEachFrontend((k, v) =>
        {
            var backends = Enumerable.Range(0, v.Count).Select(i => m.Backend(m.Slot(v.SlotOffset + (uint)i)))
                .Select(b => $"{Ip4.Format(b.Address, b.Port)}{(b.Local ? "L" : "")}");
            string line = $"{Ip4.Format(k.Address, k.Port)}/{k.Proto}/{k.Scope} {v.Flags} aff={v.AffinityTimeoutSeconds} " +
                          $"svc={m.ServiceName(v.RevNatIndex)} [{string.Join(' ', backends)}]";
            if ((v.Flags & ServiceFlags.Maglev) != 0)
            {
                // The whole table, by address: same endpoints must give the same table wherever it was built.
                var sb = new StringBuilder(" maglev=");
                for (uint h = 0; h < m.MaglevSize; h++) sb.Append(m.Backend(m.MaglevBackend(v.MaglevTable, h)).Address % 256).Append(',');
                line += sb.ToString().GetHashCode(); // string hash: equal tables, equal hash
            }
            // Serving set of the service port, policies aside (the UDP conntrack cleanup reads it).
            var serving = Enumerable.Range(0, 30).SelectMany(h => new[] { Ip4.Parse($"10.244.1.{h}"), Ip4.Parse($"10.244.2.{h}") })
                .Where(a => m.IsServing(v.RevNatIndex, a)).Select(a => Ip4.Format(a));
            line += $" serving({m.ServingCountOf(v.RevNatIndex)})={string.Join(' ', serving)}";
            lines.Add(line);
        });
        lines.Sort(StringComparer.Ordinal);
        return string.Join('\n', lines);
    }
}
