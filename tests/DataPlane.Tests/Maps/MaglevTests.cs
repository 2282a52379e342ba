using DataPlane.FixtureBuilder;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;
using DataPlane.Tests.Kubernetes;

namespace DataPlane.Tests.Maps;

/// <summary>Maglev consistent hashing: balance, node independence, minimal disruption, and its use by the pipeline.</summary>
public class MaglevTests
{
    static uint[] Table(IEnumerable<uint> addresses, int m = MaglevTable.DefaultSize)
    {
        // Backend id = address, so tables built from differently ordered inputs can be compared slot by slot.
        uint[] ids = [.. addresses];
        var t = new uint[m];
        MaglevTable.Build(ids, id => (id, (ushort)8080), t);
        return t;
    }

    static uint[] Addresses(int n) => [.. Enumerable.Range(0, n).Select(i => Ip4.Parse("10.244.0.0") + 10 + (uint)i * 7)];

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(100)]
    public void Every_backend_gets_its_share_of_slots_within_one(int n)
    {
        uint[] t = Table(Addresses(n));
        Assert.DoesNotContain(0u, t);
        var counts = t.GroupBy(x => x).Select(g => g.Count()).ToArray();
        Assert.Equal(n, counts.Length);
        Assert.True(counts.Max() - counts.Min() <= 1, $"shares {counts.Min()}..{counts.Max()}");
    }

    [Fact]
    public void Every_node_builds_the_same_table_whatever_order_the_endpoints_come_in()
    {
        uint[] a = Addresses(20);
        uint[] shuffled = [.. a.OrderBy(x => HashMix.Mix(x, 0, 42))];
        Assert.Equal(Table(a), Table(shuffled));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(10)]
    [InlineData(50)]
    public void Removing_one_of_n_backends_remaps_about_one_nth_of_the_slots(int n)
    {
        uint[] all = Addresses(n);
        uint removed = all[n / 2];
        uint[] before = Table(all), after = Table(all.Where(a => a != removed));
        int moved = 0, movedOthers = 0;
        for (int i = 0; i < before.Length; i++)
        {
            if (before[i] == after[i]) continue;
            moved++;
            if (before[i] != removed) movedOthers++;
        }
        Assert.DoesNotContain(removed, after);
        double fraction = moved / (double)before.Length;
        // The removed backend's 1/n must move; Maglev moves only a little more (paper §3.4, figure 12).
        Assert.InRange(fraction, 1.0 / n * 0.95, 1.0 / n * 1.6);
        Assert.True(movedOthers < before.Length / n, $"{movedOthers} slots of surviving backends moved");
    }

    [Fact]
    public void Flows_through_the_pipeline_remap_about_one_nth_when_an_endpoint_goes()
    {
        const int n = 10, flows = 20_000;
        using var dir = new ManifestDirectory();
        string Slice(IEnumerable<string> eps) =>
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s-1, namespace: default, labels: {kubernetes.io/service-name: s}}\n" +
            "addressType: IPv4\nports: [{name: p, port: 8080}]\nendpoints:\n" + string.Concat(eps.Select(e => $"- addresses: [\"{e}\"]\n  nodeName: node-2\n"));
        string[] eps = [.. Enumerable.Range(0, n).Select(i => $"10.244.2.{10 + i}")];
        dir.Write("c.yaml", TestManifests.Node1 + """
            apiVersion: v1
            kind: Service
            metadata: {name: s, namespace: default, annotations: {service.cilium.io/lb-algorithm: maglev}}
            spec: {clusterIP: 10.96.0.10, ports: [{name: p, port: 80, targetPort: 8080}]}
            ---
            """ + "\n" + Slice(eps));
        var cp = new ControlPlane(dir.Root, "node-1");
        string[] Backends()
        {
            // A fresh pipeline (an empty conntrack table) balances every flow anew.
            var p = new PacketPipeline(cp.Holder, new PipelineOptions { CtCapacity = 1 << 15 });
            var r = new string[flows];
            for (int i = 0; i < flows; i++)
            {
                var (v, _, o) = TestWorld.Run(p, TestWorld.Syn($"10.244.1.{1 + i % 250}", (ushort)(10000 + i), "10.96.0.10", 80));
                Assert.Equal(Verdict.Forward, v);
                r[i] = Ip4.Format(new Ipv4Header(o.AsSpan(14)).Dst);
            }
            return r;
        }
        string[] before = Backends();
        string overlay = dir.Write("../maglev-after-" + Guid.NewGuid().ToString("N") + ".yaml", Slice(eps.Where(e => e != eps[3])));
        cp.Apply(overlay);
        File.Delete(overlay);
        string[] after = Backends();
        int moved = before.Zip(after).Count(p => p.First != p.Second);
        int onRemoved = before.Count(b => b == eps[3]);
        Assert.InRange(onRemoved, flows / n * 0.8, flows / n * 1.2);           // it had its share
        Assert.All(before.Zip(after).Where(p => p.First == eps[3]), p => Assert.NotEqual(eps[3], p.Second));
        Assert.InRange(moved, onRemoved, (int)(onRemoved * 1.6));
    }

    [Fact]
    public void Two_nodes_with_different_random_state_pick_the_same_backend_for_a_flow()
    {
        var b = new MapSetBuilder(new NodeInfo("n", TestWorld.Node, [TestWorld.Node], null, []));
        ushort svc = b.AddServicePort("default/web:http", TestWorld.Vip, 80, IpProto.Tcp);
        uint[] ids = [.. Enumerable.Range(0, 7).Select(i => b.AddBackend(TestWorld.Backend(i), 8080, IpProto.Tcp))];
        b.AddFrontend(new Lb4Key(TestWorld.Vip, 80, IpProto.Tcp), svc, ServiceFlags.ClusterIp | ServiceFlags.Maglev, ids);
        var holder = new MapSetHolder(b.Build(1));
        var p1 = new PacketPipeline(holder, new PipelineOptions { Seed = 1, CtCapacity = 1 << 12 });
        var p2 = new PacketPipeline(holder, new PipelineOptions { Seed = 99, CtCapacity = 1 << 12 });
        var seen = new HashSet<uint>();
        for (ushort port = 1000; port < 1200; port++)
        {
            byte[] syn = TestWorld.Syn("10.244.1.5", port, "10.96.0.10", 80);
            var (v1, r1, _) = TestWorld.Run(p1, syn);
            var (v2, r2, _) = TestWorld.Run(p2, syn);
            Assert.Equal(Verdict.Forward, v1);
            Assert.Equal(Verdict.Forward, v2);
            Assert.Equal(r1.OutDstIp, r2.OutDstIp);
            seen.Add(r1.OutDstIp);
        }
        Assert.Equal(7, seen.Count);
    }

    [Fact]
    public void The_annotation_overrides_the_global_algorithm_and_a_bad_value_names_the_field()
    {
        using var dir = new ManifestDirectory();
        dir.Write("c.yaml", TestManifests.Node1 + """
            apiVersion: v1
            kind: Service
            metadata: {name: r, namespace: default, annotations: {service.cilium.io/lb-algorithm: random}}
            spec: {clusterIP: 10.96.0.11, ports: [{port: 80}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: d, namespace: default}
            spec: {clusterIP: 10.96.0.12, ports: [{port: 80}]}
            """);
        MapSet maps = ControlPlane.LoadAndCompile(dir.Root, "node-1", new CompileOptions { Algorithm = LoadBalancerAlgorithm.Maglev, MaglevTableSize = 251 });
        Assert.Equal(ServiceFlags.None, maps.Services.Lookup(new Lb4Key(Ip4.Parse("10.96.0.11"), 80, IpProto.Tcp)).Flags & ServiceFlags.Maglev);
        Assert.Equal(ServiceFlags.Maglev, maps.Services.Lookup(new Lb4Key(Ip4.Parse("10.96.0.12"), 80, IpProto.Tcp)).Flags & ServiceFlags.Maglev);

        dir.Write("c.yaml", File.ReadAllText(Path.Combine(dir.Root, "c.yaml")).Replace("lb-algorithm: random", "lb-algorithm: roundrobin"));
        var e = Assert.Throws<ManifestException>(() => ControlPlane.LoadAndCompile(dir.Root, "node-1"));
        Assert.Contains("c.yaml", e.Message);
        Assert.Contains("default/r", e.Message);
        Assert.Contains("service.cilium.io/lb-algorithm", e.Message);
        Assert.Contains("roundrobin", e.Message);
    }
}
