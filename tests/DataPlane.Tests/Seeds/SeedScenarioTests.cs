using DataPlane.Tests.Infrastructure;
using static DataPlane.Tests.Seeds.SeedCli;

namespace DataPlane.Tests.Seeds;

/// <summary>
/// Every scenario of the five tutorials in ../shared/seeds as a reader types it, against DataPlane's CLI, asserting
/// what the tutorial tells the reader to expect as Kubernetes really does it (kube-apiserver validation and defaulting,
/// the endpoints controller, kube-proxy, CoreDNS, the kubelet). One test per scenario, named S&lt;seed&gt;_&lt;section&gt;_…;
/// the manifests are in Seeds/manifests (their header says which seed and section). Tests that fail against today's
/// </summary>
/// <remarks>
/// Translations: <c>kubectl exec POD -- curl http://SVC:PORT</c> → <c>trace --src ns/pod|podIP --dst SVC:PORT</c>;
/// <c>curl NODE:NODEPORT</c> from outside → <c>trace --src 203.0.113.9 --dst NODE:NODEPORT</c>;
/// <c>nslookup NAME</c> → <c>dns --from ns/pod NAME</c>; <c>kubectl get svc,ep,po</c> → <c>cluster --json</c>;
/// <c>env</c> → <c>env --from ns/pod</c>; manifests applied in a namespace (<c>kubectl -n NS</c> or the context's) →
/// <c>-n NS</c>. The order of <c>--cluster</c> files is the order the reader applied them.
/// </remarks>
public sealed partial class SeedScenarioTests : IDisposable
{
    readonly TempDir _scratch = new("seeds");

    public void Dispose() => _scratch.Dispose();

    // ----- seed 000_8be55800d1be54ed.txt: "Services: enabling clients to discover and talk to pods" --------------------

    static readonly string[] Migo = Cluster("000-migo-rc.yaml", "000-migo-svc.yaml");

    /// <summary>"Creating services": <c>kubectl get svc</c> lists kubernetes (443/TCP) and migo-svc (a cluster IP, 80/TCP).</summary>
    [Fact]
    public void S000_creating_services_kubectl_get_svc_lists_migo_svc_and_kubernetes()
    {
        ClusterView c = Get(Migo);
        ServiceView svc = c.Service("migo-svc");
        Assert.Equal("ClusterIP", svc.Type);
        Assert.Matches(@"^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$", svc.ClusterIP); // in kube-apiserver's default 10.96.0.0/12
        Assert.Equal(["80/TCP"], svc.Ports);
        Assert.Equal(8080, (int)svc.Port(80)["targetPort"]!);

        // Every cluster has default/kubernetes, the API server's service, on the range's first address.
        ServiceView k = c.Service("kubernetes");
        Assert.Equal("ClusterIP", k.Type);
        Assert.Equal("10.96.0.1", k.ClusterIP);
        Assert.Equal(["443/TCP"], k.Ports);
    }

