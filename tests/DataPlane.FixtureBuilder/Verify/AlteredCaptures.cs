using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DataPlane.FixtureBuilder.Verify;

/// <summary>
/// Copies of the kernel captures in pcaps/verify/kernel-* altered the way broken nodes behave, each with an
/// <c>expected.json</c> naming the connection(s) <c>dataplane verify</c> must flag, the frames altered and the diff field.
/// Built from the capture bytes alone (<see cref="KernelCapture"/>, checksums from <see cref="Checksum"/>), never from
/// DataPlane's code, so verify cannot agree with itself by construction.
/// <code>dotnet run --project tests/DataPlane.FixtureBuilder -- --verify-altered pcaps/verify</code>
/// writes pcaps/verify/altered/&lt;name&gt;/{node.pcap, cluster/*.yaml, expected.json, README.md}; the same input gives the
/// same bytes (a test regenerates them and compares).
/// </summary>
public static class AlteredCaptures
{
    /// <summary>node-1's InternalIP in the kernel captures (tests/kernel-captures/make.sh).</summary>
    public const string NodeIp = "192.168.0.2";

    /// <summary>The port the broken masquerade of case (a) uses: in the class a masquerade of port 53001 would pick from.</summary>
    public const int WrongMasqueradePort = 33001;

    /// <summary>An address in node-1's pod CIDR that is no endpoint of any service (case b).</summary>
    public const string NotAnEndpoint = "10.244.1.99";

    /// <summary>
    /// The cluster of tests/kernel-captures/make.sh (its SERVICE_PORTS): every frontend a client uses, and the service port
    /// behind it as verify names it ("ns/name:port").
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> ServiceOf = new Dictionary<string, string>
    {
        ["tcp 10.96.1.10:80"] = "default/echo:http",
        ["udp 10.96.1.10:53"] = "default/echo:dns",
        ["tcp 10.96.1.20:80"] = "default/web-cluster:http",
        ["udp 10.96.1.20:53"] = "default/web-cluster:dns",
        ["tcp 192.168.0.2:30080"] = "default/web-cluster:http",
        ["udp 192.168.0.2:30053"] = "default/web-cluster:dns",
        ["tcp 10.96.1.30:80"] = "default/web-local:http",
        ["udp 10.96.1.30:53"] = "default/web-local:dns",
        ["tcp 192.168.0.2:30090"] = "default/web-local:http",
        ["udp 192.168.0.2:30054"] = "default/web-local:dns",
        ["tcp 10.96.1.40:80"] = "default/empty:http",
        ["udp 10.96.1.40:53"] = "default/empty:dns",
        ["tcp 192.168.0.2:30099"] = "default/empty:http",
        ["udp 192.168.0.2:30055"] = "default/empty:dns",
    };

    /// <summary>One altered copy: its folder name, the kernel capture it starts from, what it does to it.</summary>
    sealed record Alteration(string Name, string Source, string Title, string Story, Func<KernelCapture, Dictionary<string, string>, List<Divergence>> Apply);

    /// <summary>A connection verify must flag: what expected.json says of it.</summary>
    public sealed record Divergence(KernelCapture.Connection Connection, string Field, IReadOnlyList<int> Frames, string Expected, string Seen);

    /// <summary>The case names, in the order they are written.</summary>
    public static IReadOnlyList<string> Names => [.. All.Select(a => a.Name)];

    static readonly Alteration[] All =
    [
        new("masquerade-etp-local", "kernel-iptables",
            "a masquerade where externalTrafficPolicy: Local forbids it",
            $"The first TCP connection from 203.0.113.7 to web-local's NodePort (externalTrafficPolicy: Local) is rewritten as a node that masquerades it would send it: every copy forwarded to the pod has source {NodeIp}:{WrongMasqueradePort} instead of the client's address, and the pod's replies come back to {NodeIp}:{WrongMasqueradePort}. Checksums recomputed.",
            MasqueradeLocal),
        new("dnat-not-endpoint", "kernel-iptables",
            "a DNAT to an address that is no endpoint",
            $"The first TCP connection from the pod 10.244.1.5 to echo's ClusterIP is forwarded to {NotAnEndpoint}:8080, an address in the pod CIDR that is no endpoint of echo: the forwarded copies' destination and the replies' source are rewritten. Checksums recomputed.",
            DnatNotEndpoint),
        new("backend-not-ready", "kernel-iptables",
            "a packet forwarded to a backend that is not ready",
            "The capture is the kernel's, unchanged; the manifests are not: echo's EndpointSlice marks the endpoint the kernel chose for the pod's first TCP connection `ready: false, serving: false`, so every connection to echo (TCP and UDP, from the pod and from outside) that the node forwarded to it went to a backend that is not usable.",
            BackendNotReady),
        new("reverse-nat-missing", "kernel-nftables",
            "a reply sent back without its reverse translation",
            "In the pod's second TCP connection to echo's ClusterIP, the first reply the node sent back to the client (the SYN-ACK) carries the backend's address and port as its source instead of the ClusterIP's 10.96.1.10:80. Checksums recomputed.",
            ReverseNatMissing),
        new("ttl-not-decremented", "kernel-nftables",
            "a forwarded copy whose TTL was not decremented",
            "In the third TCP connection from 203.0.113.7 to echo's ClusterIP, the copy of the client's data segment that the node forwarded to the backend keeps the TTL it arrived with. IP checksum recomputed.",
            TtlNotDecremented),
        new("bad-checksum", "kernel-nftables",
            "a forwarded copy with a wrong TCP checksum",
            "In the pod's second TCP connection to web-local's NodePort, the copy of the client's data segment that the node forwarded to the backend has a wrong TCP checksum (the right one XOR 0x5a5a); its IP checksum is right.",
            BadChecksum),
    ];

