using System.Text.Json.Nodes;
using DataPlane.Tests.Cli;

namespace DataPlane.Tests.Dns;

/// <summary>
/// <c>dataplane dns --from ns/pod</c>: the pod's resolv.conf as the kubelet writes it and every query its glibc resolver
/// sends, in order, until the first answer (ndots 5 and the search path users trip over).
/// </summary>
public class DnsResolverSearchTests
{
    static JsonObject From(string pod, string name, params string[] extra)
    {
        var r = CliTests.Run(["dns", "--cluster", DnsWorld.ClusterFile, "--from", pod, name, .. extra, "--json"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonNode.Parse(r.Stdout)!.AsObject();
    }

    static string[] Sent(JsonObject o) => [.. o["queries"]!.AsArray().Select(q => $"{q!["qname"]} {q["rcode"]}")];

    [Fact]
    public void A_bare_service_name_is_answered_by_the_first_search_domain()
    {
        JsonObject o = From("default/client", "web");
        Assert.Equal(["web.default.svc.cluster.local. NOERROR"], Sent(o));
        Assert.Equal("NOERROR", (string?)o["result"]!["rcode"]);
        Assert.Equal(["web.default.svc.cluster.local. 5 IN A 10.96.0.20"], o["result"]!["answer"]!.AsArray().Select(a => (string?)a));
    }

    [Fact]
    public void Service_dot_namespace_goes_through_one_nxdomain_first()
    {
        Assert.Equal(["api.other.default.svc.cluster.local. NXDOMAIN", "api.other.svc.cluster.local. NOERROR"], Sent(From("default/client", "api.other")));
    }

    [Fact]
    public void A_bare_name_from_another_namespace_does_not_reach_the_service()
    {
        JsonObject o = From("other/client", "web");
        Assert.Equal(["web.other.svc.cluster.local. NXDOMAIN", "web.svc.cluster.local. NXDOMAIN", "web.cluster.local. NXDOMAIN", "web. REFUSED"], Sent(o));
        Assert.Equal("REFUSED", (string?)o["result"]!["rcode"]);
    }

    [Fact]
    public void An_external_name_walks_the_whole_search_list_before_the_name_itself()
    {
        Assert.Equal(["www.example.com.default.svc.cluster.local. NXDOMAIN", "www.example.com.svc.cluster.local. NXDOMAIN",
            "www.example.com.cluster.local. NXDOMAIN", "www.example.com. NXDOMAIN"], Sent(From("default/client", "www.example.com", "--upstream-answer", "NXDOMAIN")));
    }

    [Fact]
    public void A_trailing_dot_or_enough_dots_skips_the_search_first()
    {
        Assert.Equal(["web.default.svc.cluster.local. NOERROR"], Sent(From("default/client", "web.default.svc.cluster.local.")));
        // dnsConfig ndots:2 and an extra search domain: two dots → the name as given first.
        Assert.Equal(["web.default.svc. NXDOMAIN", "web.default.svc.default.svc.cluster.local. NXDOMAIN", "web.default.svc.svc.cluster.local. NXDOMAIN",
            "web.default.svc.cluster.local. NOERROR"], Sent(From("default/tuned", "web.default.svc", "--upstream-answer", "NXDOMAIN")));
    }

    [Fact]
    public void Headless_with_no_ready_endpoint_is_nxdomain_so_the_search_moves_on_and_nodata_moves_on_too()
    {
        Assert.Equal(["empty.default.svc.cluster.local. NXDOMAIN", "empty.svc.cluster.local. NXDOMAIN", "empty.cluster.local. NXDOMAIN", "empty. REFUSED"],
            Sent(From("default/client", "empty")));
        Assert.Equal(["web.default.svc.cluster.local. NOERROR", "web.svc.cluster.local. NXDOMAIN", "web.cluster.local. NXDOMAIN", "web. REFUSED"],
            Sent(From("default/client", "web", "AAAA")));
    }

    [Fact]
    public void Dns_policies_none_and_host_network()
    {
        // dnsPolicy None: only its dnsConfig (search other.svc.cluster.local, ndots default 1).
        Assert.Equal(["api.other.svc.cluster.local. NOERROR"], Sent(From("default/custom", "api")));
        Assert.Equal(["web.default.svc.cluster.local. NOERROR"], Sent(From("default/custom", "web.default.svc.cluster.local")));
        Assert.Equal(["web.default. NXDOMAIN", "web.default.other.svc.cluster.local. NXDOMAIN"],
            Sent(From("default/custom", "web.default", "--upstream-answer", "NXDOMAIN")));
        // hostNetwork with ClusterFirst: the node's resolver, not cluster DNS; ClusterFirstWithHostNet: cluster DNS.
        JsonObject host = From("default/hostnet", "web");
        Assert.Empty(host["queries"]!.AsArray());
        Assert.Equal(["web.default.svc.cluster.local. NOERROR"], Sent(From("default/hostnet-cf", "web")));
    }

    [Fact]
    public void Text_output_shows_the_resolv_conf_and_each_query()
    {
        var r = CliTests.Run(["dns", "--cluster", DnsWorld.ClusterFile, "--from", "default/client", "api.other"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n", r.Stdout);
        Assert.Contains("query 1: api.other.default.svc.cluster.local. A -> NXDOMAIN", r.Stdout);
        Assert.Contains("query 2: api.other.svc.cluster.local. A -> NOERROR", r.Stdout);
    }
}
