using System.Text.RegularExpressions;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Verify;

/// <summary>
/// The kernel captures' manifests describe the cluster their rules implement: every frontend in the node's rules as they
/// were loaded (rules.txt: iptables-save, or nft list table ip kube-proxy, taken after the run) reaches the same
/// endpoints as that frontend in <c>dataplane maps</c>, and a frontend the rules REJECT has no backend in the maps.
/// </summary>
public sealed partial class KernelRulesTests
{
    public static TheoryData<string> Captures => ["kernel-iptables", "kernel-nftables"];

    [Theory]
    [MemberData(nameof(Captures))]
    public void Rules_and_maps_have_the_same_frontends_and_endpoints(string name)
    {
        string dir = Repo.Path_("pcaps", "verify", name);
        string rules = File.ReadAllText(Path.Combine(dir, "rules.txt"));
        var fromRules = name == "kernel-iptables" ? FromIptablesSave(rules) : FromNft(rules);
        CliTests.Result r = CliTests.Run("maps", "--cluster", Path.Combine(dir, "cluster"), "--node", "node-1");
        Assert.True(r.ExitCode == 0, r.ToString());
        var fromMaps = FromMaps(r.Stdout);
        Assert.Equal(Show(fromRules), Show(fromMaps));
        Assert.Equal(14, fromRules.Count); // 2 ports of 4 services at their ClusterIPs, 2 NodePorts of 3 NodePort services
    }

    static string Show(Dictionary<string, SortedSet<string>> m) =>
        string.Join('\n', m.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} -> {string.Join(", ", kv.Value)}"));

    /// <summary>dataplane maps: frontend lines ("ip:port/PROTO ... ns/name:port") each followed by indented backend lines.
    /// Skipped: the wildcard entries (":0/ANY"), the internal-scope twins of eTP Local NodePorts ("/i") and DataPlane's
    /// emulated default/kubernetes and kube-system/kube-dns, which the node's rules do not have. Also skipped: iptables
    /// mode's localhost NodePorts (127.0.0.1:nodePort); the rules' KUBE-NODEPORTS jump matches every local address
    /// (addrtype LOCAL), which the frontends on the node IP stand for here, and no traffic in the captures uses them.</summary>
    static Dictionary<string, SortedSet<string>> FromMaps(string text)
    {
        var m = new Dictionary<string, SortedSet<string>>();
        SortedSet<string>? current = null;
        foreach (string line in text.Split('\n'))
        {
            if (line.StartsWith("REVNAT_ID", StringComparison.Ordinal)) break;
            if (MapsFrontend().Match(line) is { Success: true } f)
            {
                bool skip = line.Contains(" default/kubernetes:", StringComparison.Ordinal) || line.Contains(" kube-system/kube-dns:", StringComparison.Ordinal)
                    || line.StartsWith("127.0.0.1:", StringComparison.Ordinal);
                current = skip ? null : m[$"{f.Groups[1].Value}:{f.Groups[2].Value}/{f.Groups[3].Value.ToLowerInvariant()}"] = [];
            }
            else if (line.Length > 0 && !char.IsWhiteSpace(line[0])) current = null;
            else if (current is not null && MapsBackend().Match(line) is { Success: true } b) current.Add(b.Groups[1].Value);
        }
        return m;
    }

    /// <summary>iptables-save: ClusterIP frontends in nat KUBE-SERVICES, NodePorts in nat KUBE-NODEPORTS (on the node IP),
    /// followed through KUBE-EXT (its last rule: what a client from outside gets), KUBE-SVC/KUBE-SVL and KUBE-SEP to the
    /// DNAT targets; REJECTs in filter KUBE-SERVICES / KUBE-EXTERNAL-SERVICES are frontends without endpoints.</summary>
    static Dictionary<string, SortedSet<string>> FromIptablesSave(string text)
    {
        var nat = new Dictionary<string, List<string>>();
        var m = new Dictionary<string, SortedSet<string>>();
        string table = "";
        var entries = new List<(string Frontend, string Chain)>();
        foreach (string line in text.Split('\n'))
        {
            if (line.StartsWith('*')) { table = line[1..]; continue; }
            if (!line.StartsWith("-A ", StringComparison.Ordinal)) continue;
            string chain = line.Split(' ')[1];
            string target = Rx(IptTarget(), line);
            string proto = Rx(IptProto(), line), port = Rx(IptDport(), line), dst = Rx(IptDst(), line);
            if (table == "nat")
            {
                if (!nat.TryGetValue(chain, out var rules)) nat[chain] = rules = [];
                rules.Add(line);
                if (chain == "KUBE-SERVICES" && dst != "" && target.StartsWith("KUBE-", StringComparison.Ordinal)) entries.Add(($"{dst}:{port}/{proto}", target));
                if (chain == "KUBE-NODEPORTS") entries.Add(($"{AlteredNodeIp}:{port}/{proto}", target));
            }
            else if (table == "filter" && target == "REJECT")
                m[$"{(dst != "" ? dst : AlteredNodeIp)}:{port}/{proto}"] = [];
        }
        SortedSet<string> Endpoints(string chain)
        {
            var rules = nat[chain];
            if (rules.Select(r => Rx(IptDnat(), r)).FirstOrDefault(d => d != "") is { } dnat) return [dnat];
            var targets = chain.StartsWith("KUBE-EXT-", StringComparison.Ordinal) ? [Rx(IptTarget(), rules[^1])] : rules.Select(r => Rx(IptTarget(), r));
            return [.. targets.Where(t => t.StartsWith("KUBE-S", StringComparison.Ordinal)).SelectMany(Endpoints)];
        }
        foreach (var (frontend, chain) in entries) m[frontend] = Endpoints(chain);
        return m;
    }

