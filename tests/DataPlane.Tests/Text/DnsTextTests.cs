using DataPlane.Kubernetes.Manifests;
using DataPlane.Dns;
using DataPlane.IO.Text;
using DataPlane.IO.Trace;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Packets;
using DataPlane.Tests.Dns;

namespace DataPlane.Tests.Text;

/// <summary>
/// <c>dns</c>'s views in process, over answers a <see cref="DnsProbe"/> got from the DNS tests' cluster (web has
/// cluster IP 10.96.0.20 and port http 80; the zone's SOA is cluster.local with a 5 s TTL).
/// </summary>
public class DnsTextTests
{
    static readonly ClusterManifests M = ManifestLoader.Load(DnsWorld.ClusterFile);
    static readonly DnsZone Zone = DnsZoneCompiler.Compile(M, new DnsOptions { Mode = DnsMode.Answer });

    static DnsProbe Probe(bool tcp = false) => new(Zone, DnsWorld.Client, tcp);

    static Pod PodNamed(string key) => M.Pods.Single(p => p.Key == key);

    [Fact]
    public void An_answer_is_laid_out_like_dig()
    {
        Assert.Equal("""
            ;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1
            ;; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1

            ;; QUESTION SECTION:
            ;_http._tcp.web.default.svc.cluster.local. IN SRV

            ;; ANSWER SECTION:
            _http._tcp.web.default.svc.cluster.local. 5 IN SRV 0 100 80 web.default.svc.cluster.local.

            ;; ADDITIONAL SECTION:
            web.default.svc.cluster.local. 5 IN A 10.96.0.20
            """.ReplaceLineEndings("\n"), DnsText.Dig("_http._tcp.web.default.svc.cluster.local", DnsType.SRV, Probe().Ask("_http._tcp.web.default.svc.cluster.local", DnsType.SRV)));
    }

    [Fact]
    public void Nxdomain_shows_the_authority_section_and_ids_count_up()
    {
        DnsProbe probe = Probe(tcp: true);
        probe.Ask("web.default.svc.cluster.local", DnsType.A);
        Assert.Equal("""
            ;; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 2
            ;; flags: qr aa rd; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 0

            ;; QUESTION SECTION:
            ;nope.default.svc.cluster.local. IN A

            ;; AUTHORITY SECTION:
            cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5
            """.ReplaceLineEndings("\n"), DnsText.Dig("nope.default.svc.cluster.local", DnsType.A, probe.Ask("nope.default.svc.cluster.local", DnsType.A)));
    }

    [Fact]
    public void No_answer_is_one_comment_line_and_rcode_none()
    {
        Assert.Equal(";; no answer for web.default AAAA", DnsText.Dig("web.default", DnsType.AAAA, null));
        Assert.Equal("""{"rcode":"NONE","answer":[],"authority":[],"additional":[]}""", DnsText.Json(null).ToJsonString());
    }

    [Fact]
    public void Write_prints_one_json_line_or_the_dig_text()
    {
        DnsMessage? m = Probe().Ask("web.default.svc.cluster.local", DnsType.A);
        var json = new StringWriter { NewLine = "\n" };
        DnsText.Write(json, "web.default.svc.cluster.local", DnsType.A, m, json: true);
        Assert.Equal("""{"rcode":"NOERROR","answer":["web.default.svc.cluster.local. 5 IN A 10.96.0.20"],"authority":[],"additional":[]}""" + "\n", json.ToString());
        var text = new StringWriter { NewLine = "\n" };
        DnsText.Write(text, "web.default.svc.cluster.local", DnsType.A, m, json: false);
        Assert.Equal(DnsText.Dig("web.default.svc.cluster.local", DnsType.A, m) + "\n", text.ToString());
    }

