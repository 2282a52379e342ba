using System.Globalization;
using System.Text;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Packets;

namespace DataPlane.Cli.Lab;

/// <summary>
/// The reference the lab compares DataPlane with: the node namespace doing the Services itself with kube-proxy's
/// iptables rule shapes (../shared/design/kube-proxy-rules.md: KUBE-SERVICES per frontend, KUBE-MARK-MASQ's 0x4000 bit
/// and KUBE-POSTROUTING's MASQUERADE --random-fully, statistic-mode random endpoint choice, recent-module session
/// affinity, the hairpin mark per endpoint, REJECT for no endpoints and DROP for a Local policy without a local one).
/// <para>
/// The chains are laid out per client class, not per policy: a frontend jumps to its in-cluster chain for sources in
/// the cluster CIDR and to its off-cluster chain otherwise, and each chain holds what <see cref="ServicePromises"/>
/// promises that class (endpoint set, masquerade or not, refuse, drop). kube-proxy's own chains (KUBE-SVC, KUBE-EXT,
/// KUBE-SVL) express the same decisions per policy; writing them from the promises keeps one source for what the
/// Services mean, so what this measures is the kernel's packet path, not a second reading of the manifests. Node-local
/// sources are not a lab client and get no chain of their own.
/// </para>
/// </summary>
public static class KernelRules
{
    /// <summary>iptables-restore input for the nat and filter tables of the node namespace.</summary>
    public static string IptablesRestore(ServicePromises promises, uint inClusterClient, uint offClusterClient, Cidr4[] clusterCidrs)
    {
        var nat = new StringBuilder();
        var natChains = new List<string> { "KUBE-SERVICES", "KUBE-MARK-MASQ", "KUBE-POSTROUTING" };
        var filter = new StringBuilder();
        nat.AppendLine("-A PREROUTING -j KUBE-SERVICES");
        nat.AppendLine("-A OUTPUT -j KUBE-SERVICES");
        nat.AppendLine("-A POSTROUTING -j KUBE-POSTROUTING");
        nat.AppendLine("-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000");
        nat.AppendLine("-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN");
        nat.AppendLine("-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000");
        nat.AppendLine("-A KUBE-POSTROUTING -j MASQUERADE --random-fully");
        int k = 0;
        foreach (ServiceFrontend f in promises.Frontends)
        {
            k++;
            string proto = f.Protocol == PortProtocol.UDP ? "udp" : "tcp";
            string match = $"-d {Ip4.Format(f.Address)}/32 -p {proto} -m {proto} --dport {f.Port}";
            string fe = $"KUBE-FE{k}";
            natChains.Add(fe);
            nat.AppendLine($"-A KUBE-SERVICES {match} -m comment --comment \"{f}\" -j {fe}");
            // In-cluster sources first (one rule per cluster CIDR), then everyone else.
            var classes = new List<(string Suffix, string? Src, ServicePromise P)>();
            if (clusterCidrs.Length > 0) classes.Add(("I", null, promises.For(f, inClusterClient)));
            classes.Add(("O", null, promises.For(f, offClusterClient)));
            foreach (var (suffix, _, p) in classes)
            {
                string chain = fe + suffix;
                natChains.Add(chain);
                if (suffix == "I")
                    foreach (Cidr4 cidr in clusterCidrs)
                    {
                        nat.AppendLine($"-A {fe} -s {cidr} -j {chain}");
                        Verdict(filter, p, $"-s {cidr} {match}", proto);
                    }
                else
                {
                    nat.AppendLine($"-A {fe} -j {chain}");
                    Verdict(filter, p, match, proto);
                }
                if (p.Outcome != PromisedOutcome.Served) continue;
                if (!p.ClientAddressKept) nat.AppendLine($"-A {chain} -j KUBE-MARK-MASQ");
                int n = p.Endpoints.Count;
                int affinity = f.Service.SessionAffinityTimeoutSeconds;
                for (int j = 0; j < n && p.OneEndpoint; j++)
                    nat.AppendLine($"-A {chain} -m recent --name {chain}E{j} --rcheck --seconds {affinity} --reap -j {chain}E{j}");
                for (int j = 0; j < n; j++)
                {
                    string sep = $"{chain}E{j}";
                    natChains.Add(sep);
                    double probability = 1.0 / (n - j);
                    nat.AppendLine(j < n - 1
                        ? $"-A {chain} -m statistic --mode random --probability {probability.ToString("F11", CultureInfo.InvariantCulture)} -j {sep}"
                        : $"-A {chain} -j {sep}");
                    var (ip, port) = p.Endpoints[j];
                    nat.AppendLine($"-A {sep} -s {Ip4.Format(ip)}/32 -j KUBE-MARK-MASQ");
                    nat.AppendLine($"-A {sep} -p {proto} -m {proto}{(p.OneEndpoint ? $" -m recent --name {sep} --set" : "")} -j DNAT --to-destination {Ip4.Format(ip)}:{port}");
                }
            }
        }
        var all = new StringBuilder();
        all.AppendLine("*nat");
        foreach (string c in natChains) all.AppendLine($":{c} - [0:0]");
        all.Append(nat);
        all.AppendLine("COMMIT");
        all.AppendLine("*filter");
        all.Append(filter);
        all.AppendLine("COMMIT");
        return all.ToString();
    }

