using System.Text.Json.Nodes;
using DataPlane.Dns;
using DataPlane.IO.Text;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Kubernetes;

/// <summary>
/// Views that read the one resolved cluster cannot disagree: <c>dataplane dns</c> answers every name the cluster holds
/// as the data plane's DNS stage answers the same query frame in a replay, and <c>cluster --json</c>'s endpoints are the
/// backends <c>maps</c> compiles, over the bundled cluster, the tutorials' manifests and real-world dumps.
/// </summary>
public class OneTruthTests
{
    public static TheoryData<string> ManifestSets =>
    [
        "pcaps/cluster",
        "pcaps/examples/web.yaml",
        "tests/manifests-realworld/gke-dump",
        "tests/manifests-realworld/helm-app",
        "tests/manifests-realworld/k3s-dump",
        "tests/manifests-realworld/kind-dump",
        "tests/manifests-realworld/seeds/000-services-tutorial.yaml",
        "tests/manifests-realworld/seeds/003-hello-bye-lab.yaml",
        "tests/manifests-realworld/seeds/004-headless-lab.yaml",
    ];

    static ResolvedCluster Resolve(string set, DnsMode mode = DnsMode.Answer) =>
        ResolvedCluster.Resolve(ManifestLoader.Load(Repo.Path_(set.Split('/'))), new CompileOptions { Dns = new DnsOptions { Mode = mode } });

    /// <summary>Every name the resolved cluster holds, with the record type to ask for it.</summary>
    static List<(string Name, ushort Type)> Names(ResolvedCluster c)
    {
        string zone = c.Options.Dns.ClusterDomain;
        var names = new List<(string, ushort)>();
        foreach (Service s in c.Services)
        {
            string svc = $"{s.Name}.{s.Namespace}.svc.{zone}";
            names.Add((svc, DnsType.A));
            names.Add((svc, DnsType.SRV));
            foreach (ServicePort p in s.Ports)
                if (p.Name.Length > 0) names.Add(($"_{p.Name}._{p.Protocol.ToString().ToLowerInvariant()}.{svc}", DnsType.SRV));
            if (c.ClusterIp(s) is uint ip) names.Add((DnsName.ReverseName(ip), DnsType.PTR));
            foreach (EndpointSlice slice in c.SlicesOf(s))
                foreach (SliceEndpoint e in slice.Endpoints)
                    foreach (uint a in e.Addresses)
                    {
                        names.Add(($"{e.Hostname ?? Ip4.Format(a).Replace('.', '-')}.{svc}", DnsType.A));
                        names.Add((DnsName.ReverseName(a), DnsType.PTR));
                    }
        }
        foreach (Pod p in c.Pods)
        {
            if (p.Hostname is { } h && p.Subdomain is { } sub) names.Add(($"{h}.{sub}.{p.Namespace}.svc.{zone}", DnsType.A));
            if (p.PodIP is uint ip) names.Add(($"{Ip4.Format(ip).Replace('.', '-')}.{p.Namespace}.pod.{zone}", DnsType.A));
        }
        return [.. names.Distinct()];
    }

    /// <summary>The data plane's answer: the query as a UDP frame from a pod through node-1's pipeline, as a replay runs it.</summary>
    static DnsMessage? PipelineAnswer(PacketPipeline p, DnsZone zone, string name, ushort type, ushort id)
    {
        byte[] frame = new byte[1600], reply = new byte[4096];
        int len = DnsFrames.Udp(frame, 0x0AF40105, (ushort)(20000 + id), zone.Address, DnsMessage.BuildQuery(name, type, id));
        Verdict v = p.Process(frame.AsSpan(0, len), 1_000_000_000, reply, out PacketResult r);
        return v == Verdict.Answer ? DnsMessage.Decode(DnsFrames.Payload(reply.AsSpan(0, r.OutLength))) : null;
    }

