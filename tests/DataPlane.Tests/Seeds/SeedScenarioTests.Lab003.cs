using static DataPlane.Tests.Seeds.SeedCli;

namespace DataPlane.Tests.Seeds;

public sealed partial class SeedScenarioTests
{
    // ----- seed 003_10a6d7d0f5707721.txt: the ms-hello / ms-bye lab ---------------------------------------------------

    /// <summary>The lab's order: the two Deployments, then their Services (so the pods predate the services).</summary>
    static readonly string[] Lab = Cluster("003-ms-bye-dep.yaml", "003-ms-hello-dep.yaml", "003-ms-svcs.yaml");

    static PodView Bye(ClusterView c) => c.PodsOf("ms-bye-dep-")[0];

    /// <summary>
    /// "Kubernetes Deployments Analysis": <c>kubectl get deploy,rs,po</c>: two pods per Deployment, named
    /// &lt;deploy&gt;-&lt;pod-template-hash&gt;-&lt;5 chars&gt;, owned by the ReplicaSet &lt;deploy&gt;-&lt;hash&gt;.
    /// </summary>
    [Fact]
    public void S003_deployments_analysis_two_pods_each_named_after_their_replicaset()
    {
        ClusterView c = Get(Lab);
        foreach (string dep in new[] { "ms-bye-dep", "ms-hello-dep" })
        {
            PodView[] pods = c.PodsOf(dep + "-");
            Assert.Equal(2, pods.Length);
            Assert.All(pods, p =>
            {
                Assert.Matches($"^{dep}-[a-z0-9]+-[a-z0-9]{{5}}$", p.Name);
                Assert.Equal("ReplicaSet/" + p.Name[..p.Name.LastIndexOf('-')], p.Owner);
                Assert.True(p.Ready);
            });
        }
    }

    /// <summary>
    /// "Kubernetes Deployments Analysis": from a ms-hello pod, <c>telnet BYE-POD-IP 9999</c> / <c>curl BYE-POD-IP:9999</c>
    /// and <c>ping BYE-POD-IP</c> go straight to the pod (no Service, nothing translated).
    /// </summary>
    [Fact]
    public void S003_deployments_analysis_pod_to_pod_curl_and_ping_go_straight_to_the_pod()
    {
        ClusterView c = Get(Lab);
        string hello = c.PodsOf("ms-hello-dep-")[0].Ip!, bye = Bye(c).Ip!;
        TraceView curl = Curl(Lab, hello, $"{bye}:9999");
        Assert.Equal("pass", curl.Verdict);
        Assert.Null(curl.Service);
        Assert.Null(curl.OutDst);
        TraceView ping = Curl(Lab, hello, bye, "--proto", "icmp");
        Assert.Equal("pass", ping.Verdict);
        Assert.Contains("pod", ping.Why);
    }

    /// <summary>
    /// "Illustration": <c>kubectl exec BYE-POD -- curl -X GET http://CLUSTER-IP:17</c> reaches a ms-hello pod on 7777 and the
    /// pod sees the client's own address (the ms-bye pod's IP).
    /// </summary>
    [Fact]
    public void S003_illustration_curl_cluster_ip_17_reaches_a_hello_pod_on_7777_with_the_client_ip_kept()
    {
        ClusterView c = Get(Lab);
        ServiceView hello = c.Service("ms-hello-svc");
        PodView bye = Bye(c);
        TraceView t = Curl(Lab, bye.Ip!, $"{hello.ClusterIP}:17");
        Assert.Equal("forward", t.Verdict);
        Assert.Contains(t.Backend, hello.ReadyAddresses());
        Assert.EndsWith(":7777", t.Backend);
        Assert.False(t.Masquerade);
        Assert.StartsWith(bye.Ip + ":", t.OutSrc);
    }

