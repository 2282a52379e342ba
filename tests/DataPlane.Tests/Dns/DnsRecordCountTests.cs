using DataPlane.Dns;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Dns;

/// <summary>
/// Issue 18 item 3: a name's record count was 16-bit. A headless service's name holds one A per endpoint and one
/// bare-name SRV per endpoint and port, so 256 endpoints × 255 named ports (a 25 KB manifest, well within the API's
/// limits: an EndpointSlice holds up to 1000 endpoints and 20 000 ports) make 65 536 records, counted as 0: its A query
/// was NODATA. Above 65 536 the count wrapped to an arbitrary prefix. Answers must hold records, truncated with TC
/// where they do not fit, never NODATA and never a silent subset.
/// </summary>
public class DnsRecordCountTests
{
    static TempDir Headless(int endpoints, int ports)
    {
        var dir = new TempDir("dns");
        string eps = string.Join("\n", Enumerable.Range(0, endpoints).Select(i => $"- {{addresses: [10.245.{i / 250}.{1 + i % 250}], conditions: {{ready: true}}}}"));
        string ps = string.Join(", ", Enumerable.Range(1, ports).Select(p => $"{{name: p{p}, port: {1000 + p}, protocol: TCP}}"));
        File.WriteAllText(dir.File("wide.yaml"), TestManifests.Node1 +
            "apiVersion: v1\nkind: Service\nmetadata: {name: wide, namespace: default}\nspec: {clusterIP: None, ports: [{name: p1, port: 1001}]}\n---\n" +
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: wide-1, namespace: default, labels: {kubernetes.io/service-name: wide}}\n" +
            $"addressType: IPv4\nports: [{ps}]\nendpoints:\n" + eps + "\n");
        return dir;
    }

    static HashSet<string> Addresses(int endpoints) => [.. Enumerable.Range(0, endpoints).Select(i => $"10.245.{i / 250}.{1 + i % 250}")];

    static DnsMessage Ask(DnsWorld w, ushort type, ushort? edns = null)
    {
        var (v, resp, _) = w.SendUdp(DnsMessage.BuildQuery("wide.default.svc.cluster.local", type, 0x5151, edns));
        Assert.Equal(Verdict.Answer, v);
        DnsMessage m = DnsMessage.Decode(resp!)!;
        var oracle = ARSoft.Tools.Net.Dns.DnsMessage.Parse(new ArraySegment<byte>(resp!));
        Assert.Equal(m.Answer, oracle.AnswerRecords.Select(DnsZoneTableTests.Text));
        Assert.Equal(m.Truncated, oracle.IsTruncated);
        return m;
    }

    [Fact]
    public void A_headless_name_with_65536_records_answers_its_A_query_with_records_and_TC()
    {
        using TempDir cluster = Headless(256, 255);
        var w = new DnsWorld(new DnsOptions { Mode = DnsMode.Answer }, cluster.Path);
        HashSet<string> all = Addresses(256);
        foreach (ushort? edns in new ushort?[] { null, 1232 })
        {
            DnsMessage m = Ask(w, DnsType.A, edns);
            Assert.Equal("NOERROR", m.RcodeName);
            Assert.True(m.Truncated, "256 addresses do not fit one frame: TC");
            Assert.NotEmpty(m.Answer);
            Assert.Empty(m.Authority); // not NODATA's SOA
            var got = m.Answer.Select(a => a.Split(' ')[^1]).ToList();
            Assert.All(got, ip => Assert.Contains(ip, all));
            Assert.Equal(got.Count, got.Distinct().Count());
        }
        // An SRV query at the name: 65 280 bare-name SRV records, as many as fit, with TC.
        DnsMessage srv = Ask(w, DnsType.SRV, 1232);
        Assert.True(srv.Truncated);
        Assert.NotEmpty(srv.Answer);
        Assert.All(srv.Answer, r => Assert.Contains(" IN SRV 0 1 ", r));
    }

    [Fact]
    public void Above_65536_records_the_answer_is_truncated_never_a_wrapped_subset()
    {
        // 257 × 256 = 65 792 records (257 A, then 65 535 SRV): a 16-bit count wrapped to 256, only the A records, so
        // an SRV query was NODATA. Every type is answered from the whole set now; more records than a message holds
        // means TC, and the answered ones are drawn from all of them.
        using TempDir cluster = Headless(257, 255);
        var w = new DnsWorld(new DnsOptions { Mode = DnsMode.Answer }, cluster.Path);
        var seenPorts = new HashSet<string>();
        for (ushort id = 0; id < 40; id++)
        {
            var (_, resp, _) = w.SendUdp(DnsMessage.BuildQuery("wide.default.svc.cluster.local", DnsType.SRV, id, 1232), (ushort)(41000 + id));
            DnsMessage m = DnsMessage.Decode(resp!)!;
            Assert.Equal("NOERROR", m.RcodeName);
            Assert.True(m.Truncated);
            Assert.NotEmpty(m.Answer);
            foreach (string r in m.Answer) seenPorts.Add(r.Split(' ')[^2]);
        }
        // The SRV records are in port order (port 1001 first): answers reach far beyond the first window of records.
        Assert.Contains(seenPorts, p => int.Parse(p) > 1100);
        DnsMessage a = Ask(w, DnsType.A, 1232);
        Assert.True(a.Truncated);
        Assert.All(a.Answer, r => Assert.Contains(r.Split(' ')[^1], Addresses(257)));
    }
}
