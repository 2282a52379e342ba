using DataPlane.Dns;
using DataPlane.Kubernetes.Compiler;

namespace DataPlane.Tests.Dns;

/// <summary>
/// Every record kind of the Kubernetes DNS specification as CoreDNS's kubernetes plugin serves it, as a table read like a
/// zone file: a query line (<c>NAME TYPE → RCODE</c>), then the expected records by section (an/ns/ar), in order. Each
/// answer is produced by the real pipeline from a query frame, decoded by our decoder and by ARSoft.Tools.Net.
/// </summary>
public class DnsZoneTableTests
{
    const string Soa = "cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5";

    const string Table = $$"""
        web.default.svc.cluster.local A -> NOERROR
        an web.default.svc.cluster.local. 5 IN A 10.96.0.20

        WEB.Default.SVC.cluster.local A -> NOERROR
        an web.default.svc.cluster.local. 5 IN A 10.96.0.20

        web.default.svc.cluster.local AAAA -> NOERROR
        ns {{Soa}}

        web.default.svc.cluster.local TXT -> NOERROR
        ns {{Soa}}

        quiet.default.svc.cluster.local A -> NOERROR
        an quiet.default.svc.cluster.local. 5 IN A 10.96.0.21

        _http._tcp.web.default.svc.cluster.local SRV -> NOERROR
        an _http._tcp.web.default.svc.cluster.local. 5 IN SRV 0 100 80 web.default.svc.cluster.local.
        ar web.default.svc.cluster.local. 5 IN A 10.96.0.20

        _metrics._udp.web.default.svc.cluster.local SRV -> NOERROR
        an _metrics._udp.web.default.svc.cluster.local. 5 IN SRV 0 100 81 web.default.svc.cluster.local.
        ar web.default.svc.cluster.local. 5 IN A 10.96.0.20

        _http._udp.web.default.svc.cluster.local SRV -> NXDOMAIN
        ns {{Soa}}

        web.default.svc.cluster.local SRV -> NOERROR
        an web.default.svc.cluster.local. 5 IN SRV 0 50 80 web.default.svc.cluster.local.
        an web.default.svc.cluster.local. 5 IN SRV 0 50 81 web.default.svc.cluster.local.
        ar web.default.svc.cluster.local. 5 IN A 10.96.0.20

        10-244-1-5.web.default.svc.cluster.local A -> NOERROR
        an 10-244-1-5.web.default.svc.cluster.local. 5 IN A 10.244.1.5

        10-244-1-7.web.default.svc.cluster.local A -> NXDOMAIN
        ns {{Soa}}

        nginx.default.svc.cluster.local A -> NOERROR
        an nginx.default.svc.cluster.local. 5 IN A 10.244.1.10
        an nginx.default.svc.cluster.local. 5 IN A 10.244.1.11

        web-0.nginx.default.svc.cluster.local A -> NOERROR
        an web-0.nginx.default.svc.cluster.local. 5 IN A 10.244.1.10

        web-2.nginx.default.svc.cluster.local A -> NXDOMAIN
        ns {{Soa}}

        10-244-1-10.nginx.default.svc.cluster.local A -> NXDOMAIN
        ns {{Soa}}

        _web._tcp.nginx.default.svc.cluster.local SRV -> NOERROR
        an _web._tcp.nginx.default.svc.cluster.local. 5 IN SRV 0 50 80 web-0.nginx.default.svc.cluster.local.
        an _web._tcp.nginx.default.svc.cluster.local. 5 IN SRV 0 50 80 web-1.nginx.default.svc.cluster.local.
        ar web-0.nginx.default.svc.cluster.local. 5 IN A 10.244.1.10
        ar web-1.nginx.default.svc.cluster.local. 5 IN A 10.244.1.11

        empty.default.svc.cluster.local A -> NXDOMAIN
        ns {{Soa}}

        peers.default.svc.cluster.local A -> NOERROR
        an peers.default.svc.cluster.local. 5 IN A 10.244.1.30

        _gossip._udp.peers.default.svc.cluster.local SRV -> NOERROR
        an _gossip._udp.peers.default.svc.cluster.local. 5 IN SRV 0 100 7946 10-244-1-30.peers.default.svc.cluster.local.
        ar 10-244-1-30.peers.default.svc.cluster.local. 5 IN A 10.244.1.30

        ext.default.svc.cluster.local A -> NOERROR
        an ext.default.svc.cluster.local. 5 IN CNAME example.com.

        ext.default.svc.cluster.local CNAME -> NOERROR
        an ext.default.svc.cluster.local. 5 IN CNAME example.com.

        alias.default.svc.cluster.local A -> NOERROR
        an alias.default.svc.cluster.local. 5 IN CNAME web.default.svc.cluster.local.
        an web.default.svc.cluster.local. 5 IN A 10.96.0.20

        byip.default.svc.cluster.local A -> NXDOMAIN
        ns {{Soa}}

        api.other.svc.cluster.local A -> NOERROR
        an api.other.svc.cluster.local. 5 IN A 10.96.0.30

        api.default.svc.cluster.local A -> NXDOMAIN
        ns {{Soa}}

        web.nothere.svc.cluster.local A -> NXDOMAIN
        ns {{Soa}}

        nothere.svc.cluster.local A -> NXDOMAIN
        ns {{Soa}}

        other.svc.cluster.local A -> NOERROR
        ns {{Soa}}

        quiet-team.svc.cluster.local A -> NOERROR
        ns {{Soa}}

        svc.cluster.local A -> NOERROR
        ns {{Soa}}

        foo.cluster.local A -> NXDOMAIN
        ns {{Soa}}

        20.0.96.10.in-addr.arpa PTR -> NOERROR
        an 20.0.96.10.in-addr.arpa. 5 IN PTR web.default.svc.cluster.local.

        11.1.244.10.in-addr.arpa PTR -> NOERROR
        an 11.1.244.10.in-addr.arpa. 5 IN PTR web-1.nginx.default.svc.cluster.local.

        5.1.244.10.in-addr.arpa PTR -> NOERROR
        an 5.1.244.10.in-addr.arpa. 5 IN PTR 10-244-1-5.web.default.svc.cluster.local.

        99.99.99.10.in-addr.arpa PTR -> REFUSED

        10-244-1-99.default.pod.cluster.local A -> NOERROR
        an 10-244-1-99.default.pod.cluster.local. 5 IN A 10.244.1.99

        10-244-1-99.default.pod.cluster.local AAAA -> NOERROR
        ns {{Soa}}

        10-244-1-99.nothere.pod.cluster.local A -> NXDOMAIN
        ns {{Soa}}

        not-an-ip.default.pod.cluster.local A -> NXDOMAIN
        ns {{Soa}}

        default.pod.cluster.local A -> NOERROR
        ns {{Soa}}

        dns-version.cluster.local TXT -> NOERROR
        an dns-version.cluster.local. 28800 IN TXT "1.1.0"

        cluster.local SOA -> NOERROR
        an {{Soa}}

        cluster.local NS -> NOERROR
        an cluster.local. 5 IN NS ns.dns.cluster.local.
        ar ns.dns.cluster.local. 5 IN A 10.96.0.10

        cluster.local A -> NOERROR
        ns {{Soa}}

        example.com A -> REFUSED

        """;