    [Fact]
    public void A_pods_search_path_prints_its_resolv_conf_and_every_query_until_the_answer()
    {
        Pod pod = PodNamed("default/client");
        PodResolvConf rc = PodResolvConf.For(pod, "cluster.local", Ip4.Format(Zone.Address));
        DnsProbe probe = Probe();
        var sent = rc.Resolve("api.other", name => probe.Ask(name, DnsType.A));
        var text = new StringWriter { NewLine = "\n" };
        DnsText.WriteResolution(text, pod, rc, DnsType.A, sent, json: false);
        Assert.Equal("""
            # resolv.conf of default/client (dnsPolicy ClusterFirst)
            search default.svc.cluster.local svc.cluster.local cluster.local
            nameserver 10.96.0.10
            options ndots:5

            query 1: api.other.default.svc.cluster.local. A -> NXDOMAIN
            query 2: api.other.svc.cluster.local. A -> NOERROR
                api.other.svc.cluster.local. 5 IN A 10.96.0.30

            """.ReplaceLineEndings("\n"), text.ToString());
        var json = new StringWriter { NewLine = "\n" };
        DnsText.WriteResolution(json, pod, rc, DnsType.A, sent, json: true);
        Assert.Equal("""{"queries":[{"qname":"api.other.default.svc.cluster.local.","rcode":"NXDOMAIN","answer":[]},""" +
                     """{"qname":"api.other.svc.cluster.local.","rcode":"NOERROR","answer":["api.other.svc.cluster.local. 5 IN A 10.96.0.30"]}],""" +
                     "\"result\":{\"rcode\":\"NOERROR\",\"answer\":[\"api.other.svc.cluster.local. 5 IN A 10.96.0.30\"]}}\n", json.ToString());
    }

    [Fact]
    public void A_query_with_no_data_says_so()
    {
        Pod pod = PodNamed("default/client");
        PodResolvConf rc = PodResolvConf.For(pod, "cluster.local", Ip4.Format(Zone.Address));
        DnsProbe probe = Probe();
        // web.default.svc.cluster.local. has an A record, not an AAAA one: NOERROR with no answer.
        var sent = rc.Resolve("web.default.svc.cluster.local.", name => probe.Ask(name, DnsType.AAAA));
        var text = new StringWriter { NewLine = "\n" };
        DnsText.WriteResolution(text, pod, rc, DnsType.AAAA, sent, json: false);
        Assert.EndsWith("\n\nquery 1: web.default.svc.cluster.local. AAAA -> NOERROR (no data)\n", text.ToString());
    }

    [Fact]
    public void A_host_network_pod_is_told_it_does_not_use_the_cluster_dns()
    {
        Pod pod = PodNamed("default/hostnet");
        PodResolvConf rc = PodResolvConf.For(pod, "cluster.local", Ip4.Format(Zone.Address));
        Assert.False(rc.UsesClusterDns);
        const string Why = "Pod default/hostnet (dnsPolicy ClusterFirst, hostNetwork) does not use the cluster DNS: its queries go to the node's or its own nameservers";
        var text = new StringWriter { NewLine = "\n" };
        DnsText.WriteNotClusterDns(text, pod, rc, json: false);
        Assert.Equal($"# resolv.conf of default/hostnet\n{Why}\n", text.ToString());
        var json = new StringWriter { NewLine = "\n" };
        DnsText.WriteNotClusterDns(json, pod, rc, json: true);
        Assert.Equal($$"""{"queries":[],"result":null,"note":"{{Why}}"}""" + "\n", json.ToString());
    }

    [Fact]
    public void The_probe_refuses_a_name_that_cannot_go_on_the_wire_and_batch_lines_name_file_and_line()
    {
        var e = Assert.Throws<TraceInputException>(() => Probe().Ask(new string('a', 64) + ".default", DnsType.A));
        Assert.StartsWith($"'{new string('a', 64)}.default': ", e.Message);
        Assert.Equal(("web", DnsType.SRV), DnsProbe.ParseBatchLine("b.jsonl", 1, """{"qname":"web","qtype":"SRV"}"""));
        Assert.Equal(("web", DnsType.A), DnsProbe.ParseBatchLine("b.jsonl", 1, """{"qname":"web"}"""));
        Assert.Equal("b.jsonl:2: no \"qname\"", Assert.Throws<TraceInputException>(() => DnsProbe.ParseBatchLine("b.jsonl", 2, """{"qtype":"A"}""")).Message);
        Assert.Equal("b.jsonl:3: 'BOGUS' is not a record type", Assert.Throws<TraceInputException>(() => DnsProbe.ParseBatchLine("b.jsonl", 3, """{"qname":"web","qtype":"BOGUS"}""")).Message);
        Assert.StartsWith("b.jsonl:4: not a JSON object: ", Assert.Throws<TraceInputException>(() => DnsProbe.ParseBatchLine("b.jsonl", 4, "web A")).Message);
    }
}
