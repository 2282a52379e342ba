using DataPlane.IO.Text;
using DataPlane.IO.Trace;

namespace DataPlane.Tests.Text;

/// <summary>
/// <c>trace</c>'s view of one traced packet, in process: the text lines and the JSON line, written out by hand from
/// <see cref="TextWorld"/> (one endpoint per service, so every address is known in advance). The explanation is the
/// explainer's business; here it is a fixed string, to show where the view puts it.
/// </summary>
public class TraceResultTextTests
{
    static readonly TextWorld W = new();

    static TraceResult Trace(string src, string dst, string proto)
    {
        Assert.True(TraceRequest.TryParse(src, dst, proto, "test", W.Explainer, out TraceRequest req, out string? why), why);
        return Tracer.Trace(W.Maps, req, seed: 1, W.Topology) with { Why = "because" };
    }

    [Fact]
    public void A_forwarded_connection_prints_every_stage_then_why()
    {
        Assert.Equal("""
            packet      tcp 10.244.1.5:40000 -> 10.96.0.10:80 [SYN]
            parse       ok: tcp 10.244.1.5:40000 -> 10.96.0.10:80
            conntrack   miss: new connection
            service     default/web:http  frontend flags [ClusterIp, MasqueradeOffCluster]
            candidates  10.244.1.2:8080
            backend     10.244.1.2:8080
            ttl         TTL 64: forwarded (decremented to 63)
            masquerade  no, client address kept
            ct-create   flow 1: 10.244.1.5:40000 -> 10.96.0.10:80 | reply 10.244.1.2:8080 -> 10.244.1.5:40000
            nat         10.244.1.5:40000 -> 10.244.1.2:8080
            verdict     forward: 10.244.1.5:40000 -> 10.244.1.2:8080
            why         because
            """.ReplaceLineEndings("\n"), TraceResultText.Text(Trace("10.244.1.5", "10.96.0.10:80", "tcp")));
    }

    [Fact]
    public void The_json_line_holds_the_result_then_the_stages_then_why()
    {
        Assert.Equal(
            """{"verdict":"forward","reason":null,"service":"default/web:http","candidates":["10.244.1.2:8080"],"backend":"10.244.1.2:8080","masquerade":false,""" +
            "\"out\":{\"src\":\"10.244.1.5:40000\",\"dst\":\"10.244.1.2:8080\"},\"stages\":[" +
            """{"stage":"parse","verdict":"continue","reason":null,"packet":"tcp 10.244.1.5:40000 -> 10.96.0.10:80"},""" +
            """{"stage":"conntrack","verdict":"continue","reason":null,"hit":false},""" +
            """{"stage":"service","verdict":"continue","reason":null,"service":"default/web:http","frontend":"10.96.0.10:80/tcp","flags":"ClusterIp, MasqueradeOffCluster","scope":"external"},""" +
            """{"stage":"backend","verdict":"continue","reason":null,"candidates":["10.244.1.2:8080"],"backend":"10.244.1.2:8080"},""" +
            """{"stage":"ttl","verdict":"continue","reason":null,"ttl":64},""" +
            """{"stage":"masquerade","verdict":"continue","reason":null,"masquerade":false},""" +
            """{"stage":"conntrack-create","verdict":"continue","reason":null,"flow":1,"original":"10.244.1.5:40000 -> 10.96.0.10:80","reply":"10.244.1.2:8080 -> 10.244.1.5:40000","snat":null},""" +
            """{"stage":"nat","verdict":"forward","reason":null,"src":"10.244.1.5:40000","dst":"10.244.1.2:8080"},""" +
            """{"stage":"verdict","verdict":"forward","reason":null}],"why":"because"}""",
            TraceResultText.Json(Trace("10.244.1.5", "10.96.0.10:80", "tcp")));
    }

