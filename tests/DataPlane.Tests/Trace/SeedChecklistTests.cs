using System.Text.Json.Nodes;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Trace;

/// <summary>
/// The tutorials' own manifests (tests/manifests-realworld/seeds), traced by Service name with no Node in them (the
/// default topology), for the troubleshooting steps they walk through: curl the service, "you can't ping a service
/// IP", a selectorless service with a hand-written Endpoints object of the same name, ExternalName, headless, and a
/// client using the container port instead of the service port.
/// </summary>
public class SeedChecklistTests
{
    static string Seed(string file) => Repo.Path_("tests", "manifests-realworld", "seeds", file);

    static JsonObject Trace(string seed, string dst, string proto = "tcp", int exit = 0)
    {
        var r = CliTests.Run("trace", "--cluster", Seed(seed), "--src", "10.99.0.5", "--dst", dst, "--proto", proto, "--json");
        Assert.True(r.ExitCode == exit, r.ToString());
        return JsonNode.Parse(r.Stdout)!.AsObject();
    }

    [Fact]
    public void Tutorial_000_curl_the_service_and_its_hand_written_endpoints()
    {
        var web = Trace("000-services-tutorial.yaml", "migo-svc:80");
        Assert.Equal("forward", (string)web["verdict"]!);
        Assert.Matches(@"^\d+\.\d+\.\d+\.\d+:80/TCP is default/migo-svc's ClusterIP \(port 80/TCP → targetPort 8080\) → \d+ usable endpoint\(s\) → backend \S+:8080, ", (string)web["why"]!);

        // "The Endpoints object needs to have the same name as the service": it does here, so the service forwards.
        var manual = Trace("000-services-tutorial.yaml", "external-endpoint:80");
        Assert.Equal("forward", (string)manual["verdict"]!);
        Assert.Contains((string)manual["backend"]!, (string[])["11.11.11.11:80", "22.22.22.22:80"]);
    }

    [Fact]
    public void Tutorial_000_ping_the_service_and_the_external_name()
    {
        var ping = Trace("000-services-tutorial.yaml", "migo-svc", "icmp");
        Assert.Equal("pass", (string)ping["verdict"]!);
        Assert.Contains("default/migo-svc's ClusterIP: a cluster IP is virtual, only its ports (80/TCP → targetPort 8080) are translated, so nothing answers a ping in iptables mode", (string)ping["why"]!);

        var ext = Trace("000-services-tutorial.yaml", "external-service:80", exit: 1);
        Assert.Equal("default/external-service is an ExternalName service: cluster DNS answers its name with a CNAME to abc.company.com; it has no cluster IP and no proxy rule, " +
            "so there is no address to trace (trace abc.company.com's own address instead)", (string)ext["why"]!);
    }

    [Fact]
    public void Tutorial_003_the_container_port_is_not_the_service_port()
    {
        var ok = Trace("003-hello-bye-lab.yaml", "ms-bye-svc:19");
        Assert.Equal("forward", (string)ok["verdict"]!);
        var wrong = Trace("003-hello-bye-lab.yaml", "ms-bye-svc:9999");
        Assert.Equal("pass", (string)wrong["verdict"]!);
        Assert.Matches(@"^\d+\.\d+\.\d+\.\d+ is default/ms-bye-svc's ClusterIP, but 9999/TCP is not one of its ports \(19/TCP → targetPort 9999\); ", (string)wrong["why"]!);
    }

    [Fact]
    public void Tutorial_004_a_headless_service_has_no_address()
    {
        var r = Trace("004-headless-lab.yaml", "terra10-headless:80", exit: 1);
        Assert.Equal("default/terra10-headless is headless (clusterIP: None): no virtual IP and no proxy rule; its DNS name returns the ready endpoints' addresses " +
            "(it has no endpoints, because its selector app=terra10 matches no pod in namespace default: the name has no A record)", (string)r["why"]!);
    }
}
