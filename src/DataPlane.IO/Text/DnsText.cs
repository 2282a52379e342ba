using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DataPlane.Dns;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;

namespace DataPlane.IO.Text;

/// <summary>
/// <c>dataplane dns</c>'s output: one answer in the shape of <c>dig</c> (header, flags, question, the non-empty
/// sections), or as one JSON line; and, with <c>--from</c>, a pod's resolv.conf and every query its search path sent.
/// </summary>
public static class DnsText
{
    /// <summary>Names and records as they are: the output is a terminal line, never embedded in HTML.</summary>
    static readonly JsonSerializerOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>One answer (null: none came back) as dig-style text or one JSON line.</summary>
    public static void Write(TextWriter w, string name, ushort type, DnsMessage? m, bool json) =>
        w.WriteLine(json ? Json(m).ToJsonString(JsonOptions) : Dig(name, type, m));

    /// <summary><c>{"rcode","answer":[…],"authority":[…],"additional":[…]}</c>, rcode "NONE" when no answer came back.</summary>
    public static JsonObject Json(DnsMessage? m) => new()
    {
        ["rcode"] = m?.RcodeName ?? "NONE",
        ["answer"] = Lines(m?.Answer),
        ["authority"] = Lines(m?.Authority),
        ["additional"] = Lines(m?.Additional),
    };

    /// <summary>dig's layout: header, flags and counts, question, then each non-empty section; no trailing newline.</summary>
    public static string Dig(string name, ushort type, DnsMessage? m)
    {
        if (m is null) return $";; no answer for {name} {DnsType.Name(type)}";
        var sb = new StringBuilder();
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

    /// <summary>A pod whose dnsPolicy sends its queries elsewhere: its resolv.conf and why no query reaches the cluster DNS.</summary>
    public static void WriteNotClusterDns(TextWriter w, Pod pod, PodResolvConf rc, bool json)
    {
        string why = $"Pod {pod.Key} (dnsPolicy {pod.DnsPolicy}{(pod.HostNetwork ? ", hostNetwork" : "")}) does not use the cluster DNS: its queries go to the node's or its own nameservers";
        if (json) w.WriteLine(new JsonObject { ["queries"] = new JsonArray(), ["result"] = null, ["note"] = why }.ToJsonString(JsonOptions));
        else w.Write($"# resolv.conf of {pod.Key}\n{rc.Text()}{why}\n");
    }

    /// <summary>
    /// What a pod's stub resolver did: its resolv.conf, then each query of the search path with its rcode and answer
    /// (JSON: <c>{"queries":[{"qname","rcode","answer"}],"result":{"rcode","answer"}}</c>, result = the last query's).
    /// </summary>
    public static void WriteResolution(TextWriter w, Pod pod, PodResolvConf rc, ushort type, IReadOnlyList<(string Name, DnsMessage? Answer)> sent, bool json)
    {
        if (json)
        {
            var queries = new JsonArray();
            foreach (var (qname, m) in sent)
                queries.Add((JsonNode)new JsonObject { ["qname"] = qname, ["rcode"] = m?.RcodeName ?? "NONE", ["answer"] = Lines(m?.Answer) });
            DnsMessage? last = sent.Count > 0 ? sent[^1].Answer : null;
            var result = new JsonObject { ["rcode"] = last?.RcodeName ?? "NONE", ["answer"] = Lines(last?.Answer) };
            w.WriteLine(new JsonObject { ["queries"] = queries, ["result"] = result }.ToJsonString(JsonOptions));
            return;
        }
        w.Write($"# resolv.conf of {pod.Key} (dnsPolicy {pod.DnsPolicy})\n{rc.Text()}\n");
        int i = 0;
        foreach (var (qname, m) in sent)
        {
            w.WriteLine($"query {++i}: {qname} {DnsType.Name(type)} -> {m?.RcodeName ?? "no answer"}{(m is { Rcode: 0, Answer.Count: 0 } ? " (no data)" : "")}");
            if (m is not null) foreach (string a in m.Answer) w.WriteLine($"    {a}");
        }
    }

    static JsonArray Lines(IReadOnlyList<string>? lines) => new([.. (lines ?? []).Select(l => (JsonNode)JsonValue.Create(l)!)]);
}
