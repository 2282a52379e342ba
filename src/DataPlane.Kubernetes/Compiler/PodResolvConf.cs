using DataPlane.Dns;
using DataPlane.Kubernetes.Manifests;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// The resolv.conf the kubelet writes for a pod (pkg/kubelet/network/dns/dns.go GetPodDNS) and the order in which a
/// glibc stub resolver sends queries from it (res_search).
/// <list type="bullet">
/// <item>ClusterFirst (and ClusterFirstWithHostNet): nameserver = the cluster DNS address, search
/// <c>&lt;ns&gt;.svc.&lt;zone&gt; svc.&lt;zone&gt; &lt;zone&gt;</c>, options ndots:5; a hostNetwork pod with plain
/// ClusterFirst gets the node's resolv.conf instead (as Default).</item>
/// <item>Default: the node's resolv.conf, which the manifests do not describe: <see cref="UsesClusterDns"/> is false.</item>
/// <item>None: only spec.dnsConfig.</item>
/// <item>dnsConfig is merged in: nameservers and searches appended without duplicates (at most 3 nameservers, 32
/// searches), options of the same name replaced.</item>
/// </list>
/// </summary>
public sealed record PodResolvConf(IReadOnlyList<string> Nameservers, IReadOnlyList<string> Searches, int Ndots, IReadOnlyList<string> Options, bool UsesClusterDns)
{
    const int MaxNameservers = 3, MaxSearches = 32;

    public static PodResolvConf For(Pod pod, string clusterDomain, string clusterDns)
    {
        string zone = clusterDomain.TrimEnd('.');
        string policy = pod.DnsPolicy;
        if (policy == "ClusterFirst" && pod.HostNetwork) policy = "Default";
        var ns = new List<string>();
        var search = new List<string>();
        var options = new List<(string Name, string? Value)>();
        bool cluster = false;
        switch (policy)
        {
            case "ClusterFirst" or "ClusterFirstWithHostNet":
                ns.Add(clusterDns);
                string podNs = pod.Namespace ?? "default";
                search.AddRange([$"{podNs}.svc.{zone}", $"svc.{zone}", zone]);
                options.Add(("ndots", "5"));
                cluster = true;
                break;
            case "None":
                break;
            default: // Default: the node's resolv.conf, unknown here
                return new PodResolvConf([], [], 1, [], false);
        }
        if (pod.DnsConfig is { } c)
        {
            foreach (string s in c.Nameservers) if (!ns.Contains(s)) ns.Add(s);
            foreach (string s in c.Searches) if (!search.Contains(s)) search.Add(s);
            foreach (var o in c.Options)
            {
                options.RemoveAll(x => x.Name == o.Name);
                options.Add(o);
            }
            cluster = ns.Contains(clusterDns);
        }
        int ndots = 1; // resolv.conf(5) default
        foreach (var (name, value) in options)
            if (name == "ndots" && int.TryParse(value, out int n)) ndots = Math.Clamp(n, 0, 15); // glibc caps ndots at 15
        return new PodResolvConf([.. ns.Take(MaxNameservers)], [.. search.Take(MaxSearches)], ndots,
            [.. options.Select(o => o.Value is null ? o.Name : $"{o.Name}:{o.Value}")], cluster);
    }

    /// <summary>The file as the kubelet writes it.</summary>
    public string Text()
    {
        var sb = new System.Text.StringBuilder();
        if (Searches.Count > 0) sb.Append("search ").AppendJoin(' ', Searches).Append('\n');
        foreach (string n in Nameservers) sb.Append("nameserver ").Append(n).Append('\n');
        if (Options.Count > 0) sb.Append("options ").AppendJoin(' ', Options).Append('\n');
        return sb.ToString();
    }

    /// <summary>
    /// The names glibc's res_search tries, in order: a trailing dot means the name only; fewer dots than ndots means
    /// each search domain appended, then the name as given; otherwise the name first, then the search domains.
    /// </summary>
    public IReadOnlyList<string> Candidates(string name)
    {
        if (name.EndsWith('.')) return [name];
        var withSearch = Searches.Select(s => $"{name}.{s.TrimEnd('.')}.").ToList();
        int dots = name.Count(c => c == '.');
        return dots < Ndots ? [.. withSearch, name + "."] : [name + ".", .. withSearch];
    }

    /// <summary>
    /// Sends the candidates through <paramref name="ask"/> until one is answered: NXDOMAIN and an empty NOERROR move
    /// on (res_search's HOST_NOT_FOUND and NO_DATA), as does SERVFAIL; any other failure (REFUSED, FORMERR, NOTIMP)
    /// ends the search, as glibc's res_search does.
    /// </summary>
    public List<(string Name, DnsMessage? Answer)> Resolve(string name, Func<string, DnsMessage?> ask)
    {
        var sent = new List<(string, DnsMessage?)>();
        foreach (string candidate in Candidates(name))
        {
            DnsMessage? m = ask(candidate);
            sent.Add((candidate, m));
            if (m is null) break;
            if (m.Rcode == DnsRcode.NoError && m.Answer.Count > 0) break;
            if (m.Rcode is not (DnsRcode.NoError or DnsRcode.NXDomain or DnsRcode.ServFail)) break;
        }
        return sent;
    }
}