    /// <summary>The same curl with the exec'd pod named as source: <c>trace --src default/ms-bye-dep-…</c>.</summary>
    [Fact]
    public void S003_illustration_curl_from_kubectl_exec_names_the_pod_as_source()
    {
        ClusterView c = Get(Lab);
        PodView bye = Bye(c);
        TraceView t = Curl(Lab, bye.Ref, "ms-hello-svc:17");
        Assert.StartsWith($"tcp {bye.Ip}:", t.Packet);
        Assert.Equal("forward", t.Verdict);
        Assert.EndsWith(":7777", t.Backend);
        Assert.StartsWith(bye.Ip + ":", t.OutSrc);
    }

    /// <summary>
    /// "Illustration": the last curl, run from the minikube VM (the node itself) to the cluster IP, also reaches a hello pod on
    /// 7777, but the pod sees another client address: a node's own traffic to a service is masqueraded (it is not from
    /// the cluster CIDR).
    /// </summary>
    [Fact]
    public void S003_illustration_curl_cluster_ip_from_the_node_is_masqueraded()
    {
        ClusterView c = Get(Lab);
        var (node, ip) = c.Nodes[0];
        TraceView t = Curl(Lab, ip, $"{c.Service("ms-hello-svc").ClusterIP}:17", "--node", node);
        Assert.Equal("forward", t.Verdict);
        Assert.Contains(t.Backend, c.Service("ms-hello-svc").ReadyAddresses());
        Assert.True(t.Masquerade);
    }

    /// <summary>"Illustration" / "DNS": <c>nc -zv ms-hello-svc 17</c> and <c>wget -O- ms-hello-svc:17</c> resolve the name to the cluster IP and connect.</summary>
    [Fact]
    public void S003_illustration_nc_and_wget_by_service_name_port_17()
    {
        ClusterView c = Get(Lab);
        TraceView t = Curl(Lab, Bye(c).Ip!, "ms-hello-svc:17");
        Assert.Equal($"{c.Service("ms-hello-svc").ClusterIP}:17", t.SentTo);
        Assert.Equal("forward", t.Verdict);
        Assert.EndsWith(":7777", t.Backend);
    }

    /// <summary>
    /// "Illustration" / "Kube-dns": <c>kubectl exec BYE-POD -- busybox nslookup ms-hello-svc</c>: Address 10.96.126.57
    /// ms-hello-svc.default.svc.cluster.local (busybox also looks the address up: its PTR names the service).
    /// </summary>
    [Fact]
    public void S003_kube_dns_busybox_nslookup_ms_hello_svc_from_a_bye_pod()
    {
        ClusterView c = Get(Lab);
        string ip = c.Service("ms-hello-svc").ClusterIP!;
        DnsView d = LookupFrom(Lab, Bye(c).Ref, "ms-hello-svc");
        Assert.Equal([("ms-hello-svc.default.svc.cluster.local.", "A", ip)], d.Answer);
        string reverse = string.Join('.', ip.Split('.').Reverse()) + ".in-addr.arpa";
        Assert.Contains(("" + reverse + ".", "PTR", "ms-hello-svc.default.svc.cluster.local."), Lookup(Lab, reverse, "PTR").Answer);
    }

    /// <summary>"Illustration": "ping is not working using the service static ip address", while pinging the pod IP works.</summary>
    [Fact]
    public void S003_illustration_ping_the_service_ip_gets_nothing_ping_the_pod_ip_reaches_it()
    {
        ClusterView c = Get(Lab);
        PodView bye = Bye(c), hello = c.PodsOf("ms-hello-dep-")[0];
        TraceView svc = Curl(Lab, bye.Ip!, c.Service("ms-hello-svc").ClusterIP!, "--proto", "icmp");
        Assert.Equal("pass", svc.Verdict);
        Assert.Contains("virtual", svc.Why);
        TraceView pod = Curl(Lab, bye.Ip!, hello.Ip!, "--proto", "icmp");
        Assert.Equal("pass", pod.Verdict);
        Assert.Contains(hello.Name, pod.Why);
    }