    /// <summary>Writes every altered copy under <paramref name="outRoot"/> (default: <paramref name="verifyRoot"/>/altered),
    /// reading the kernel captures from <paramref name="verifyRoot"/>/kernel-*.</summary>
    public static void WriteAll(string verifyRoot, string? outRoot = null)
    {
        outRoot ??= Path.Combine(verifyRoot, "altered");
        foreach (Alteration a in All)
        {
            string source = Path.Combine(verifyRoot, a.Source);
            KernelCapture capture = KernelCapture.Read(Path.Combine(source, "node.pcap"));
            var cluster = new Dictionary<string, string>();
            foreach (string f in Directory.GetFiles(Path.Combine(source, "cluster"), "*.yaml").Order(StringComparer.Ordinal))
                cluster[Path.GetFileName(f)] = File.ReadAllText(f);
            List<Divergence> diverges = a.Apply(capture, cluster);

            string dir = Path.Combine(outRoot, a.Name);
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            Directory.CreateDirectory(Path.Combine(dir, "cluster"));
            File.WriteAllBytes(Path.Combine(dir, "node.pcap"), capture.ToBytes());
            foreach (var (name, text) in cluster.OrderBy(kv => kv.Key, StringComparer.Ordinal)) File.WriteAllText(Path.Combine(dir, "cluster", name), text);
            File.WriteAllText(Path.Combine(dir, "expected.json"), ExpectedJson(a, diverges));
            File.WriteAllText(Path.Combine(dir, "README.md"), Readme(a, diverges));
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The alterations.

    static KernelCapture.Connection First(KernelCapture c, string proto, string clientIp, string frontend, int nth = 1) =>
        c.Connections.Where(k => k.Proto == proto && k.Client.StartsWith(clientIp + ":", StringComparison.Ordinal) && k.Frontend == frontend && k.Backend is not null)
            .Skip(nth - 1).FirstOrDefault()
        ?? throw new InvalidDataException($"the capture has no {nth}. forwarded {proto} connection from {clientIp} to {frontend}");

    static (string Ip, int Port) Split(string endpoint)
    {
        int colon = endpoint.LastIndexOf(':');
        return (endpoint[..colon], int.Parse(endpoint[(colon + 1)..], CultureInfo.InvariantCulture));
    }

    static List<Divergence> MasqueradeLocal(KernelCapture c, Dictionary<string, string> cluster)
    {
        var k = First(c, "tcp", "203.0.113.7", $"{NodeIp}:30090");
        var frames = new List<int>();
        foreach (var (_, o) in k.Forward)
        {
            o.SrcIp = IPAddress.Parse(NodeIp);
            o.SrcPort = WrongMasqueradePort;
            o.RecomputeChecksums();
            frames.Add(o.Number);
        }
        foreach (var (i, _) in k.Replies)
        {
            i.DstIp = IPAddress.Parse(NodeIp);
            i.DstPort = WrongMasqueradePort;
            i.RecomputeChecksums();
            frames.Add(i.Number);
        }
        frames.Sort();
        return [new(k, "src", frames, k.Client, $"{NodeIp}:{WrongMasqueradePort}")];
    }

    static List<Divergence> DnatNotEndpoint(KernelCapture c, Dictionary<string, string> cluster)
    {
        var k = First(c, "tcp", "10.244.1.5", "10.96.1.10:80");
        var (_, port) = Split(k.Backend!);
        var frames = new List<int>();
        foreach (var (_, o) in k.Forward)
        {
            o.DstIp = IPAddress.Parse(NotAnEndpoint);
            o.RecomputeChecksums();
            frames.Add(o.Number);
        }
        foreach (var (i, _) in k.Replies)
        {
            i.SrcIp = IPAddress.Parse(NotAnEndpoint);
            i.RecomputeChecksums();
            frames.Add(i.Number);
        }
        frames.Sort();
        return [new(k, "dst", frames, "one of 10.244.1.10:8080, 10.244.1.11:8080, 10.244.1.12:8080", $"{NotAnEndpoint}:{port}")];
    }

    static List<Divergence> BackendNotReady(KernelCapture c, Dictionary<string, string> cluster)
    {
        string ip = First(c, "tcp", "10.244.1.5", "10.96.1.10:80").BackendIp;
        const string file = "services.yaml";
        string yaml = cluster[file];
        // Only echo's slice: the same pod stays a ready endpoint of the other services it backs.
        int slice = yaml.IndexOf("  name: echo-kc01\n", StringComparison.Ordinal);
        int end = yaml.IndexOf("\n---\n", slice, StringComparison.Ordinal);
        string ready = $"- addresses: [\"{ip}\"]\n  conditions: {{ready: true, serving: true, terminating: false}}\n";
        string notReady = $"- addresses: [\"{ip}\"]\n  conditions: {{ready: false, serving: false, terminating: false}}\n";
        int at = yaml.IndexOf(ready, slice, StringComparison.Ordinal);
        if (slice < 0 || end < 0 || at < 0 || at > end) throw new InvalidDataException($"echo's EndpointSlice in {file} does not list {ip} as ready");
        cluster[file] = string.Concat(yaml.AsSpan(0, at), notReady, yaml.AsSpan(at + ready.Length));

        return [.. c.Connections
            .Where(k => k.BackendIp == ip && ServiceOf.TryGetValue($"{k.Proto} {k.Frontend}", out string? s) && s.StartsWith("default/echo:", StringComparison.Ordinal))
            .Select(k => new Divergence(k, "backend", [.. k.Forward.Select(p => p.Out.Number)], "a ready endpoint of default/echo (10.244.1.10-12 less " + ip + ")", k.Backend!))];
    }

    static List<Divergence> ReverseNatMissing(KernelCapture c, Dictionary<string, string> cluster)
    {
        var k = First(c, "tcp", "10.244.1.5", "10.96.1.10:80", nth: 2);
        var (_, o) = k.Replies[0];
        var (ip, port) = Split(k.Backend!);
        o.SrcIp = IPAddress.Parse(ip);
        o.SrcPort = port;
        o.RecomputeChecksums();
        return [new(k, "reverse-nat", [o.Number], k.Frontend, k.Backend!)];
    }

    static List<Divergence> TtlNotDecremented(KernelCapture c, Dictionary<string, string> cluster)
    {
        var k = First(c, "tcp", "203.0.113.7", "10.96.1.10:80", nth: 3);
        var (i, o) = k.Forward.First(p => p.In.L4Payload.Length > 0);
        string expected = o.Ttl.ToString(CultureInfo.InvariantCulture);
        o.Ttl = i.Ttl;
        o.RecomputeChecksums();
        return [new(k, "ttl", [o.Number], expected, o.Ttl.ToString(CultureInfo.InvariantCulture))];
    }

    static List<Divergence> BadChecksum(KernelCapture c, Dictionary<string, string> cluster)
    {
        var k = First(c, "tcp", "10.244.1.5", $"{NodeIp}:30090", nth: 2);
        var (_, o) = k.Forward.First(p => p.In.L4Payload.Length > 0);
        ushort right = o.ComputedL4Checksum();
        o.L4Checksum = (ushort)(right ^ 0x5a5a);
        return [new(k, "checksum", [o.Number], $"0x{right:x4}", $"0x{o.L4Checksum:x4}")];
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The files.

    static string ExpectedJson(Alteration a, List<Divergence> diverges)
    {
        var root = new JsonObject
        {
            ["case"] = a.Name,
            ["what"] = a.Title,
            ["source"] = $"pcaps/verify/{a.Source}/node.pcap",
            ["command"] = "dataplane verify --cluster cluster --node node-1 node.pcap --json",
            ["exit"] = 1,
            ["diverges"] = new JsonArray([.. diverges.Select(d => (JsonNode)new JsonObject
            {
                ["flow"] = new JsonObject { ["proto"] = d.Connection.Proto, ["src"] = d.Connection.Client, ["dst"] = d.Connection.Frontend },
                ["service"] = ServiceOf[$"{d.Connection.Proto} {d.Connection.Frontend}"],
                ["field"] = d.Field,
                ["frames"] = new JsonArray([.. d.Frames.Select(f => (JsonNode)f)]),
                ["expected"] = d.Expected,
                ["seen"] = d.Seen,
            })]),
            ["others"] = "agrees",
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    static string Readme(Alteration a, List<Divergence> diverges)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"# altered/{a.Name}: {a.Title}\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"{a.Story}\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"- From: `pcaps/verify/{a.Source}/node.pcap` and its `cluster/` (see that folder's README.md for how the kernel made it).\n");
        sb.Append("- Made by: `dotnet run --project tests/DataPlane.FixtureBuilder -- --verify-altered pcaps/verify`, from the capture's bytes alone\n");
        sb.Append("  (tests/DataPlane.FixtureBuilder/Verify: its own pcap reader and checksums, nothing of DataPlane's).\n");
        sb.Append("- Expected: `dataplane verify --cluster cluster --node node-1 node.pcap --json` exits 1; exactly these connections diverge\n");
        sb.Append("  (`expected.json`), every other one agrees:\n\n");
        foreach (Divergence d in diverges)
            sb.Append(CultureInfo.InvariantCulture, $"  - {d.Connection.Proto} {d.Connection.Client} -> {d.Connection.Frontend}: field `{d.Field}` at frame(s) {string.Join(", ", d.Frames)}; expected {d.Expected}, seen {d.Seen}\n");
        return sb.ToString();
    }
}