    /// <summary>
    /// "Creating services": the ReplicationController's <c>replica: 3</c> is an unknown field (kubectl warns), so
    /// spec.replicas defaults to 1: one migo-rc pod, not three.
    /// </summary>
    [Fact]
    public void S000_creating_services_replica_typo_leaves_the_rc_at_one_pod()
    {
        var r = Run(["cluster", .. Migo, "--json"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("unknown field \"spec.replica\"", r.Stderr);
        PodView[] pods = Get(Migo).PodsOf("migo-rc-");
        PodView pod = Assert.Single(pods);
        Assert.Equal("ReplicationController/migo-rc", pod.Owner);
        Assert.True(pod.Ready);
    }

    /// <summary>"Testing the Service from within the cluster": <c>kubectl exec POD -- curl -s http://CLUSTER-IP</c> reaches a migo pod on 8080.</summary>
    [Fact]
    public void S000_testing_the_service_curl_cluster_ip_from_a_pod_reaches_a_pod_on_8080()
    {
        ClusterView c = Get(Migo);
        string ip = c.Service("migo-svc").ClusterIP!;
        PodView client = c.PodsOf("migo-rc-")[0];
        TraceView t = Curl(Migo, client.Ip!, $"{ip}:80");
        Assert.Equal("forward", t.Verdict);
        Assert.Contains(t.Backend, c.Service("migo-svc").ReadyAddresses());
        Assert.EndsWith(":8080", t.Backend);
        // A pod's own address reaches the backend (kube-proxy masquerades only off-cluster sources), except when the
        // connection comes back to the client pod itself (hairpin: KUBE-SEP's "-s <endpoint ip> -j KUBE-MARK-MASQ").
        Assert.Equal(t.Backend!.StartsWith(client.Ip + ":", StringComparison.Ordinal), t.Masquerade);
        Assert.Equal(t.Backend, t.OutDst);
    }

    /// <summary>The same curl, naming the pod the reader execs into: <c>trace --src default/POD</c>.</summary>
    [Fact]
    public void S000_testing_the_service_curl_from_kubectl_exec_names_the_pod_as_source()
    {
        ClusterView c = Get(Migo);
        PodView client = c.PodsOf("migo-rc-")[0];
        TraceView t = Curl(Migo, client.Ref, $"{c.Service("migo-svc").ClusterIP}:80");
        Assert.StartsWith($"tcp {client.Ip}:", t.Packet);
        Assert.Equal("forward", t.Verdict);
        Assert.EndsWith(":8080", t.Backend);
    }

    /// <summary>
    /// "Configuring session affinity on the Service": with <c>sessionAffinity: ClientIP</c> every connection of one client
    /// goes to the same pod. The reader's migo pods: the RC's one and the named Pod migo-pod (both app=migo-pod).
    /// </summary>
    [Fact]
    public void S000_session_affinity_client_ip_pins_every_connection_of_a_client_to_one_pod()
    {
        string[] m = Cluster("000-migo-rc.yaml", "000-migo-pod-named.yaml", "000-migo-svc-affinity.yaml");
        ClusterView c = Get(m);
        ServiceView svc = c.Service("migo-svc");
        Assert.Equal(2, svc.ReadyAddresses().Length);
        string client = c.Pod("migo-pod").Ip!;
        var backends = Enumerable.Range(0, 12).Select(i => Curl(m, $"{client}:{41000 + i * 7}", $"{svc.ClusterIP}:80")).Select(t => t.Backend).Distinct().ToArray();
        Assert.Single(backends);

        // Without affinity ("every time ... a randomly selected pod") the same client's connections spread.
        string[] none = Cluster("000-migo-rc.yaml", "000-migo-pod-named.yaml", "000-migo-svc.yaml");
        string ip = Get(none).Service("migo-svc").ClusterIP!;
        Assert.Equal(2, Enumerable.Range(0, 12).Select(i => Curl(none, $"{client}:{41000 + i * 7}", $"{ip}:80").Backend).Distinct().Count());
    }

    /// <summary>"Exposing mutiple ports in the same service": port 80 → 8080 (http), 443 → 8443 (https).</summary>
    [Fact]
    public void S000_multiport_service_maps_80_to_8080_and_443_to_8443()
    {
        string[] m = Cluster("000-migo-rc.yaml", "000-migo-svc-multiport.yaml");
        ClusterView c = Get(m);
        ServiceView svc = c.Service("migo-svc-multiport");
        Assert.Equal(["80/TCP", "443/TCP"], svc.Ports);
        string client = c.PodsOf("migo-rc-")[0].Ip!;
        TraceView http = Curl(m, client, $"{svc.ClusterIP}:80");
        TraceView https = Curl(m, client, $"{svc.ClusterIP}:443");
        Assert.Equal(("forward", "forward"), (http.Verdict, https.Verdict));
        Assert.Equal($"{c.PodsOf("migo-rc-")[0].Ip}:8080", http.Backend);
        Assert.Equal($"{c.PodsOf("migo-rc-")[0].Ip}:8443", https.Backend);
        Assert.Equal("default/migo-svc-multiport:http", http.Service);
        Assert.Equal("default/migo-svc-multiport:https", https.Service);
    }

    /// <summary>"using NAMED pods": the Service listing as printed has no metadata; kubectl/kube-apiserver refuse it (name required).</summary>
    [Fact]
    public void S000_named_ports_service_as_printed_is_refused_for_its_missing_name()
    {
        var r = Run(["cluster", .. Cluster("000-named-ports-svc.yaml")]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("metadata.name", r.Stderr);
        Assert.Contains("000-named-ports-svc.yaml", r.Stderr);
    }

    /// <summary>
    /// "using NAMED pods": targetPort http/https resolve to migo-pod's containerPorts 8080/8443. The RC's pod declares no
    /// port named http or https, so the endpoints controller leaves it out (FindPort fails for it).
    /// </summary>
    [Fact]
    public void S000_named_target_ports_resolve_to_the_pods_named_container_ports()
    {
        string[] m = Cluster("000-migo-rc.yaml", "000-migo-pod-named.yaml", "000-named-ports-svc-with-name.yaml");
        ClusterView c = Get(m);
        string pod = c.Pod("migo-pod").Ip!;
        ServiceView svc = c.Service("migo-svc-named");
        Assert.Equal([$"{pod}:8080"], svc.ReadyAddresses("http"));
        Assert.Equal([$"{pod}:8443"], svc.ReadyAddresses("https"));
        string client = c.PodsOf("migo-rc-")[0].Ip!;
        Assert.Equal($"{pod}:8080", Curl(m, client, $"{svc.ClusterIP}:80").Backend);
        Assert.Equal($"{pod}:8443", Curl(m, client, $"{svc.ClusterIP}:443").Backend);
    }

    /// <summary>
    /// "Discovering Service through Environment variable": a pod created after the service has MIGO_SVC_SERVICE_HOST (the
    /// cluster IP) and MIGO_SVC_SERVICE_PORT=80 (dashes → underscores, uppercased), and the kubernetes service's variables.
    /// </summary>
    [Fact]
    public void S000_discovering_services_env_of_a_pod_created_after_the_service()
    {
        string[] m = Cluster("000-migo-svc.yaml", "000-migo-rc.yaml"); // the service first, then the pods
        ClusterView c = Get(m);
        string[] env = Env(m, c.PodsOf("migo-rc-")[0].Ref);
        Assert.Contains($"MIGO_SVC_SERVICE_HOST={c.Service("migo-svc").ClusterIP}", env);
        Assert.Contains("MIGO_SVC_SERVICE_PORT=80", env);
        Assert.Contains("KUBERNETES_SERVICE_HOST=10.96.0.1", env);
        Assert.Contains("KUBERNETES_SERVICE_PORT=443", env);
    }

    /// <summary>
    /// "Discovering Service through DNS": from a pod in default, the FQDN, svc.namespace and the bare name all resolve to
    /// the cluster IP (the pod's resolv.conf search path). The tutorial's "migo" is its migo-svc.
    /// </summary>
    [Fact]
    public void S000_discovering_services_dns_fqdn_namespace_and_short_name_from_a_pod()
    {
        ClusterView c = Get(Migo);
        string ip = c.Service("migo-svc").ClusterIP!;
        string pod = c.PodsOf("migo-rc-")[0].Ref;
        foreach (string name in new[] { "migo-svc.default.svc.cluster.local", "migo-svc.default", "migo-svc" })
        {
            DnsView d = LookupFrom(Migo, pod, name);
            Assert.Equal("NOERROR", d.Rcode);
            Assert.Equal([("migo-svc.default.svc.cluster.local.", "A", ip)], d.Answer);
        }
    }

    /// <summary>"Discovering Service through DNS": <c>curl http://migo-svc.default.svc.cluster.local</c>, <c>…/migo-svc.default</c>, <c>…/migo-svc</c> all work.</summary>
    [Fact]
    public void S000_discovering_services_curl_by_fqdn_namespace_and_short_name()
    {
        ClusterView c = Get(Migo);
        string ip = c.Service("migo-svc").ClusterIP!;
        string client = c.PodsOf("migo-rc-")[0].Ip!;
        foreach (string name in new[] { "migo-svc.default.svc.cluster.local", "migo-svc.default", "migo-svc" })
        {
            TraceView t = Curl(Migo, client, $"{name}:80");
            Assert.Equal($"{ip}:80", t.SentTo);
            Assert.Equal("forward", t.Verdict);
            Assert.EndsWith(":8080", t.Backend);
        }
    }

    /// <summary>
    /// "Discovering Service through DNS": <c>cat /etc/resolv.conf</c> in the pod explains the short names: the kubelet's
    /// ClusterFirst file, search default.svc.cluster.local svc.cluster.local cluster.local, nameserver the cluster DNS, ndots:5.
    /// </summary>
    [Fact]
    public void S000_discovering_services_cat_resolv_conf_in_the_pod()
    {
        PodView pod = Get(Migo).PodsOf("migo-rc-")[0];
        var r = Run(["dns", .. Migo, "--from", pod.Ref, "migo-svc"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("search default.svc.cluster.local svc.cluster.local cluster.local\n", r.Stdout);
        Assert.Contains("nameserver 10.96.0.10\n", r.Stdout);
        Assert.Contains("options ndots:5\n", r.Stdout);
    }

    /// <summary>"Discovering Service through DNS": "curl-ing the service works fine, ping-ing it doesn't" (a virtual IP).</summary>
    [Fact]
    public void S000_discovering_services_ping_the_cluster_ip_gets_no_answer()
    {
        ClusterView c = Get(Migo);
        TraceView t = Curl(Migo, c.PodsOf("migo-rc-")[0].Ip!, c.Service("migo-svc").ClusterIP!, "--proto", "icmp");
        Assert.Equal("pass", t.Verdict); // not translated: nothing behind a cluster IP answers an echo (iptables mode)
        Assert.Null(t.OutDst);
        Assert.Contains("virtual", t.Why);
    }

    /// <summary>"Service endpoints": <c>kubectl get endpoints migo-svc</c> lists the pods' IP:8080.</summary>
    [Fact]
    public void S000_service_endpoints_kubectl_get_endpoints_lists_the_pods_on_8080()
    {
        ClusterView c = Get(Migo);
        Assert.Equal(c.PodsOf("migo-rc-").Select(p => $"{p.Ip}:8080").Order(), c.Service("migo-svc").ReadyAddresses());
    }

    static readonly string[] HandWritten = ["11.11.11.11:80", "22.22.22.22:80"];

    /// <summary>
    /// "Service endpoints": a Service without selector and an Endpoints object of the same name: the service forwards to
    /// 11.11.11.11:80 or 22.22.22.22:80.
    /// </summary>
    [Fact]
    public void S000_service_endpoints_selectorless_service_uses_the_hand_written_endpoints()
    {
        string[] m = Cluster("000-migo-rc.yaml", "000-external-endpoint-svc.yaml", "000-external-endpoint-ep.yaml");
        ClusterView c = Get(m);
        ServiceView svc = c.Service("external-endpoint");
        Assert.Equal(HandWritten, svc.ReadyAddresses());
        TraceView t = Curl(m, c.PodsOf("migo-rc-")[0].Ip!, "external-endpoint:80");
        Assert.Equal("forward", t.Verdict);
        Assert.Contains(t.Backend, HandWritten);
    }

    /// <summary>
    /// "Creating an alias for an external service": external-service (ExternalName abc.company.com) has no cluster IP;
    /// external-service.default.svc.cluster.local, external-service.default and external-service are a CNAME to it.
    /// </summary>
    [Fact]
    public void S000_external_name_is_a_cname_for_every_name_form_and_has_no_cluster_ip()
    {
        string[] m = Cluster("000-external-service.yaml", "000-dnsutils-pod.yaml");
        ServiceView svc = Get(m).Service("external-service");
        Assert.Equal("ExternalName", svc.Type);
        Assert.Null(svc.ClusterIP);
        Assert.Equal("abc.company.com", svc.ExternalName);
        Assert.Contains(("external-service.default.svc.cluster.local.", "CNAME", "abc.company.com."), Lookup(m, "external-service.default.svc.cluster.local").Answer);
        foreach (string name in new[] { "external-service.default.svc.cluster.local", "external-service.default", "external-service" })
            Assert.Contains(("external-service.default.svc.cluster.local.", "CNAME", "abc.company.com."), LookupFrom(m, "default/dnsutils", name).Answer);
    }

    /// <summary>
    /// "Using a NodePort Service": <c>kubectl get svc</c> shows 80:32067/TCP; <c>curl NODE-IP:32067</c> from outside reaches a
    /// migo pod on 8080 through any node (source masqueraded to the node, externalTrafficPolicy Cluster), and the cluster IP
    /// port 80 works too.
    /// </summary>
    [Fact]
    public void S000_nodeport_curl_any_node_ip_32067_from_outside_reaches_a_pod()
    {
        string[] m = Cluster("000-migo-rc.yaml", "000-migo-nodeport.yaml");
        ClusterView c = Get(m);
        ServiceView svc = c.Service("migo-nodeport");
        Assert.Equal("NodePort", svc.Type);
        Assert.Equal(["80:32067/TCP"], svc.Ports);
        foreach (var (node, ip) in c.Nodes)
        {
            TraceView t = Curl(m, Outside, $"{ip}:32067", "--node", node);
            Assert.True(t.Verdict == "forward", $"{node}: {t}");
            Assert.Contains(t.Backend, svc.ReadyAddresses());
            Assert.True(t.Masquerade, $"{node}: {t}"); // SNAT to the node (its address towards the backend)
            Assert.DoesNotContain(Outside, t.OutSrc);
        }
        Assert.Equal("forward", Curl(m, c.PodsOf("migo-rc-")[0].Ip!, $"{svc.ClusterIP}:80").Verdict);
    }

    /// <summary>
    /// "Understanding the peculiarities of external connections": with <c>externalTrafficPolicy: Local</c> the node that has
    /// the pod forwards with the client's IP kept (no SNAT); a node without a local pod does not forward ("the connection
    /// will hang").
    /// </summary>
    [Fact]
    public void S000_external_traffic_policy_local_keeps_the_client_ip_and_hangs_where_no_local_pod()
    {
        string[] m = Cluster("000-migo-rc.yaml", "000-migo-nodeport-local.yaml");
        ClusterView c = Get(m);
        PodView pod = c.PodsOf("migo-rc-")[0];
        foreach (var (node, ip) in c.Nodes)
        {
            TraceView t = Curl(m, Outside, $"{ip}:32067", "--node", node);
            if (node == pod.Node)
            {
                Assert.True(t.Verdict == "forward", $"{node}: {t}");
                Assert.False(t.Masquerade);
                Assert.Equal($"{Outside}:40000", t.OutSrc);
                Assert.Equal($"{pod.Ip}:8080", t.OutDst);
            }
            else
            {
                Assert.True(t.Verdict == "drop", $"{node}: {t}");
                Assert.Equal("no-service-backend", t.Reason);
            }
        }
    }

    /// <summary>
    /// "Exposing a service through LoadBalancer": the listing says <c>kind: LoadBalancer</c> under <c>apiVersion: v1</c>;
    /// kubectl apply fails with the API server's <c>no matches for kind "LoadBalancer" in version "v1"</c>.
    /// </summary>
    [Fact]
    public void S000_loadbalancer_listing_kind_typo_is_the_api_servers_no_matches_error()
    {
        var r = Run(["cluster", .. Cluster("000-migo-rc.yaml", "000-migo-loadbalancer.yaml")]);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("no matches for kind \"LoadBalancer\" in version \"v1\"", r.Stderr);
        Assert.Contains("000-migo-loadbalancer.yaml", r.Stderr);
    }

    /// <summary>
    /// "Exposing a service through LoadBalancer" as the text means it (kind: Service, type: LoadBalancer): the service gets
    /// its own external address and a node port; a client outside connecting to it reaches a migo pod on 8080.
    /// </summary>
    [Fact]
    public void S000_loadbalancer_service_gets_an_external_ip_that_forwards_to_a_pod()
    {
        string[] m = Cluster("000-migo-rc.yaml", "000-migo-loadbalancer-as-service.yaml");
        ClusterView c = Get(m);
        ServiceView svc = c.Service("migo-loadbalancer");
        Assert.Equal("LoadBalancer", svc.Type);
        string lb = Assert.Single(svc.ExternalIPs);
        Assert.Matches(@"^80:3\d{4}/TCP$", Assert.Single(svc.Ports)); // an extension of a NodePort service
        TraceView t = Curl(m, Outside, $"{lb}:80");
        Assert.Equal("forward", t.Verdict);
        Assert.Contains(t.Backend, svc.ReadyAddresses());
    }

    /// <summary>"Creating an Ingress resource": the Ingress applies (DataPlane does not model it and says so); the services stay as they are.</summary>
    [Fact]
    public void S000_ingress_is_accepted_and_skipped_with_a_warning()
    {
        var r = Run(["cluster", .. Cluster("000-migo-rc.yaml", "000-migo-nodeport.yaml", "000-migo-ingress.yaml")]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Ingress", r.Stderr);
    }

    /// <summary>"Configuring Ingress to handle TLS traffic": the listing's <c>apiVErsion</c> leaves the object without apiVersion: kubectl refuses it.</summary>
    [Fact]
    public void S000_ingress_tls_listing_apiVErsion_typo_is_refused()
    {
        var r = Run(["cluster", .. Cluster("000-migo-ingress-tls.yaml")]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("apiVersion", r.Stderr);
        Assert.Contains("000-migo-ingress-tls.yaml", r.Stderr);
    }

    /// <summary>"Adding a readiness probe to the pod template": <c>metadata: migo-deployment</c> is a string where ObjectMeta goes: refused.</summary>
    [Fact]
    public void S000_readiness_probe_deployment_as_printed_is_refused_for_its_string_metadata()
    {
        var r = Run(["cluster", .. Cluster("000-migo-deployment-readiness.yaml")]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("metadata", r.Stderr);
        Assert.Contains("000-migo-deployment-readiness.yaml", r.Stderr);
    }

    /// <summary>
    /// "Readiness probes" / "Creating a headless service": a pod reporting 0/1 (its Ready condition False, set by a Pod
    /// object of the generated pod's name, as a <c>kubectl get pod -o yaml</c> of it would be) is removed from the service:
    /// <c>kubectl get po</c> shows it 0/1 beside the others' 1/1, the endpoints list only the ready pods, curl never
    /// reaches it and <c>nslookup migo-headless</c> returns only the ready pods.
    /// </summary>
    [Fact]
    public void S000_readiness_a_pod_not_ready_is_left_out_of_endpoints_curl_and_headless_dns()
    {
        string[] baseline = Cluster("000-migo-rc.yaml", "000-migo-pod-named.yaml", "000-migo-svc.yaml", "000-migo-headless.yaml", "000-dnsutils-pod.yaml");
        PodView rcPod = Get(baseline).PodsOf("migo-rc-")[0];
        string notReady = NotReadyPod(rcPod.Name, "migo-pod");
        string[] m = [.. baseline, "--cluster", notReady];

        ClusterView c = Get(m);
        Assert.True(c.Pods.Count(p => p.Name == rcPod.Name) == 1, $"the Pod object must set {rcPod.Name}'s status, not add a second pod of that name: "
            + string.Join(", ", c.Pods.Select(p => $"{p.Name} {p.Ip} ready={p.Ready}")));
        Assert.False(c.Pod(rcPod.Name).Ready);
        Assert.Equal(rcPod.Ip, c.Pod(rcPod.Name).Ip);
        Assert.True(c.Pod("migo-pod").Ready);
        Assert.Equal(2, c.Pods.Count(p => p.Name.StartsWith("migo", StringComparison.Ordinal))); // still the same two pods
        string ready = $"{c.Pod("migo-pod").Ip}:8080";
        Assert.Equal([ready], c.Service("migo-svc").ReadyAddresses());
        Assert.Equal([ready], c.Service("migo-headless").ReadyAddresses());

        string clusterIp = c.Service("migo-svc").ClusterIP!;
        Assert.All(Enumerable.Range(0, 8), i => Assert.Equal(ready, Curl(m, $"{c.Pod("dnsutils").Ip}:{42000 + i}", $"{clusterIp}:80").Backend));
        Assert.Equal([c.Pod("migo-pod").Ip!], LookupFrom(m, "default/dnsutils", "migo-headless").Addresses);
    }

    /// <summary>
    /// "Discovering pods through DNS": <c>kubectl run dnsutils …</c> then <c>kubectl exec dnsutils -- nslookup migo-headless</c>:
    /// Name migo-headless.default.svc.cluster.local, one Address per ready pod; the service has no cluster IP.
    /// </summary>
    [Fact]
    public void S000_headless_nslookup_from_dnsutils_returns_each_ready_pod()
    {
        string[] m = Cluster("000-migo-rc.yaml", "000-migo-pod-named.yaml", "000-migo-headless.yaml", "000-dnsutils-pod.yaml");
        ClusterView c = Get(m);
        ServiceView svc = c.Service("migo-headless");
        Assert.Equal("None", svc.ClusterIP);
        string[] pods = [.. c.Pods.Where(p => p.Name != "dnsutils").Select(p => p.Ip!).Order()];
        Assert.Equal(2, pods.Length);
        Assert.Equal(pods.Select(p => p + ":8080"), svc.ReadyAddresses());
        DnsView d = LookupFrom(m, "default/dnsutils", "migo-headless");
        Assert.Equal(pods, d.Addresses);
        Assert.All(d.Answer, a => Assert.Equal("migo-headless.default.svc.cluster.local.", a.Owner));
    }

    /// <summary>A Pod of the generated pod's name and labels whose Ready condition is False (what kubectl get -o yaml shows for a 0/1 pod).</summary>
    string NotReadyPod(string name, string app)
    {
        string file = _scratch.File($"not-ready-{name}.yaml");
        File.WriteAllText(file, $"""
            apiVersion: v1
            kind: Pod
            metadata:
              name: {name}
              labels:
                app: {app}
            status:
              phase: Running
              conditions:
                - type: Ready
                  status: "False"
                - type: ContainersReady
                  status: "False"
            """);
        return file;
    }
}