    /// <summary>
    /// The same decisions as an nftables ruleset in kube-proxy's nftables-mode shapes (one table of its own; numgen
    /// random for the endpoint choice, dynamic sets with timeouts for affinity, fully-random masquerade of the 0x4000 mark).
    /// </summary>
    public static string Nftables(ServicePromises promises, uint inClusterClient, uint offClusterClient, Cidr4[] clusterCidrs)
    {
        var chains = new StringBuilder();
        var sets = new StringBuilder();
        var services = new StringBuilder();
        var forward = new StringBuilder();
        int k = 0;
        foreach (ServiceFrontend f in promises.Frontends)
        {
            k++;
            string proto = f.Protocol == PortProtocol.UDP ? "udp" : "tcp";
            string match = $"ip daddr {Ip4.Format(f.Address)} {proto} dport {f.Port}";
            string fe = $"fe{k}";
            services.AppendLine($"    {match} goto {fe} comment \"{f}\"");
            var body = new StringBuilder();
            var classes = new List<(string Suffix, ServicePromise P)>();
            if (clusterCidrs.Length > 0) classes.Add(("i", promises.For(f, inClusterClient)));
            classes.Add(("o", promises.For(f, offClusterClient)));
            foreach (var (suffix, p) in classes)
            {
                string chain = fe + suffix;
                string src = suffix == "i" ? $"ip saddr {{ {string.Join(", ", clusterCidrs)} }} " : "";
                body.AppendLine($"    {src}goto {chain}");
                if (p.Outcome == PromisedOutcome.Refused)
                    forward.AppendLine($"    {src}{match} reject{(proto == "tcp" ? " with tcp reset" : " with icmp type port-unreachable")}");
                else if (p.Outcome == PromisedOutcome.TimedOut)
                    forward.AppendLine($"    {src}{match} drop");
                var c = new StringBuilder();
                if (p.Outcome == PromisedOutcome.Served)
                {
                    if (!p.ClientAddressKept) c.AppendLine("    jump mark-for-masquerade");
                    int n = p.Endpoints.Count;
                    int timeout = f.Service.SessionAffinityTimeoutSeconds;
                    for (int j = 0; j < n && p.OneEndpoint; j++)
                    {
                        sets.AppendLine($"  set aff-{chain}e{j} {{ type ipv4_addr; flags dynamic,timeout; timeout {timeout}s; }}");
                        c.AppendLine($"    ip saddr @aff-{chain}e{j} goto {chain}e{j}");
                    }
                    c.AppendLine($"    numgen random mod {n} vmap {{ {string.Join(", ", Enumerable.Range(0, n).Select(j => $"{j} : goto {chain}e{j}"))} }}");
                    for (int j = 0; j < n; j++)
                    {
                        var (ip, port) = p.Endpoints[j];
                        chains.AppendLine($"  chain {chain}e{j} {{");
                        chains.AppendLine($"    ip saddr {Ip4.Format(ip)} jump mark-for-masquerade");
                        if (p.OneEndpoint) chains.AppendLine($"    update @aff-{chain}e{j} {{ ip saddr }}");
                        chains.AppendLine($"    meta l4proto {proto} dnat to {Ip4.Format(ip)}:{port}");
                        chains.AppendLine("  }");
                    }
                }
                chains.AppendLine($"  chain {chain} {{");
                chains.Append(c);
                chains.AppendLine("  }");
            }
            chains.AppendLine($"  chain {fe} {{");
            chains.Append(body);
            chains.AppendLine("  }");
        }
        var all = new StringBuilder();
        all.AppendLine("table ip kube-proxy {");
        all.Append(sets);
        all.AppendLine("  chain mark-for-masquerade {\n    meta mark set meta mark | 0x4000\n  }");
        all.AppendLine("  chain masquerading {\n    meta mark & 0x4000 == 0 return\n    meta mark set meta mark ^ 0x4000\n    masquerade fully-random\n  }");
        all.Append(chains);
        all.AppendLine("  chain services {");
        all.Append(services);
        all.AppendLine("  }");
        all.AppendLine("  chain nat-prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n    jump services\n  }");
        all.AppendLine("  chain nat-output {\n    type nat hook output priority -100; policy accept;\n    jump services\n  }");
        all.AppendLine("  chain nat-postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n    jump masquerading\n  }");
        all.AppendLine("  chain filter-forward {\n    type filter hook forward priority filter; policy accept;");
        all.Append(forward);
        all.AppendLine("  }");
        all.AppendLine("}");
        return all.ToString();
    }

    /// <summary>
    /// No endpoint anywhere: REJECT (a TCP reset, an ICMP port unreachable), as kube-proxy's filter KUBE-SERVICES
    /// does; a Local policy without a local endpoint or a source outside the ranges: DROP. The packet was not DNATed, so
    /// it still has the frontend's address when it reaches FORWARD.
    /// </summary>
    static void Verdict(StringBuilder filter, ServicePromise p, string match, string proto)
    {
        if (p.Outcome == PromisedOutcome.Refused)
            filter.AppendLine($"-A FORWARD {match} -j REJECT --reject-with {(proto == "tcp" ? "tcp-reset" : "icmp-port-unreachable")}");
        else if (p.Outcome == PromisedOutcome.TimedOut)
            filter.AppendLine($"-A FORWARD {match} -j DROP");
    }
}
