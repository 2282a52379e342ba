using System.Text.Json.Nodes;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Seeds;

/// <summary>
/// The tutorials' commands (../shared/seeds) translated to <c>dataplane</c> and run through its CLI (the built
/// dataplane.dll, as <see cref="CliTests.Run"/> runs it): <c>kubectl get</c> → <c>cluster --json</c>, <c>curl</c> →
/// <c>trace --json</c>, <c>nslookup</c> → <c>dns [--from ns/pod] --json</c>, <c>env</c> → <c>env</c>. The manifests are
/// the seeds' own, in <c>Seeds/manifests/</c>, read from the source tree as the other tests read their data.
/// </summary>
static class SeedCli
{
    /// <summary>The client outside the cluster the tests curl NodePorts and load balancers from (TEST-NET-3).</summary>
    public const string Outside = "203.0.113.9";

    public static string Manifest(string file) => Repo.Path_("tests", "DataPlane.Tests", "Seeds", "manifests", file);

    /// <summary>--cluster for each file, in the order given: the order the reader applied them in.</summary>
    public static string[] Cluster(params string[] files) =>
        [.. files.SelectMany(f => new[] { "--cluster", Path.IsPathRooted(f) ? f : Manifest(f) })];

    public static CliTests.Result Run(params string[] args) => CliTests.Run(args);

    static JsonObject Json(CliTests.Result r, string what)
    {
        Assert.True(r.ExitCode == 0, $"{what}\n{r}");
        try { return JsonNode.Parse(r.Stdout)!.AsObject(); }
        catch (System.Text.Json.JsonException e) { throw new Xunit.Sdk.XunitException($"{what}: not one JSON object ({e.Message})\n{r}"); }
    }

    /// <summary><c>kubectl get nodes,pods,svc,endpoints</c>: <c>dataplane cluster --json</c>.</summary>
    public static ClusterView Get(string[] cluster, params string[] extra) =>
        new(Json(Run(["cluster", .. cluster, .. extra, "--json"]), "dataplane cluster " + string.Join(' ', extra)));

    /// <summary><c>curl</c> / <c>nc</c> / <c>ping</c>: the first packet through <c>dataplane trace --json</c>.</summary>
    public static TraceView Curl(string[] cluster, string src, string dst, params string[] extra) =>
        new(Json(Run(["trace", .. cluster, "--src", src, "--dst", dst, .. extra, "--json"]), $"dataplane trace --src {src} --dst {dst} {string.Join(' ', extra)}"));

    /// <summary>
    /// <c>nslookup NAME</c> in a pod: <c>dataplane dns --from ns/pod NAME --json</c>; the final answer's records (owner,
    /// type, data), and its rcode.
    /// </summary>
    public static DnsView LookupFrom(string[] cluster, string pod, string name, string type = "A", params string[] extra)
    {
        var o = Json(Run(["dns", .. cluster, .. extra, "--from", pod, name, type, "--json"]), $"dataplane dns --from {pod} {name} {type}");
        Assert.True(o["result"] is JsonObject, $"no result in {o.ToJsonString()}");
        return new DnsView(o["result"]!.AsObject());
    }

    /// <summary><c>dig NAME TYPE</c> at the cluster DNS: <c>dataplane dns NAME TYPE --json</c>.</summary>
    public static DnsView Lookup(string[] cluster, string name, string type = "A", params string[] extra) =>
        new(Json(Run(["dns", .. cluster, .. extra, name, type, "--json"]), $"dataplane dns {name} {type}"));

    /// <summary><c>kubectl exec POD -- env</c>: <c>dataplane env --from ns/pod</c>, one NAME=value per line.</summary>
    public static string[] Env(string[] cluster, string pod, params string[] extra)
    {
        var r = Run(["env", .. cluster, .. extra, "--from", pod]);
        Assert.True(r.ExitCode == 0, $"dataplane env --from {pod}\n{r}");
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}

sealed record PodView(string Namespace, string Name, string? Ip, string? Node, bool Ready, string? Owner)
{
    public string Ref => $"{Namespace}/{Name}";
}

/// <summary>An EndpointSlice endpoint; Port is null in a slice without ports (a pod that has none of a named targetPort).</summary>
sealed record EndpointView(string Ip, int? Port, string PortName, bool Ready, string? Pod)
{
    public string Address => Port is int p ? $"{Ip}:{p}" : Ip;
}

sealed class ServiceView(JsonObject o)
{
    public JsonObject Json => o;
    public string Namespace => (string)o["namespace"]!;
    public string Name => (string)o["name"]!;
    public string Type => (string)o["type"]!;
    public string? ClusterIP => (string?)o["clusterIP"];
    public string? ExternalName => (string?)o["externalName"];
    public string[] ExternalIPs => [.. o["externalIPs"]!.AsArray().Select(x => (string)x!)];

