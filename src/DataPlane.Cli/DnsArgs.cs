using System.CommandLine;
using DataPlane.Dns;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Packets;

namespace DataPlane.Cli;

/// <summary>The cluster DNS options (replay, run, trace and dns share them).</summary>
public sealed class DnsArgs
{
    public Option<string> Mode { get; } = new("--dns")
    {
        Description = "When the data plane answers queries to the cluster DNS address itself: auto (only while kube-system/kube-dns has no endpoints), answer, or proxy (never: kube-proxy's DNAT to CoreDNS)",
        DefaultValueFactory = _ => "auto",
    };
    public Option<string?> ClusterDns { get; } = new("--cluster-dns") { Description = "The cluster DNS address, answered by the data plane (default: kube-system/kube-dns's cluster IP, else 10.96.0.10)" };
    public Option<string> Domain { get; } = new("--cluster-domain") { Description = "The cluster domain", DefaultValueFactory = _ => "cluster.local" };
    public Option<uint> Ttl { get; } = new("--dns-ttl") { Description = "TTL of the records (CoreDNS ttl, 0-3600)", DefaultValueFactory = _ => 5 };
    public Option<string> Pods { get; } = new("--pods") { Description = "CoreDNS pods option for a-b-c-d.<ns>.pod.<zone>: insecure, verified or disabled", DefaultValueFactory = _ => "insecure" };
    public Option<bool> PodNames { get; } = new("--endpoint-pod-names") { Description = "CoreDNS endpoint_pod_names: endpoints without a hostname are named after their pod" };
    public Option<string> Upstream { get; } = new("--upstream-answer") { Description = "Answer for names outside the cluster zones (no recursion): REFUSED or NXDOMAIN", DefaultValueFactory = _ => "REFUSED" };

    public DnsArgs()
    {
        Mode.AcceptOnlyFromAmong("auto", "answer", "proxy");
        Pods.AcceptOnlyFromAmong("insecure", "verified", "disabled");
        Upstream.AcceptOnlyFromAmong("REFUSED", "NXDOMAIN");
    }

    public void AddTo(Command c)
    {
        foreach (Option o in new Option[] { Mode, ClusterDns, Domain, Ttl, Pods, PodNames, Upstream }) c.Options.Add(o);
    }

    public DnsOptions Options(ParseResult pr, DnsMode? forceMode = null)
    {
        uint? dnsIp = null;
        if (pr.GetValue(ClusterDns) is { } d)
            dnsIp = Ip4.TryParse(d, out uint ip) ? ip : throw new UsageException($"--cluster-dns: '{d}' is not an IPv4 address");
        if (pr.GetValue(Ttl) > 3600) throw new UsageException("--dns-ttl: CoreDNS accepts 0 to 3600 seconds");
        string domain = pr.GetValue(Domain)!;
        if (!DnsName.TryToWire(domain, out _, out string? error) || domain.Trim('.').Length == 0)
            throw new UsageException($"--cluster-domain: '{domain}' is not a domain name{(error is null ? "" : ": " + error)}");
        return new DnsOptions
        {
            ClusterDomain = domain, Ttl = pr.GetValue(Ttl), ClusterDns = dnsIp,
            Mode = forceMode ?? pr.GetValue(Mode) switch { "answer" => DnsMode.Answer, "proxy" => DnsMode.Proxy, _ => DnsMode.Auto },
            Pods = pr.GetValue(Pods) switch { "verified" => DnsPodsMode.Verified, "disabled" => DnsPodsMode.Disabled, _ => DnsPodsMode.Insecure },
            EndpointPodNames = pr.GetValue(PodNames),
            UpstreamRcode = pr.GetValue(Upstream) == "NXDOMAIN" ? DnsRcode.NXDomain : DnsRcode.Refused,
        };
    }
}