    [Fact]
    public void A_service_without_endpoints_stops_at_the_backend_line()
    {
        TraceResult t = Trace("10.244.1.5", "10.96.0.30:80", "tcp");
        Assert.Equal("""
            packet      tcp 10.244.1.5:40000 -> 10.96.0.30:80 [SYN]
            parse       ok: tcp 10.244.1.5:40000 -> 10.96.0.30:80
            conntrack   miss: new connection
            service     default/empty:80  frontend flags [ClusterIp, MasqueradeOffCluster]
            candidates  (none)
            backend     none: reject
            reject      ICMP port unreachable 10.244.1.1 -> 10.244.1.5
            verdict     reject: ICMP port unreachable 10.244.1.1 -> 10.244.1.5
            why         because
            """.ReplaceLineEndings("\n"), TraceResultText.Text(t));
        // No backend, nothing sent on: backend and out are null, the candidates empty.
        Assert.StartsWith("""{"verdict":"reject","reason":null,"service":"default/empty:80","candidates":[],"backend":null,"masquerade":false,"out":null,"stages":[""",
            TraceResultText.Json(t));
    }

    [Fact]
    public void A_ping_by_service_name_prints_the_echo_request_and_the_icmp_line()
    {
        // --dst web with --proto icmp: the name resolves to the cluster IP; the echo request has no ports.
        Assert.Equal("""
            packet      icmp 10.244.1.5 -> 10.96.0.10 echo request
            parse       ok: icmp 10.244.1.5 -> 10.96.0.10 type 8
            icmp        type 8 (echo request): not load-balanced, no Service rule translates ICMP
            verdict     pass: left to the host stack untouched
            why         because
            """.ReplaceLineEndings("\n"), TraceResultText.Text(Trace("10.244.1.5", "web", "icmp")));
    }

    [Fact]
    public void Udp_has_no_flag_and_sctp_is_an_init()
    {
        Assert.StartsWith("packet      udp 10.244.1.5:40000 -> 10.96.0.70:53\n", TraceResultText.Text(Trace("10.244.1.5", "10.96.0.70:53", "udp")));
        Assert.StartsWith("packet      sctp 10.244.1.5:7 -> 10.96.0.70:53 [INIT]\n", TraceResultText.Text(Trace("10.244.1.5:7", "10.96.0.70:53", "sctp")));
    }

    [Fact]
    public void Without_an_explanation_there_is_no_why_line_and_why_is_null()
    {
        Assert.True(TraceRequest.TryParse("10.244.1.5", "10.96.0.30:80", "tcp", "test", null, out TraceRequest req, out _));
        TraceResult t = Tracer.Trace(W.Maps, req, 1);
        Assert.EndsWith("\nverdict     reject: ICMP port unreachable 10.244.1.1 -> 10.244.1.5", TraceResultText.Text(t));
        Assert.EndsWith(""","why":null}""", TraceResultText.Json(t));
    }

    [Fact]
    public void Write_ends_the_text_or_the_json_with_one_newline()
    {
        TraceResult t = Trace("10.244.1.5", "10.96.0.30:80", "tcp");
        var text = new StringWriter { NewLine = "\n" };
        TraceResultText.Write(text, t, json: false);
        Assert.Equal(TraceResultText.Text(t) + "\n", text.ToString());
        var json = new StringWriter { NewLine = "\n" };
        TraceResultText.Write(json, t, json: true);
        Assert.Equal(TraceResultText.Json(t) + "\n", json.ToString());
    }

    [Fact]
    public void A_name_with_nothing_to_send_prints_only_why()
    {
        var text = new StringWriter { NewLine = "\n" };
        TraceResultText.WriteUnresolved(text, "default/nginx is headless", json: false);
        Assert.Equal("why         default/nginx is headless\n", text.ToString());
        var json = new StringWriter { NewLine = "\n" };
        TraceResultText.WriteUnresolved(json, "no Service default/x → none", json: true);
        Assert.Equal("""{"verdict":null,"why":"no Service default/x → none"}""" + "\n", json.ToString());
    }
}
