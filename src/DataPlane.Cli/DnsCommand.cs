using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using DataPlane.Dns;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Cli;

/// <summary>
/// <c>dataplane dns --cluster P NAME [TYPE]</c>: like <c>dig @cluster-dns NAME TYPE</c>: a real query frame through the
/// pipeline's DNS stage (always answering here), the response frame decoded. <c>--from ns/pod</c> resolves as that pod's
/// stub resolver would, printing every query its search path sends until the first answer.
/// </summary>
public static class DnsCommand
{
    static readonly JsonSerializerOptions JsonText = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    const uint DefaultClient = 0x0AF40001; // 10.244.0.1: a pod-network address when no --from pod gives one

    public static Command Build()
    {
        var cluster = new Option<string>("--cluster") { Description = "Manifest file or folder", Required = true };
        var name = new Argument<string?>("name") { Description = "The name to look up", Arity = ArgumentArity.ZeroOrOne };
        var type = new Argument<string>("type") { Description = "Record type (A, AAAA, SRV, PTR, TXT, SOA, NS, CNAME, ANY)", DefaultValueFactory = _ => "A" };
        var dnsArgs = new DnsArgs();
        var tcp = new Option<bool>("--tcp") { Description = "Send the query over TCP (one segment, length-prefixed)" };
        var json = new Option<bool>("--json") { Description = "One JSON line per query" };
        var batch = new Option<string?>("--batch") { Description = "File of {\"qname\",\"qtype\"} lines" };
        var from = new Option<string?>("--from") { Description = "ns/pod: resolve as that pod's resolver does (its resolv.conf, search path, ndots)" };

        var cmd = new Command("dns", "Query the cluster DNS the data plane answers, like dig (or as a pod's resolver with --from)")
            { cluster, name, type, tcp, json, batch, from };
        dnsArgs.AddTo(cmd);
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            ClusterManifests m = ManifestLoader.Load(pr.GetValue(cluster)!);
            DnsOptions options = dnsArgs.Options(pr, forceMode: DnsMode.Answer); // asking is answering
            DnsZone zone = DnsZoneCompiler.Compile(m, options, 1, w => Console.Error.WriteLine($"dataplane: warning: {w}"));
            bool asJson = pr.GetValue(json);

            uint client = DefaultClient;
            Pod? pod = null;
            if (pr.GetValue(from) is { } who)
            {
                string[] parts = who.Split('/');
                if (parts.Length != 2) throw new UsageException($"--from: '{who}' is not namespace/pod");
                pod = m.Pods.FirstOrDefault(p => (p.Namespace ?? "default") == parts[0] && p.Name == parts[1])
                    ?? throw new UsageException($"--from: no Pod {who} in the manifests (found: {(m.Pods.Count == 0 ? "none" : string.Join(", ", m.Pods.Select(p => p.Key)))})");
                client = pod.PodIP ?? client;
            }
            var client0 = new Client(zone, client, pr.GetValue(tcp));

            if (pr.GetValue(batch) is { } file)
            {
                int line = 0;
                foreach (string text in File.ReadLines(file))
                {
                    line++;
                    if (string.IsNullOrWhiteSpace(text)) continue;
                    (string qname, ushort qtype) = ParseBatchLine(file, line, text);
                    DnsMessage? r = client0.Ask(qname, qtype);
                    Console.Out.WriteLine(asJson ? ToJson(r).ToJsonString(JsonText) : ToText(qname, qtype, r));
                }
                return 0;
            }
            if (pr.GetValue(name) is not { } qn) throw new UsageException("dns needs a NAME (or --batch FILE)");
            ushort t = DnsType.Parse(pr.GetValue(type)!);
            if (t == 0) throw new UsageException($"'{pr.GetValue(type)}' is not a record type");
            if (pod is not null) return FromPod(pod, options, zone, client0, qn, t, asJson);
            DnsMessage? answer = client0.Ask(qn, t);
            Console.Out.WriteLine(asJson ? ToJson(answer).ToJsonString(JsonText) : ToText(qn, t, answer));
            return 0;
        }));
        return cmd;
    }

    static int FromPod(Pod pod, DnsOptions options, DnsZone zone, Client client, string name, ushort type, bool asJson)
    {
        PodResolvConf rc = PodResolvConf.For(pod, options.ClusterDomain, Ip4.Format(zone.Address));
        if (!rc.UsesClusterDns)
        {
            string why = $"Pod {pod.Key} (dnsPolicy {pod.DnsPolicy}{(pod.HostNetwork ? ", hostNetwork" : "")}) does not use the cluster DNS: its queries go to the node's or its own nameservers";
            if (asJson) Console.Out.WriteLine(new JsonObject { ["queries"] = new JsonArray(), ["result"] = null, ["note"] = why }.ToJsonString(JsonText));
            else Console.Out.Write($"# resolv.conf of {pod.Key}\n{rc.Text()}{why}\n");
            return 0;
        }
        var sent = rc.Resolve(name, candidate => client.Ask(candidate, type));
        if (asJson)
        {
            var queries = new JsonArray();
            foreach (var (qname, m) in sent)
                queries.Add(new JsonObject { ["qname"] = qname, ["rcode"] = m?.RcodeName ?? "NONE", ["answer"] = Lines(m?.Answer) });
            DnsMessage? last = sent.Count > 0 ? sent[^1].Answer : null;
            var result = new JsonObject { ["rcode"] = last?.RcodeName ?? "NONE", ["answer"] = Lines(last?.Answer) };
            Console.Out.WriteLine(new JsonObject { ["queries"] = queries, ["result"] = result }.ToJsonString(JsonText));
            return 0;
        }
        var w = Console.Out;
        w.Write($"# resolv.conf of {pod.Key} (dnsPolicy {pod.DnsPolicy})\n{rc.Text()}\n");
        int i = 0;
        foreach (var (qname, m) in sent)
        {
            w.WriteLine($"query {++i}: {qname} {DnsType.Name(type)} -> {m?.RcodeName ?? "no answer"}{(m is { Rcode: 0, Answer.Count: 0 } ? " (no data)" : "")}");
            if (m is not null) foreach (string a in m.Answer) w.WriteLine($"    {a}");
        }
        return 0;
    }

    /// <summary>Sends queries as frames through a pipeline whose DNS stage answers, and decodes the response frames.</summary>
    sealed class Client
    {
        readonly PacketPipeline _pipeline;
        readonly DnsZone _zone;
        readonly uint _src;
        readonly bool _tcp;
        readonly byte[] _frame = new byte[1600];
        readonly byte[] _reply = new byte[1536];
        ushort _id = 1;

        public Client(DnsZone zone, uint src, bool tcp)
        {
            _zone = zone;
            _src = src;
            _tcp = tcp;
            MapSet maps = new MapSetBuilder(new NodeInfo("dns-client", src, [src], null, [])) { Dns = zone }.Build(1);
            _pipeline = new PacketPipeline(new MapSetHolder(maps), new PipelineOptions { CtCapacity = 16 });
        }

        public DnsMessage? Ask(string name, ushort type)
        {
            if (!DnsName.TryToWire(name, out _, out string? error)) throw new UsageException($"'{name}': {error}");
            ushort id = _id++;
            byte[] q = DnsMessage.BuildQuery(name, type, id);
            ushort sport = (ushort)(40000 + id);
            int len = _tcp ? DnsFrames.Tcp(_frame, _src, sport, _zone.Address, q, 1000, 2000) : DnsFrames.Udp(_frame, _src, sport, _zone.Address, q);
            Verdict v = _pipeline.Process(_frame.AsSpan(0, len), 1_000_000_000, _reply, out PacketResult r);
            if (v != Verdict.Answer) return null;
            return DnsMessage.Decode(DnsFrames.Payload(_reply.AsSpan(0, r.OutLength)));
        }
    }

    static (string, ushort) ParseBatchLine(string file, int line, string text)
    {
        try
        {
            var o = JsonNode.Parse(text)!.AsObject();
            string qname = (string?)o["qname"] ?? throw new UsageException($"{file}:{line}: no \"qname\"");
            string tname = (string?)o["qtype"] ?? "A";
            ushort t = DnsType.Parse(tname);
            return t == 0 ? throw new UsageException($"{file}:{line}: '{tname}' is not a record type") : (qname, t);
        }
        catch (JsonException e) { throw new UsageException($"{file}:{line}: not a JSON object: {e.Message}"); }
        catch (InvalidOperationException e) { throw new UsageException($"{file}:{line}: {e.Message}"); }
    }

    static JsonArray Lines(IReadOnlyList<string>? lines) => new([.. (lines ?? []).Select(l => (JsonNode)JsonValue.Create(l)!)]);

    public static JsonObject ToJson(DnsMessage? m) => new()
    {
        ["rcode"] = m?.RcodeName ?? "NONE",
        ["answer"] = Lines(m?.Answer),
        ["authority"] = Lines(m?.Authority),
        ["additional"] = Lines(m?.Additional),
    };

    static string ToText(string name, ushort type, DnsMessage? m)
    {
        if (m is null) return $";; no answer for {name} {DnsType.Name(type)}";
        var sb = new System.Text.StringBuilder();
        string flags = string.Join(' ', new[] { "qr", m.Authoritative ? "aa" : null, m.Truncated ? "tc" : null, (m.Flags & 0x0100) != 0 ? "rd" : null }.Where(f => f is not null));
        sb.Append($";; ->>HEADER<<- opcode: QUERY, status: {m.RcodeName}, id: {m.Id}\n");
        sb.Append($";; flags: {flags}; QUERY: 1, ANSWER: {m.Answer.Count}, AUTHORITY: {m.Authority.Count}, ADDITIONAL: {m.Additional.Count}\n\n");
        sb.Append($";; QUESTION SECTION:\n;{m.QuestionName} IN {DnsType.Name(m.QuestionType)}\n");
        foreach (var (title, lines) in new[] { ("ANSWER", m.Answer), ("AUTHORITY", m.Authority), ("ADDITIONAL", m.Additional) })
        {
            if (lines.Count == 0) continue;
            sb.Append($"\n;; {title} SECTION:\n");
            foreach (string l in lines) sb.Append(l).Append('\n');
        }
        return sb.ToString().TrimEnd('\n');
    }
}
