using static DataPlane.Tests.Seeds.SeedCli;

namespace DataPlane.Tests.Seeds;

public sealed partial class SeedScenarioTests
{
    // ----- seed 001_9343b364b8c64a7b.txt: "Headless Service" (kubernetes-training) --------------------------------------

    static readonly string[] Dummy = Cluster("001-dummy-node-app-rs.yaml", "001-dummy-node-app-headless.yaml", "000-dnsutils-pod.yaml");

    /// <summary>"demo": <c>kubectl get services</c>: headless-service-dummy-node-app ClusterIP None 80/TCP,443/TCP, and kubernetes.</summary>
    [Fact]
    public void S001_demo_kubectl_get_services_shows_the_headless_service_without_cluster_ip()
    {
        ClusterView c = Get(Dummy);
        ServiceView svc = c.Service("headless-service-dummy-node-app");
        Assert.Equal("ClusterIP", svc.Type);
        Assert.Equal("None", svc.ClusterIP);
        Assert.Equal(["80/TCP", "443/TCP"], svc.Ports);
        Assert.Equal(["443/TCP"], c.Service("kubernetes").Ports);
    }

    /// <summary>
    /// "demo": <c>kubectl describe services</c>: Port http 80/TCP → Endpoints the three pods on 8080, Port https 443/TCP →
    /// the same pods on 8443; <c>kubectl get pods -o wide</c>: three replica-set-dummy-node-app-xxxxx pods.
    /// </summary>
    [Fact]
    public void S001_demo_describe_lists_each_pod_on_8080_and_8443()
    {
        ClusterView c = Get(Dummy);
        PodView[] pods = c.PodsOf("replica-set-dummy-node-app-");
        Assert.Equal(3, pods.Length);
        Assert.All(pods, p => Assert.Matches("^replica-set-dummy-node-app-[a-z0-9]{5}$", p.Name));
        ServiceView svc = c.Service("headless-service-dummy-node-app");
        Assert.Equal(pods.Select(p => p.Ip + ":8080").Order(), svc.ReadyAddresses("http"));
        Assert.Equal(pods.Select(p => p.Ip + ":8443").Order(), svc.ReadyAddresses("https"));
    }

    /// <summary>
    /// "Discovering pods through DNS": <c>kubectl exec dnsutils nslookup headless-service-dummy-node-app</c>: three
    /// Name/Address pairs, the FQDN with each pod's IP.
    /// </summary>
    [Fact]
    public void S001_discovering_pods_nslookup_from_dnsutils_returns_the_three_pod_ips()
    {
        ClusterView c = Get(Dummy);
        DnsView d = LookupFrom(Dummy, "default/dnsutils", "headless-service-dummy-node-app");
        Assert.Equal(c.PodsOf("replica-set-dummy-node-app-").Select(p => p.Ip!).Order(), d.Addresses);
        Assert.All(d.Answer, a => Assert.Equal("headless-service-dummy-node-app.default.svc.cluster.local.", a.Owner));
    }

    // ----- seed 002_ae3a86334c590885.txt: "Using headless services to connect to pods directly" (kiada namespace) -------

    /// <summary>The chapter's manifests carry no namespace; the reader's kubectl works in kiada: <c>-n kiada</c>.</summary>
    static readonly string[] Kiada = [.. Cluster("002-quote-pods.yaml", "002-quote-svc.yaml", "002-quote-headless.yaml"), "-n", "kiada"];

    static readonly string[] QuotePodNames = ["quote-canary", "quote-001", "quote-002", "quote-003"];

    static string[] QuotePods(ClusterView c) =>
        [.. QuotePodNames.Select(n => c.Pods.Single(p => p.Namespace == "kiada" && p.Name == n).Ip!).Order()];

    /// <summary>"Creating a headless service": <c>kubectl get svc quote-headless -o wide</c>: ClusterIP None, 80/TCP, in kiada.</summary>
    [Fact]
    public void S002_creating_a_headless_service_get_svc_shows_no_cluster_ip()
    {
        ClusterView c = Get(Kiada);
        ServiceView svc = c.Service("quote-headless", "kiada");
        Assert.Equal("None", svc.ClusterIP);
        Assert.Equal(["80/TCP"], svc.Ports);
        Assert.Equal(QuotePods(c).Select(ip => ip + ":80"), svc.ReadyAddresses());
    }