    /// <summary>The PORT(S) column: 80/TCP, 80:32067/TCP.</summary>
    public string[] Ports => [.. o["ports"]!.AsArray().Select(p => p!["nodePort"] is JsonValue np && np.GetValueKind() == System.Text.Json.JsonValueKind.Number
        ? $"{(int)p["port"]!}:{(int)np}/{(string)p["protocol"]!}" : $"{(int)p!["port"]!}/{(string)p["protocol"]!}")];

    public JsonObject Port(int port) => o["ports"]!.AsArray().Single(p => (int)p!["port"]! == port)!.AsObject();

    public EndpointView[] Endpoints => [.. o["endpoints"]!.AsArray().Select(e => new EndpointView((string)e!["ip"]!, (int?)e["port"],
        (string?)e["portName"] ?? "", (bool)e["ready"]!, (string?)e["pod"]))];

    /// <summary>What <c>kubectl get endpoints</c> and <c>kubectl describe svc</c> list: the ready addresses.</summary>
    public string[] ReadyAddresses(string? portName = null) =>
        [.. Endpoints.Where(e => e.Ready && e.Port is not null && (portName is null || e.PortName == portName)).Select(e => e.Address).Order()];
}

sealed class ClusterView(JsonObject o)
{
    public JsonObject Json => o;

    public PodView[] Pods => [.. o["pods"]!.AsArray().Select(p => new PodView((string)p!["namespace"]!, (string)p["name"]!, (string?)p["ip"],
        (string?)p["node"], (bool)p["ready"]!, (string?)p["owner"]))];

    /// <summary>The pods whose name starts with <paramref name="prefix"/> (a workload's generated pods).</summary>
    public PodView[] PodsOf(string prefix) => [.. Pods.Where(p => p.Name.StartsWith(prefix, StringComparison.Ordinal))];

    public PodView Pod(string name) => Pods.SingleOrDefault(p => p.Name == name)
        ?? throw new Xunit.Sdk.XunitException($"no pod {name} in {string.Join(", ", Pods.Select(p => p.Ref))}");

    public ServiceView? FindService(string ns, string name) =>
        o["services"]!.AsArray().Where(s => (string)s!["namespace"]! == ns && (string)s["name"]! == name).Select(s => new ServiceView(s!.AsObject())).SingleOrDefault();

    public ServiceView Service(string name, string ns = "default") => FindService(ns, name)
        ?? throw new Xunit.Sdk.XunitException($"no service {ns}/{name} in the cluster view: {string.Join(", ", o["services"]!.AsArray().Select(s => $"{s!["namespace"]}/{s["name"]}"))}");

    /// <summary>(name, InternalIP) of every node.</summary>
    public (string Name, string Ip)[] Nodes => [.. o["nodes"]!.AsArray().Select(n => ((string)n!["name"]!, (string)n["addresses"]![0]!))];
}

sealed class TraceView(JsonObject o)
{
    public JsonObject Json => o;
    public string Verdict => (string)o["verdict"]!;
    public string? Reason => (string?)o["reason"];
    public string? Service => (string?)o["service"];
    public string? Backend => (string?)o["backend"];
    public bool Masquerade => (bool)o["masquerade"]!;
    public string? OutSrc => (string?)o["out"]?["src"];
    public string? OutDst => (string?)o["out"]?["dst"];
    public string Why => (string)o["why"]!;

    /// <summary>The packet as sent, "tcp 10.244.1.2:40000 -> 10.96.0.2:80".</summary>
    public string Packet => (string)o["stages"]![0]!["packet"]!;

    /// <summary>The destination address:port the client's packet was sent to (after resolving a name).</summary>
    public string SentTo => Packet.Split(" -> ")[1].Split(' ')[0];

    public override string ToString() => o.ToJsonString();
}

sealed class DnsView(JsonObject o)
{
    public string Rcode => (string)o["rcode"]!;

    /// <summary>Answer records as (owner, type, data): ("web.default.svc.cluster.local.", "A", "10.96.0.2").</summary>
    public (string Owner, string Type, string Data)[] Answer => [.. o["answer"]!.AsArray().Select(a => Split((string)a!))];

    public string[] Addresses => [.. Answer.Where(a => a.Type == "A").Select(a => a.Data).Order()];

    static (string, string, string) Split(string rr)
    {
        // "owner. TTL IN TYPE data..."
        string[] f = rr.Split(' ', 5, StringSplitOptions.RemoveEmptyEntries);
        return (f[0], f[3], f.Length > 4 ? f[4] : "");
    }

    public override string ToString() => o.ToJsonString();
}
