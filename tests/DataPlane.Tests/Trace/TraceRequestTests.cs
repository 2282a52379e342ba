using DataPlane.IO.Trace;
using DataPlane.Packets;
using DataPlane.Tests.Text;

namespace DataPlane.Tests.Trace;

/// <summary>What <c>trace</c> sends, parsed from the user's text in process: addresses, names, protocols, batch lines.</summary>
public class TraceRequestTests
{
    static readonly TextWorld W = new();

    static TraceRequest Parse(string src, string dst, string proto = "tcp")
    {
        Assert.True(TraceRequest.TryParse(src, dst, proto, "--src/--dst", W.Explainer, out TraceRequest r, out string? why), why);
        return r;
    }

    [Fact]
    public void A_source_without_a_port_gets_the_default_and_icmp_has_no_ports()
    {
        Assert.Equal(new TraceRequest(IpProto.Tcp, Ip4.Parse("10.244.1.5"), 40000, Ip4.Parse("10.96.0.10"), 80), Parse("10.244.1.5", "10.96.0.10:80"));
        Assert.Equal(new TraceRequest(IpProto.Udp, Ip4.Parse("10.244.1.5"), 5353, Ip4.Parse("10.96.0.70"), 53), Parse("10.244.1.5:5353", "10.96.0.70:53", "udp"));
        Assert.Equal(new TraceRequest(IpProto.Icmp, Ip4.Parse("10.244.1.5"), 0, Ip4.Parse("10.96.0.10"), 0), Parse("10.244.1.5:99", "10.96.0.10", "icmp"));
        Assert.Equal(IpProto.Sctp, Parse("10.244.1.5", "10.96.0.10:80", "sctp").Proto);
    }

    [Fact]
    public void A_service_name_resolves_to_its_cluster_ip_as_cluster_dns_would()
    {
        foreach (string name in new[] { "web:80", "default/web:80", "web.default.svc.cluster.local:80" })
            Assert.Equal((Ip4.Parse("10.96.0.10"), (ushort)80), (Parse("10.244.1.5", name).Dst, Parse("10.244.1.5", name).DstPort));
        Assert.Equal(Ip4.Parse("10.96.0.10"), Parse("10.244.1.5", "web", "icmp").Dst);
    }

    [Fact]
    public void A_name_with_no_cluster_ip_is_not_an_error_but_nothing_to_send()
    {
        Assert.False(TraceRequest.TryParse("10.244.1.5", "nosuch:80", "tcp", "--src/--dst", W.Explainer, out _, out string? why));
        Assert.Equal("no Service default/nosuch in the manifests", why);
    }

    [Fact]
    public void Text_that_is_no_address_names_where_it_came_from()
    {
        static string Error(string src, string dst, string proto = "tcp", bool explainer = true) =>
            Assert.Throws<TraceInputException>(() => TraceRequest.TryParse(src, dst, proto, "--src/--dst", explainer ? W.Explainer : null, out _, out _)).Message;
        Assert.Equal("--src/--dst: 'bad' is not ip[:port]", Error("bad", "10.96.0.10:80"));
        Assert.Equal("--src/--dst: proto 'gre' is not tcp, udp, sctp or icmp", Error("10.244.1.5", "10.96.0.10:80", "gre"));
        Assert.Equal("--src/--dst: 'web' is not ip:port or service:port", Error("10.244.1.5", "web"));
        Assert.Equal("--src/--dst: '10.96.0.10' is not ip:port or service:port", Error("10.244.1.5", "10.96.0.10"));
        // Without the cluster there is no name to resolve.
        Assert.Equal("--src/--dst: 'web:80' is not ip:port or service:port", Error("10.244.1.5", "web:80", explainer: false));
    }

    [Fact]
    public void Batch_lines_default_to_tcp_and_errors_name_file_and_line()
    {
        Assert.Equal(new TraceRequest(IpProto.Tcp, Ip4.Parse("10.244.1.5"), 40000, Ip4.Parse("10.96.0.10"), 80),
            TraceRequest.ParseBatchLine("b.jsonl", 1, """{"src":"10.244.1.5","dst":"web:80"}""", W.Explainer));
        Assert.Equal("b.jsonl:2: 'x' is not ip[:port]",
            Assert.Throws<TraceInputException>(() => TraceRequest.ParseBatchLine("b.jsonl", 2, """{"src":"x","dst":"web:80"}""", W.Explainer)).Message);
        Assert.Equal("b.jsonl:3: no Service default/nosuch in the manifests",
            Assert.Throws<TraceInputException>(() => TraceRequest.ParseBatchLine("b.jsonl", 3, """{"src":"10.244.1.5","dst":"nosuch:80"}""", W.Explainer)).Message);
        Assert.StartsWith("b.jsonl:4: not a JSON object: ",
            Assert.Throws<TraceInputException>(() => TraceRequest.ParseBatchLine("b.jsonl", 4, "src=1", W.Explainer)).Message);
        Assert.StartsWith("b.jsonl:5: ",
            Assert.Throws<TraceInputException>(() => TraceRequest.ParseBatchLine("b.jsonl", 5, "[1]", W.Explainer)).Message);
    }
}