    /// <summary>
    /// "Understanding DNS A records returned for a headless service": <c>nslookup quote-headless</c> in the dns-test pod:
    /// quote-headless.kiada.svc.cluster.local with the four quote pods' IPs.
    /// </summary>
    [Fact]
    public void S002_dns_a_records_nslookup_quote_headless_returns_all_four_pods()
    {
        ClusterView c = Get(Kiada);
        DnsView d = LookupFrom(Kiada, "kiada/dns-test", "quote-headless");
        Assert.Equal(QuotePods(c), d.Addresses);
        Assert.All(d.Answer, a => Assert.Equal("quote-headless.kiada.svc.cluster.local.", a.Owner));
    }

    /// <summary>"Understanding DNS A records…": <c>nslookup quote</c> returns the regular service's one cluster IP.</summary>
    [Fact]
    public void S002_dns_a_records_nslookup_quote_returns_its_cluster_ip()
    {
        ClusterView c = Get(Kiada);
        DnsView d = LookupFrom(Kiada, "kiada/dns-test", "quote");
        Assert.Equal([("quote.kiada.svc.cluster.local.", "A", c.Service("quote", "kiada").ClusterIP!)], d.Answer);
    }

    /// <summary>
    /// "Understanding how clients use headless services": <c>curl http://quote-headless</c> connects directly to one of the
    /// pods (Trying 10.244.1.10:80): the packet goes to a pod IP and nothing translates it.
    /// </summary>
    [Fact]
    public void S002_clients_curl_quote_headless_connects_straight_to_a_pod()
    {
        ClusterView c = Get(Kiada);
        TraceView t = Curl(Kiada, "kiada/dns-test", "quote-headless:80");
        Assert.Contains(t.SentTo, QuotePods(c).Select(ip => ip + ":80"));
        Assert.Equal("pass", t.Verdict);
        Assert.Null(t.Service);
        Assert.Null(t.OutDst);
    }

    /// <summary>"Understanding how clients use headless services": <c>curl http://quote</c> connects to the cluster IP, port 80, and is forwarded to a pod.</summary>
    [Fact]
    public void S002_clients_curl_quote_connects_to_the_cluster_ip_and_is_forwarded_to_a_pod()
    {
        ClusterView c = Get(Kiada);
        TraceView t = Curl(Kiada, "kiada/dns-test", "quote:80");
        Assert.Equal($"{c.Service("quote", "kiada").ClusterIP}:80", t.SentTo);
        Assert.Equal("forward", t.Verdict);
        Assert.Contains(t.Backend, QuotePods(c).Select(ip => ip + ":80"));
    }

    // ----- seed 004_7bc4f4fc7bb85884.txt: "17. Headless service: point-to-multipoint" -----------------------------------

    static readonly string[] Terra = Cluster("004-terra10-rs.yaml", "004-terra10-headless.yaml", "000-dnsutils-pod.yaml");

    /// <summary>
    /// <c>kubectl get service terra10-headless</c> (ClusterIP None, 80/TCP) and <c>kubectl describe</c> (three endpoints on
    /// 8080).
    /// </summary>
    [Fact]
    public void S004_lab17_get_and_describe_terra10_headless()
    {
        ClusterView c = Get(Terra);
        ServiceView svc = c.Service("terra10-headless");
        Assert.Equal("None", svc.ClusterIP);
        Assert.Equal(["80/TCP"], svc.Ports);
        PodView[] pods = c.PodsOf("terra10-rs-");
        Assert.Equal(3, pods.Length);
        Assert.Equal(pods.Select(p => p.Ip + ":8080").Order(), svc.ReadyAddresses());
    }

    /// <summary><c>kubectl exec dnsutils nslookup terra10-headless</c>: terra10-headless.default.svc.cluster.local with the three pod IPs.</summary>
    [Fact]
    public void S004_lab17_nslookup_terra10_headless_returns_the_three_pod_ips()
    {
        ClusterView c = Get(Terra);
        DnsView d = LookupFrom(Terra, "default/dnsutils", "terra10-headless");
        Assert.Equal(c.PodsOf("terra10-rs-").Select(p => p.Ip!).Order(), d.Addresses);
        Assert.All(d.Answer, a => Assert.Equal("terra10-headless.default.svc.cluster.local.", a.Owner));
    }
}