    /// <summary>nft list table ip kube-proxy: the service-ips and service-nodeports verdict maps (NodePorts on the node IP),
    /// followed through external- (its last rule), service-/local- and endpoint- chains to the dnat targets; the
    /// no-endpoint-* maps are frontends without endpoints.</summary>
    static Dictionary<string, SortedSet<string>> FromNft(string text)
    {
        var blocks = new Dictionary<string, List<string>>();
        List<string>? current = null;
        foreach (string line in text.Split('\n'))
        {
            if (NftBlock().Match(line) is { Success: true } b) blocks[b.Groups[1].Value] = current = [];
            else current?.Add(line.Trim());
        }
        var m = new Dictionary<string, SortedSet<string>>();
        SortedSet<string> Endpoints(string chain)
        {
            var rules = blocks[chain].Where(l => l.Length > 0 && l != "}").ToList();
            if (rules.Select(r => Rx(NftDnat(), r)).FirstOrDefault(d => d != "") is { } dnat) return [dnat];
            var lines = chain.StartsWith("external-", StringComparison.Ordinal) ? [rules[^1]] : rules;
            return [.. lines.SelectMany(l => NftGoto().Matches(l).Select(g => g.Groups[1].Value)).SelectMany(Endpoints)];
        }
        foreach (Match e in NftServiceIp().Matches(string.Join(' ', blocks["service-ips"])))
            m[$"{e.Groups[1].Value}:{e.Groups[3].Value}/{e.Groups[2].Value}"] = Endpoints(e.Groups[4].Value);
        foreach (Match e in NftNodePort().Matches(string.Join(' ', blocks["service-nodeports"])))
            m[$"{AlteredNodeIp}:{e.Groups[2].Value}/{e.Groups[1].Value}"] = Endpoints(e.Groups[3].Value);
        foreach (Match e in NftNoEndpointIp().Matches(string.Join(' ', blocks["no-endpoint-services"])))
            m[$"{e.Groups[1].Value}:{e.Groups[3].Value}/{e.Groups[2].Value}"] = [];
        foreach (Match e in NftNoEndpointPort().Matches(string.Join(' ', blocks["no-endpoint-nodeports"])))
            m[$"{AlteredNodeIp}:{e.Groups[2].Value}/{e.Groups[1].Value}"] = [];
        return m;
    }

    const string AlteredNodeIp = FixtureBuilder.Verify.AlteredCaptures.NodeIp;

    static string Rx(Regex rx, string s) => rx.Match(s) is { Success: true } x ? x.Groups[1].Value : "";

    [GeneratedRegex(@"^(\d+\.\d+\.\d+\.\d+):(\d+)/(TCP|UDP)\s")] private static partial Regex MapsFrontend();
    [GeneratedRegex(@"^\s+(\d+\.\d+\.\d+\.\d+:\d+)/(TCP|UDP)\s")] private static partial Regex MapsBackend();
    [GeneratedRegex(@" -j (\S+)")] private static partial Regex IptTarget();
    [GeneratedRegex(@" -p (tcp|udp)\b")] private static partial Regex IptProto();
    [GeneratedRegex(@" --dport (\d+)")] private static partial Regex IptDport();
    [GeneratedRegex(@" -d (\d+\.\d+\.\d+\.\d+)(?:/32)? ")] private static partial Regex IptDst();
    [GeneratedRegex(@" --to-destination (\S+)")] private static partial Regex IptDnat();
    [GeneratedRegex(@"^\s*(?:chain|map|set) (\S+) \{")] private static partial Regex NftBlock();
    [GeneratedRegex(@"dnat to (\S+)")] private static partial Regex NftDnat();
    [GeneratedRegex(@"goto ([^\s,}]+)")] private static partial Regex NftGoto();
    [GeneratedRegex(@"(\d+\.\d+\.\d+\.\d+) \. (tcp|udp) \. (\d+) : goto ([^\s,}]+)")] private static partial Regex NftServiceIp();
    [GeneratedRegex(@"(tcp|udp) \. (\d+) : goto ([^\s,}]+)")] private static partial Regex NftNodePort();
    [GeneratedRegex(@"(\d+\.\d+\.\d+\.\d+) \. (tcp|udp) \. (\d+) comment")] private static partial Regex NftNoEndpointIp();
    [GeneratedRegex(@"(tcp|udp) \. (\d+) comment")] private static partial Regex NftNoEndpointPort();
}
