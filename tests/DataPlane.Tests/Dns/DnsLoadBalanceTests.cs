using DataPlane.Dns;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Dns;

/// <summary>
/// The answer's address records are shuffled per query as the default Corefile's <c>loadbalance</c> does (CoreDNS
/// plugin/loadbalance/loadbalance.go), by a draw keyed by the query packet and its id under the seed: every order shows
/// up over many queries, the same query always gets the same order, and a one-record answer is as it was.
/// </summary>
public class DnsLoadBalanceTests
{
    const string Name = "big.default.svc.cluster.local";

    static MapSet Headless(int endpoints)
    {
        using var dir = new TempDir("dns-lb");
        string eps = string.Join("\n", Enumerable.Range(1, endpoints).Select(i => $"- {{addresses: [10.244.3.{i}], conditions: {{ready: true}}}}"));
        File.WriteAllText(dir.File("big.yaml"), TestManifests.Node1 +
            "apiVersion: v1\nkind: Service\nmetadata: {name: big, namespace: default}\nspec: {clusterIP: None, ports: [{name: p, port: 80}]}\n---\n" +
            "apiVersion: v1\nkind: Service\nmetadata: {name: one, namespace: default}\nspec: {clusterIP: 10.96.0.77, ports: [{name: p, port: 80}]}\n---\n" +
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: big-1, namespace: default, labels: {kubernetes.io/service-name: big}}\n" +
            "addressType: IPv4\nports: [{name: p, port: 80, protocol: TCP}]\nendpoints:\n" + eps + "\n");
        return ClusterCompiler.Compile(ManifestLoader.Load(dir.Path), "node-1",
            new CompileOptions { Dns = new DnsOptions { Mode = DnsMode.Answer, ClusterDns = DnsWorld.DnsIp } });
    }

    /// <summary>The answer's addresses, in order, for query <paramref name="id"/> sent by one client at one time.</summary>
    static string Order(PacketPipeline p, string name, ushort id)
    {
        byte[] query = DnsMessage.BuildQuery(name, DnsType.A, id);
        var frame = new byte[64 + query.Length];
        int len = DnsFrames.Udp(frame, DnsWorld.Client, 40000, DnsWorld.DnsIp, query);
        var reply = new byte[1536];
        Assert.Equal(Verdict.Answer, p.Process(frame.AsSpan(0, len), 1_000_000_000, reply, out PacketResult r));
        DnsMessage m = DnsMessage.Decode(DnsFrames.Payload(reply.AsSpan(0, r.OutLength)).ToArray())!;
        return string.Join(" ", m.Answer.Select(a => a[(a.LastIndexOf(' ') + 1)..]));
    }

    static PacketPipeline Pipeline(MapSet maps, ulong seed) => new(new MapSetHolder(maps), new PipelineOptions { Seed = seed, CtCapacity = 64 });

    [Fact]
    public void Three_endpoints_come_in_every_order_over_many_queries_and_in_one_order_per_query()
    {
        MapSet maps = Headless(3);
        using PacketPipeline p = Pipeline(maps, seed: 1);
        var counts = new Dictionary<string, int>();
        for (ushort id = 0; id < 600; id++)
        {
            string order = Order(p, Name, id);
            counts[order] = counts.GetValueOrDefault(order) + 1;
            Assert.Equal(order, Order(p, Name, id)); // the same query again: the same order
        }
        // All 3! orders, each about a sixth of the time (100 expected; a fair shuffle stays far inside 50..150).
        Assert.Equal(6, counts.Count);
        Assert.All(counts, kv => Assert.InRange(kv.Value, 50, 150));
        Assert.All(counts.Keys, o => Assert.Equal(["10.244.3.1", "10.244.3.2", "10.244.3.3"], o.Split(' ').Order()));
    }

    [Fact]
    public void The_order_is_the_seed_s_and_the_query_s_only()
    {
        MapSet maps = Headless(3);
        using PacketPipeline a = Pipeline(maps, seed: 1), again = Pipeline(maps, seed: 1), other = Pipeline(maps, seed: 2);
        // Unrelated queries in between change nothing: the draw is keyed, not a running generator.
        string[] first = [.. Enumerable.Range(0, 50).Select(id => Order(a, Name, (ushort)id))];
        for (ushort id = 1000; id < 1100; id++) Order(again, Name, id);
        Assert.Equal(first, Enumerable.Range(0, 50).Select(id => Order(again, Name, (ushort)id)));
        Assert.NotEqual(first, Enumerable.Range(0, 50).Select(id => Order(other, Name, (ushort)id)));
    }

    [Fact]
    public void A_one_record_answer_is_unchanged_and_two_records_swap_half_the_time()
    {
        MapSet maps = Headless(2);
        using PacketPipeline p = Pipeline(maps, seed: 1);
        Assert.All(Enumerable.Range(0, 20), id => Assert.Equal("10.96.0.77", Order(p, "one.default.svc.cluster.local", (ushort)id)));
        int swapped = Enumerable.Range(0, 400).Count(id => Order(p, Name, (ushort)id) == "10.244.3.2 10.244.3.1");
        Assert.InRange(swapped, 140, 260);
    }
}
