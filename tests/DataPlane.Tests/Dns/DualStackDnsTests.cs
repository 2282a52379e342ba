using DataPlane.Dns;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Dns;

/// <summary>
/// Issue 22 item 4, the cluster-IP part: a dual-stack Service answers A from its IPv4 cluster IP and AAAA from its
/// IPv6 one, an IPv6-only Service AAAA only (A is NODATA), and each cluster IP has its PTR (in-addr.arpa, ip6.arpa), as
/// CoreDNS's kubernetes plugin answers from Service.spec.clusterIPs. The cluster is the dual-stack fixture (Bookinfo's
/// details and the Kubernetes documentation's examples on a dual-stack ServiceCIDR); the expected addresses are what
/// `dataplane cluster` lists for it. Every answer is decoded by ARSoft.Tools.Net too.
/// </summary>
public class DualStackDnsTests
{
    static readonly DnsWorld World = new(new DnsOptions { Mode = DnsMode.Answer }, Repo.Path_("tests", "manifests-realworld", "dual-stack"));

    static DnsMessage Ask(string name, ushort type)
    {
        var (v, resp, _) = World.SendUdp(DnsMessage.BuildQuery(name, type, 0x6262));
        Assert.Equal(Verdict.Answer, v);
        DnsMessage m = DnsMessage.Decode(resp!)!;
        var oracle = ARSoft.Tools.Net.Dns.DnsMessage.Parse(new ArraySegment<byte>(resp!));
        Assert.Equal(m.Answer, oracle.AnswerRecords.Select(DnsZoneTableTests.Text));
        return m;
    }

    [Theory]
    [InlineData("details", "10.96.0.2", "fd00:10:96::1")]                  // RequireDualStack, [IPv6, IPv4]
    [InlineData("my-service-preferred", "10.96.0.4", "fd00:10:96::3")]     // PreferDualStack, IPv4 first
    [InlineData("my-service-ipv6", null, "fd00:10:96::2")]                 // SingleStack IPv6: no A record
    [InlineData("my-service", "10.96.0.3", null)]                          // SingleStack IPv4: no AAAA record
    public void A_and_AAAA_answer_from_the_cluster_IP_of_their_family(string service, string? v4, string? v6)
    {
        string name = $"{service}.default.svc.cluster.local";
        DnsMessage a = Ask(name, DnsType.A), aaaa = Ask(name, DnsType.AAAA);
        Assert.Equal(v4 is null ? [] : [$"{name}. 5 IN A {v4}"], a.Answer);
        Assert.Equal(v6 is null ? [] : [$"{name}. 5 IN AAAA {v6}"], aaaa.Answer);
        Assert.Equal(DnsRcode.NoError, a.Rcode); // NODATA, not NXDOMAIN: the name exists
        Assert.Equal(DnsRcode.NoError, aaaa.Rcode);
    }

    [Fact]
    public void Each_IPv6_cluster_IP_has_its_ip6_arpa_PTR()
    {
        // The reverse name from System.Net's own formatting of the address, not from our code.
        string reverse = string.Join('.', System.Net.IPAddress.Parse("fd00:10:96::1").GetAddressBytes()
            .Reverse().SelectMany(b => new[] { b & 0xF, b >> 4 }).Select(n => n.ToString("x"))) + ".ip6.arpa";
        Assert.Equal([$"{reverse}. 5 IN PTR details.default.svc.cluster.local."], Ask(reverse, DnsType.PTR).Answer);
        Assert.Equal(["2.0.96.10.in-addr.arpa. 5 IN PTR details.default.svc.cluster.local."], Ask("2.0.96.10.in-addr.arpa", DnsType.PTR).Answer);
    }
}