    /// <summary>
    /// "Environment Variables": the pods were created before the services, so <c>printenv</c> shows only the kubernetes
    /// service's variables (KUBERNETES_SERVICE_HOST=10.96.0.1, KUBERNETES_SERVICE_PORT=443, …) and no MS_* ones.
    /// </summary>
    [Fact]
    public void S003_environment_variables_pods_created_before_the_services_see_only_kubernetes()
    {
        string[] env = Env(Lab, Bye(Get(Lab)).Ref);
        Assert.Contains("KUBERNETES_SERVICE_HOST=10.96.0.1", env);
        Assert.Contains("KUBERNETES_SERVICE_PORT=443", env);
        Assert.Contains("KUBERNETES_SERVICE_PORT_HTTPS=443", env);
        Assert.Contains("KUBERNETES_PORT=tcp://10.96.0.1:443", env);
        Assert.Contains("KUBERNETES_PORT_443_TCP=tcp://10.96.0.1:443", env);
        Assert.Contains("KUBERNETES_PORT_443_TCP_PROTO=tcp", env);
        Assert.Contains("KUBERNETES_PORT_443_TCP_PORT=443", env);
        Assert.Contains("KUBERNETES_PORT_443_TCP_ADDR=10.96.0.1", env);
        Assert.DoesNotContain(env, l => l.StartsWith("MS_", StringComparison.Ordinal));
    }