    static string Canonical(JsonNode? answer) =>
        string.Join("|", answer!.AsArray().Select(a => (string)a!).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(ManifestSets))]
    public void Dns_answers_every_name_of_the_cluster_as_the_pipeline_does(string set)
    {
        ResolvedCluster c = Resolve(set);
        List<(string Name, ushort Type)> names = Names(c);
        MapSet maps = ClusterCompiler.Compile(c, c.Nodes[0].Name);
        using var pipeline = new PacketPipeline(new MapSetHolder(maps), new PipelineOptions { CtCapacity = 64 });

        using var dir = new ManifestDirectory();
        string batch = dir.Write("batch.jsonl", string.Join("\n", names.Select(n => new JsonObject { ["qname"] = n.Name, ["qtype"] = DnsType.Name(n.Type) }.ToJsonString())));
        var r = CliTests.Run("dns", "--cluster", set, "--batch", batch, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(names.Count, lines.Length);
        int answered = 0;
        for (int i = 0; i < names.Count; i++)
        {
            JsonNode cli = JsonNode.Parse(lines[i])!;
            DnsMessage? replayed = PipelineAnswer(pipeline, maps.Dns!, names[i].Name, names[i].Type, (ushort)(i + 1));
            Assert.NotNull(replayed);
            string what = $"{names[i].Name} {DnsType.Name(names[i].Type)}";
            Assert.True(replayed.RcodeName == (string)cli["rcode"]!, $"{what}: dns says {cli["rcode"]}, the pipeline {replayed.RcodeName}");
            Assert.True(string.Join("|", replayed.Answer.Order(StringComparer.Ordinal)) == Canonical(cli["answer"]), $"{what}: dns {cli["answer"]!.ToJsonString()} ≠ pipeline {string.Join(", ", replayed.Answer)}");
            if (replayed.Answer.Count > 0) answered++;
        }
        Assert.True(answered > 0, "no name had an answer");
    }

    [Fact]
    public void Headless_and_StatefulSet_names_are_answered_from_the_pods_the_controllers_made()
    {
        using var dir = new ManifestDirectory();
        string path = dir.Write("zk.yaml", """
            apiVersion: v1
            kind: Service
            metadata: {name: zk-hs}
            spec: {clusterIP: None, selector: {app: zk}, ports: [{name: client, port: 2181}]}
            ---
            apiVersion: apps/v1
            kind: StatefulSet
            metadata: {name: zk}
            spec:
              serviceName: zk-hs
              replicas: 3
              selector: {matchLabels: {app: zk}}
              template:
                metadata: {labels: {app: zk}}
                spec: {containers: [{name: zk, image: zookeeper, ports: [{name: client, containerPort: 2181}]}]}
            """);
        ResolvedCluster c = ResolvedCluster.Resolve(ManifestLoader.Load(path));
        string[] ips = [.. c.Pods.Where(p => p.Name.StartsWith("zk-", StringComparison.Ordinal)).Select(p => Ip4.Format(p.PodIP!.Value))];
        Assert.Equal(3, ips.Length);

        var a = CliTests.Run("dns", "--cluster", path, "zk-1.zk-hs.default.svc.cluster.local", "--json");
        Assert.True(a.ExitCode == 0, a.ToString());
        Assert.Equal($"zk-1.zk-hs.default.svc.cluster.local. 5 IN A {ips[1]}", (string)JsonNode.Parse(a.Stdout)!["answer"]![0]!);
        var headless = JsonNode.Parse(CliTests.Run("dns", "--cluster", path, "zk-hs.default.svc.cluster.local", "--json").Stdout)!;
        Assert.Equal(ips.Order(), headless["answer"]!.AsArray().Select(x => ((string)x!).Split(' ')[^1]).Order());
        var srv = JsonNode.Parse(CliTests.Run("dns", "--cluster", path, "_client._tcp.zk-hs.default.svc.cluster.local", "SRV", "--json").Stdout)!;
        Assert.Equal(3, srv["answer"]!.AsArray().Count);
        Assert.All(srv["answer"]!.AsArray(), x => Assert.Matches(@" 2181 zk-\d\.zk-hs\.default\.svc\.cluster\.local\.$", (string)x!));

        // --from finds a pod the controller made, and the pod's short name resolves through its search path.
        var from = CliTests.Run("dns", "--cluster", path, "--from", "default/zk-0", "zk-2.zk-hs");
        Assert.True(from.ExitCode == 0, from.ToString());
        Assert.Contains($"zk-2.zk-hs.default.svc.cluster.local. 5 IN A {ips[2]}", from.Stdout);

        // trace --dst takes the same name and goes where cluster DNS sends it.
        var trace = CliTests.Run("trace", "--cluster", path, "--src", "default/zk-0", "--dst", "zk-2.zk-hs.default.svc.cluster.local:2181", "--json");
        Assert.True(trace.ExitCode == 0, trace.ToString());
        JsonNode t = JsonNode.Parse(trace.Stdout)!;
        Assert.StartsWith($"node-1 (where pod default/zk-0 runs)", (string)t["node"]!);
        Assert.Contains($"resolves to {ips[2]}", (string)t["resolved"]!);
    }

    [Fact]
    public void Dns_takes_the_cluster_options_every_command_takes()
    {
        string web = Repo.Path_("pcaps", "examples", "web.yaml");
        using var dir = new ManifestDirectory();
        string extra = dir.Write("more.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: more}\nspec: {selector: {app: web}, ports: [{port: 81}]}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
        // Two inputs, a skipped kind warned about as everywhere, and the options the others take.
        var r = CliTests.Run("dns", "--cluster", web, "--cluster", extra, "--strict", "--service-cidr", "10.96.0.0/12", "--lb-pool", "192.168.0.240/28",
            "more.default.svc.cluster.local", "--json");
        Assert.Equal(1, r.ExitCode); // --strict: the ConfigMap is an error, as for maps
        var lax = CliTests.Run("dns", "--cluster", web, "--cluster", extra, "more.default.svc.cluster.local", "--json");
        Assert.True(lax.ExitCode == 0, lax.ToString());
        Assert.Contains(lax.StderrLines, l => l.StartsWith("dataplane: warning: skipped 1 object", StringComparison.Ordinal));
        Assert.Equal("NOERROR", (string)JsonNode.Parse(lax.Stdout)!["rcode"]!);
    }

    [Fact]
    public void Dns_reads_the_cluster_from_standard_input()
    {
        string yaml = File.ReadAllText(Repo.Path_("pcaps", "examples", "web.yaml"));
        var r = CliTests.RunWithInput(yaml, "dns", "--cluster", "-", "web.default.svc.cluster.local", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("web.default.svc.cluster.local. 5 IN A 10.96.0.2", (string)JsonNode.Parse(r.Stdout)!["answer"]![0]!);
    }

    [Theory]
    [MemberData(nameof(ManifestSets))]
    public void Cluster_json_endpoints_are_the_backends_maps_compiles(string set)
    {
        ResolvedCluster c = Resolve(set, DnsMode.Proxy);
        string node = c.Nodes[0].Name;
        MapSet maps = ClusterCompiler.Compile(c, node);
        JsonNode json = JsonNode.Parse(ClusterListing.ToJson(c.Inventory).ToJsonString())!;
        var backends = new Dictionary<(uint, ushort, byte), string>();
        maps.ForEachFrontend((k, v) =>
        {
            if (k.Scope != 0 || (v.Flags & ServiceFlags.ClusterIp) == 0 || (v.Flags & ServiceFlags.Wildcard) != 0) return;
            var list = new List<string>();
            for (uint i = 0; i < v.Count; i++)
            {
                Lb4Backend b = maps.Backend(maps.Slot(v.SlotOffset + i));
                list.Add(Ip4.Format(b.Address, b.Port));
            }
            backends[(k.Address, k.Port, k.Proto)] = string.Join(",", list.Order(StringComparer.Ordinal));
        });
        int compared = 0;
        foreach (JsonNode? svc in json["services"]!.AsArray())
        {
            Service s = c.Service($"{svc!["namespace"]}/{svc["name"]}")!;
            if (c.ClusterIp(s) is not uint ip || s.InternalTrafficPolicy == TrafficPolicy.Local || s.TrafficDistribution is not null || s.TopologyMode is not null)
                continue;
            foreach (JsonNode? port in svc["ports"]!.AsArray())
            {
                string name = (string)port!["name"]!;
                var rows = svc["endpoints"]!.AsArray().Where(e => (string?)e!["portName"] == name && e["port"] is not null).ToArray();
                var ready = rows.Where(e => (bool)e!["ready"]!).ToArray();
                var usable = ready.Length > 0 ? ready : rows.Where(e => (bool)e!["serving"]! && (bool)e["terminating"]!).ToArray();
                string expected = string.Join(",", usable.Select(e => $"{e!["ip"]}:{e["port"]}").Distinct().Order(StringComparer.Ordinal));
                byte proto = (string)port["protocol"]! switch { "UDP" => IpProto.Udp, "SCTP" => IpProto.Sctp, _ => IpProto.Tcp };
                string actual = backends.GetValueOrDefault((ip, (ushort)(int)port["port"]!, proto), "");
                Assert.True(expected == actual, $"{s.Key} port {name}: cluster --json lists [{expected}], maps has [{actual}]");
                compared++;
            }
        }
        Assert.True(compared > 0, "no service port compared");
    }
}