    public static TheoryData<string> Rows()
    {
        var d = new TheoryData<string>();
        foreach (string block in Table.ReplaceLineEndings("\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries)) d.Add(block.Trim());
        return d;
    }

    static readonly DnsWorld World = new();

    [Theory]
    [MemberData(nameof(Rows))]
    public void Query_gets_the_answer_in_the_table(string row)
    {
        string[] lines = row.Split('\n');
        string[] head = lines[0].Split(' ');
        (string name, string type, string rcode) = (head[0], head[1], head[3]);
        string[] Section(string tag) => [.. lines.Skip(1).Where(l => l.StartsWith(tag + " ")).Select(l => l[3..])];

        var (_, resp, _) = World.SendUdp(DnsMessage.BuildQuery(name, DnsType.Parse(type), 0x4242));
        DnsMessage m = DnsMessage.Decode(resp!)!;
        Assert.Equal(rcode, m.RcodeName);
        Assert.Equal(Section("an"), m.Answer);
        Assert.Equal(Section("ns"), m.Authority);
        Assert.Equal(Section("ar"), m.Additional);
        Assert.Equal(0x4242, m.Id);
        Assert.Equal(rcode != "REFUSED", m.Authoritative);
        Assert.False(m.Truncated);

        // The independent decoder agrees on every record.
        var oracle = ARSoft.Tools.Net.Dns.DnsMessage.Parse(new ArraySegment<byte>(resp!));
        Assert.Equal(m.Answer, oracle.AnswerRecords.Select(Text));
        Assert.Equal(m.Authority, oracle.AuthorityRecords.Select(Text));
        Assert.Equal(m.Additional, oracle.AdditionalRecords.Select(Text));
        Assert.Equal(rcode, oracle.ReturnCode.ToString().ToUpperInvariant() switch { "NOERROR" => "NOERROR", "NXDOMAIN" => "NXDOMAIN", var x => x });
    }

    /// <summary>ARSoft's master-file text, in our spacing and names ("web.default... 5 IN A 10.96.0.20").</summary>
    internal static string Text(ARSoft.Tools.Net.Dns.DnsRecordBase r) =>
        $"{r.Name.ToString().ToLowerInvariant()} {r.TimeToLive} IN {r.RecordType.ToString().ToUpperInvariant()} {Rdata(r)}";

    static string Rdata(ARSoft.Tools.Net.Dns.DnsRecordBase r) => r switch
    {
        ARSoft.Tools.Net.Dns.ARecord a => a.Address.ToString(),
        ARSoft.Tools.Net.Dns.AaaaRecord a => a.Address.ToString(), // System.Net formatting: RFC 5952, as ours
        ARSoft.Tools.Net.Dns.CNameRecord c => c.CanonicalName.ToString().ToLowerInvariant(),
        ARSoft.Tools.Net.Dns.PtrRecord p => p.PointerDomainName.ToString().ToLowerInvariant(),
        ARSoft.Tools.Net.Dns.NsRecord n => n.NameServer.ToString().ToLowerInvariant(),
        ARSoft.Tools.Net.Dns.SrvRecord s => $"{s.Priority} {s.Weight} {s.Port} {s.Target.ToString().ToLowerInvariant()}",
        ARSoft.Tools.Net.Dns.SoaRecord s => $"{s.MasterName.ToString().ToLowerInvariant()} {s.ResponsibleName.ToString().ToLowerInvariant()} {s.SerialNumber} {s.RefreshInterval} {s.RetryInterval} {s.ExpireInterval} {s.NegativeCachingTTL}",
        ARSoft.Tools.Net.Dns.TxtRecord t => string.Join(' ', t.TextParts.Select(p => $"\"{p}\"")),
        _ => r.ToString(),
    };
}