    /// <summary>
    /// "Environment Variables": after <c>kubectl scale … --replicas=0/2</c> the pods are newer than the services:
    /// <c>printenv | grep SERVICE</c> shows MS_BYE_SVC_SERVICE_PORT=19, MS_HELLO_SVC_SERVICE_PORT=17, both hosts and kubernetes'.
    /// </summary>
    [Fact]
    public void S003_environment_variables_recreated_pods_see_both_services()
    {
        string[] m = Cluster("003-ms-svcs.yaml", "003-ms-bye-dep.yaml", "003-ms-hello-dep.yaml");
        ClusterView c = Get(m);
        string[] service = [.. Env(m, Bye(c).Ref).Where(l => l.Contains("SERVICE", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];
        Assert.Equal(new[]
        {
            "KUBERNETES_SERVICE_HOST=10.96.0.1",
            "KUBERNETES_SERVICE_PORT=443",
            "KUBERNETES_SERVICE_PORT_HTTPS=443",
            $"MS_BYE_SVC_SERVICE_HOST={c.Service("ms-bye-svc").ClusterIP}",
            "MS_BYE_SVC_SERVICE_PORT=19",
            $"MS_HELLO_SVC_SERVICE_HOST={c.Service("ms-hello-svc").ClusterIP}",
            "MS_HELLO_SVC_SERVICE_PORT=17",
        }, service);
    }

    /// <summary>
    /// "Environment Variables": <c>kubectl get svc,po,ep</c>: kubernetes 10.96.0.1 443/TCP, ms-bye-svc 19/TCP with the bye
    /// pods on 9999, ms-hello-svc 17/TCP with the hello pods on 7777.
    /// </summary>
    [Fact]
    public void S003_environment_variables_kubectl_get_svc_po_ep()
    {
        ClusterView c = Get(Lab);
        Assert.Equal("10.96.0.1", c.Service("kubernetes").ClusterIP);
        Assert.Equal(["443/TCP"], c.Service("kubernetes").Ports);
        Assert.Equal(["19/TCP"], c.Service("ms-bye-svc").Ports);
        Assert.Equal(["17/TCP"], c.Service("ms-hello-svc").Ports);
        Assert.Equal(c.PodsOf("ms-bye-dep-").Select(p => p.Ip + ":9999").Order(), c.Service("ms-bye-svc").ReadyAddresses());
        Assert.Equal(c.PodsOf("ms-hello-dep-").Select(p => p.Ip + ":7777").Order(), c.Service("ms-hello-svc").ReadyAddresses());
    }

    /// <summary>"Manually configuring EndPoints": streamset-service has no selector; its Endpoints point at the VM 172.29.16.8:9090, and pods reach it.</summary>
    [Fact]
    public void S003_manually_configured_endpoints_streamset_service_forwards_to_the_vm()
    {
        string[] m = [.. Lab, .. Cluster("003-streamset.yaml")];
        ClusterView c = Get(m);
        Assert.Equal(["172.29.16.8:9090"], c.Service("streamset-service").ReadyAddresses());
        TraceView t = Curl(m, Bye(c).Ip!, "streamset-service:9090");
        Assert.Equal("forward", t.Verdict);
        Assert.Equal("172.29.16.8:9090", t.Backend);
    }

    /// <summary>
    /// "ExternalName Service": <c>kubectl get svc,ep</c>: ext-api-svc ExternalName, no cluster IP, EXTERNAL-IP google.com,
    /// no endpoints; <c>curl ext-api-svc.default.svc.cluster.local</c> from a pod resolves through a CNAME to google.com.
    /// </summary>
    [Fact]
    public void S003_external_name_ext_api_svc_is_a_cname_to_google()
    {
        string[] m = [.. Lab, .. Cluster("003-ext-api-svc.yaml")];
        ClusterView c = Get(m);
        ServiceView svc = c.Service("ext-api-svc");
        Assert.Equal("ExternalName", svc.Type);
        Assert.Null(svc.ClusterIP);
        Assert.Equal("google.com", svc.ExternalName);
        Assert.Empty(svc.Endpoints);
        Assert.Contains(("ext-api-svc.default.svc.cluster.local.", "CNAME", "google.com."),
            LookupFrom(m, Bye(c).Ref, "ext-api-svc.default.svc.cluster.local").Answer);
    }

    /// <summary>
    /// "ExternalName Service", the migration: <c>kubectl create deploy nginx</c>, then ext-api-svc re-applied as a ClusterIP
    /// with selector app=nginx (the cluster afterwards: the new ext-api-svc replaced the ExternalName one): its endpoint is
    /// the nginx pod on 80, and curl of its FQDN from a pod reaches nginx.
    /// </summary>
    [Fact]
    public void S003_external_name_migrated_to_a_clusterip_reaches_the_nginx_pod()
    {
        string[] m = [.. Lab, .. Cluster("003-nginx-deploy.yaml", "003-ext-api-svc-clusterip.yaml")];
        ClusterView c = Get(m);
        ServiceView svc = c.Service("ext-api-svc");
        Assert.Equal("ClusterIP", svc.Type);
        Assert.Null(svc.ExternalName);
        PodView nginx = Assert.Single(c.PodsOf("nginx-"));
        Assert.Equal([$"{nginx.Ip}:80"], svc.ReadyAddresses());
        TraceView t = Curl(m, Bye(c).Ip!, "ext-api-svc.default.svc.cluster.local:80");
        Assert.Equal($"{svc.ClusterIP}:80", t.SentTo);
        Assert.Equal("forward", t.Verdict);
        Assert.Equal($"{nginx.Ip}:80", t.Backend);
        Assert.Equal([svc.ClusterIP!], Lookup(m, "ext-api-svc.default.svc.cluster.local").Addresses);
    }

    /// <summary>
    /// "ExternalName Service": the AWS example's externalName <c>mysql–instance1…</c> holds an en-dash (U+2013); kube-apiserver
    /// refuses it (spec.externalName must be a lowercase RFC 1123 subdomain).
    /// </summary>
    [Fact]
    public void S003_external_name_with_an_en_dash_is_refused_by_the_api_server()
    {
        var r = Run(["cluster", .. Cluster("003-mysql-externalname.yaml")]);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("externalName", r.Stderr);
        Assert.Contains("RFC 1123", r.Stderr);
        Assert.Contains("003-mysql-externalname.yaml", r.Stderr);
    }

    /// <summary>
    /// "headless service": headless-hello-svc has no cluster IP, its endpoints are the two hello pods on 7777, and
    /// <c>busybox nslookup headless-hello-svc</c> returns both pod IPs (ms-hello-svc still returns its cluster IP).
    /// </summary>
    [Fact]
    public void S003_headless_service_lists_both_hello_pods_and_nslookup_returns_them()
    {
        string[] m = [.. Lab, .. Cluster("003-headless-hello-svc.yaml")];
        ClusterView c = Get(m);
        ServiceView svc = c.Service("headless-hello-svc");
        Assert.Equal("None", svc.ClusterIP);
        Assert.Equal(["17/TCP"], svc.Ports);
        string[] hello = [.. c.PodsOf("ms-hello-dep-").Select(p => p.Ip!).Order()];
        Assert.Equal(hello.Select(ip => ip + ":7777"), svc.ReadyAddresses());
        Assert.Equal(hello, LookupFrom(m, Bye(c).Ref, "headless-hello-svc").Addresses);
        Assert.Equal([c.Service("ms-hello-svc").ClusterIP!], LookupFrom(m, Bye(c).Ref, "ms-hello-svc").Addresses);
    }

    /// <summary>
    /// "NodePorts": np-hello-svc is 17:31000/TCP; <c>nslookup np-hello-svc</c> gives its cluster IP; <c>curl np-hello-svc:17</c>
    /// and <c>curl NODE-IP:31000</c> from a bye pod both reach a hello pod on 7777.
    /// </summary>
    [Fact]
    public void S003_nodeports_np_hello_svc_by_name_and_by_node_port_from_a_pod()
    {
        string[] m = [.. Lab, .. Cluster("003-np-hello-svc.yaml")];
        ClusterView c = Get(m);
        ServiceView svc = c.Service("np-hello-svc");
        Assert.Equal("NodePort", svc.Type);
        Assert.Equal(["17:31000/TCP"], svc.Ports);
        PodView bye = Bye(c);
        TraceView byName = Curl(m, bye.Ip!, "np-hello-svc:17");
        Assert.Equal("forward", byName.Verdict);
        Assert.EndsWith(":7777", byName.Backend);
        string node = c.Nodes.Single(n => n.Name == bye.Node).Ip;
        TraceView byNode = Curl(m, bye.Ip!, $"{node}:31000", "--node", bye.Node!);
        Assert.Equal("forward", byNode.Verdict);
        Assert.Contains(byNode.Backend, svc.ReadyAddresses());
        Assert.Equal([svc.ClusterIP!], LookupFrom(m, bye.Ref, "np-hello-svc").Addresses);
    }

    /// <summary>
    /// "Multiple Ports service": my-service sets nodePorts but no type, so it is a ClusterIP service, and kube-apiserver
    /// refuses it (spec.ports[0].nodePort may not be used when type is ClusterIP).
    /// </summary>
    [Fact]
    public void S003_multiple_ports_my_service_nodeports_without_type_nodeport_are_refused()
    {
        var r = Run(["cluster", .. Cluster("003-my-service-multiport.yaml")]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("nodePort", r.Stderr);
        Assert.Contains("ClusterIP", r.Stderr);
    }

    /// <summary>
    /// "Multiple Ports service": two containers in one pod behind mc-mornaft-svc: <c>curl mc-mornaft-svc:1234</c> reaches
    /// a pod's 1234 (morning), <c>curl mc-mornaft-svc:4321</c> its 4321 (afternoon).
    /// </summary>
    [Fact]
    public void S003_multiple_ports_two_containers_serve_1234_and_4321()
    {
        string[] m = [.. Lab, .. Cluster("003-mc-mornaft-dep.yaml", "003-mc-multport-svc.yaml")];
        ClusterView c = Get(m);
        string[] pods = [.. c.PodsOf("mc-mornaft-dep-").Select(p => p.Ip!)];
        Assert.Equal(2, pods.Length);
        string client = Bye(c).Ip!;
        TraceView morning = Curl(m, client, "mc-mornaft-svc:1234");
        TraceView afternoon = Curl(m, client, "mc-mornaft-svc:4321");
        Assert.Equal(("forward", "forward"), (morning.Verdict, afternoon.Verdict));
        Assert.Contains(morning.Backend, pods.Select(p => p + ":1234"));
        Assert.Contains(afternoon.Backend, pods.Select(p => p + ":4321"));
        Assert.Equal("default/mc-mornaft-svc:morning", morning.Service);
        Assert.Equal("default/mc-mornaft-svc:afternoon", afternoon.Service);
    }
}
