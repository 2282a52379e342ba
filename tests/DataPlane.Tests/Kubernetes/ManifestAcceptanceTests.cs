using System.Text;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Tests.Kubernetes;

/// <summary>
/// "Accept what a real cluster accepts": kinds DataPlane does not model, unknown fields, the cluster's own service
/// ranges, dual-stack services, the kube-proxy ConfigMap and ipvs mode load (with one warning each where something is
/// not emulated); --strict turns the skips into errors.
/// </summary>
public class ManifestAcceptanceTests
{
    static uint IP(string text) => Ip4.TryParse(text, out uint ip) ? ip : throw new ArgumentException(text);

    static ClusterManifests Load(string yaml, LoadOptions? options = null)
    {
        using var dir = new ManifestDirectory();
        return ManifestLoader.Load([dir.Write("m.yaml", yaml)], options);
    }

    static ManifestException Fails(string yaml, LoadOptions? options = null) => Assert.Throws<ManifestException>(() => Load(yaml, options));

    static string Svc(string name, string spec, string ns = "default") => $$"""
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: {{name}}, namespace: {{ns}}}
        spec: {{spec}}

        """;

    const string Others = """
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: a}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: b}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: d, namespace: team-a}
        ---
        apiVersion: serving.knative.dev/v1
        kind: Service
        metadata: {name: e}

        """;

    [Fact]
    public void Unmodelled_kinds_are_skipped_with_one_summary_line()
    {
        var m = Load(Others + Svc("web", "{ports: [{port: 80}]}"));
        Assert.Equal("default/web", Assert.Single(m.Services).Key);
        Assert.Equal(["skipped 5 objects of kinds DataPlane does not model: ConfigMap ×2, Ingress ×1, NetworkPolicy ×1, Service.serving.knative.dev ×1"], m.Warnings);
        Assert.Contains("team-a", m.Namespaces); // a namespace an object names exists
    }

    [Fact]
    public void Strict_makes_an_unmodelled_kind_an_error()
    {
        var e = Fails(Others, new LoadOptions { Strict = true });
        Assert.Equal("kind", e.FieldPath);
        Assert.Equal("Ingress (networking.k8s.io/v1) is not a kind DataPlane models (--strict)", e.Problem);
    }

    [Fact]
    public void Unknown_fields_are_ignored_with_one_warning_each_and_refused_under_strict()
    {
        string yaml = Svc("web", "{selector: {app: web}, ports: [{port: 80, targetPrt: 8080}], replica: 3}");
        var m = Load(yaml);
        Assert.Equal(80, m.Services[0].Ports[0].TargetPort.Number); // the typo'd field did not count
        Assert.Equal(2, m.Warnings.Count);
        Assert.EndsWith(": Service default/web: unknown field \"spec.ports[0].targetPrt\" (ignored, as kubectl apply --validate=warn does)", m.Warnings[0]);
        Assert.EndsWith(": Service default/web: unknown field \"spec.replica\" (ignored, as kubectl apply --validate=warn does)", m.Warnings[1]);

        var e = Fails(yaml, new LoadOptions { Strict = true });
        Assert.Equal("spec.ports[0].targetPrt", e.FieldPath);
        Assert.StartsWith("unknown field", e.Problem);
    }

    [Fact]
    public void Fields_the_api_knows_but_dataplane_does_not_read_are_not_reported()
    {
        var m = Load("""
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              uid: 1d2e3f4a-5b6c-4d7e-8f90-a1b2c3d4e5f6
              resourceVersion: "12"
              managedFields: [{manager: kubectl, operation: Apply}]
              ownerReferences: [{kind: X, name: y}]
            spec:
              ipFamilies: [IPv4]
              ipFamilyPolicy: SingleStack
              trafficDistribution: PreferClose
              ports: [{port: 80, appProtocol: http}]
            status: {loadBalancer: {}, conditions: []}
            """);
        Assert.Empty(m.Warnings);
    }

    [Fact]
    public void Namespace_objects_are_recorded_by_name_only()
    {
        var m = Load("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: web}}\n" + Svc("web", "{ports: [{port: 80}]}", ns: "billing"));
        Assert.Equal(["default", "kube-system", "kube-public", "kube-node-lease", "shop", "billing"], m.Namespaces);
        Assert.Empty(m.Warnings);
    }

    public static TheoryData<string, string, string> Inference => new()
    {
        { "k3s", Svc("kubernetes", "{clusterIP: 10.43.0.1, ports: [{port: 443}]}") + Svc("dns", "{clusterIP: 10.43.0.10, ports: [{port: 53}]}"),
            "10.43.0.0/16 (inferred: default/kubernetes is 10.43.0.1, the range's first address)" },
        { "GKE 34.118.224.0/20: the widest prefix the first address allows", Svc("kubernetes", "{clusterIP: 34.118.224.1, ports: [{port: 443}]}") + Svc("fe", "{clusterIP: 34.118.230.12, ports: [{port: 80}]}"),
            "34.118.224.0/19 (inferred: default/kubernetes is 34.118.224.1, the range's first address)" },
        { "AKS", Svc("kubernetes", "{clusterIP: 10.0.0.1, ports: [{port: 443}]}") + Svc("dns", "{clusterIP: 10.0.0.10, ports: [{port: 53}]}"),
            "10.0.0.0/16 (inferred: default/kubernetes is 10.0.0.1, the range's first address)" },
        { "kubeadm: inside the default range, the default is kept", Svc("kubernetes", "{clusterIP: 10.96.0.1, ports: [{port: 443}]}") + Svc("api", "{clusterIP: 10.100.3.4, ports: [{port: 80}]}"),
            "10.96.0.0/12 (kube-apiserver's default, which holds every written cluster IP)" },
        { "EKS with an IP beyond the kubernetes service's /16", Svc("kubernetes", "{clusterIP: 172.20.0.1, ports: [{port: 443}]}") + Svc("api", "{clusterIP: 172.21.3.4, ports: [{port: 80}]}"),
            "172.20.0.0/16, 172.21.0.0/16 (inferred: default/kubernetes is 172.20.0.1, the range's first address; covering the written cluster IPs outside it)" },
        { "no kubernetes service: smallest prefix, at least a /16", Svc("a", "{clusterIP: 10.43.5.5, ports: [{port: 80}]}") + Svc("b", "{clusterIP: 10.43.9.9, ports: [{port: 80}]}"),
            "10.43.0.0/16 (inferred: covering the written cluster IPs)" },
        { "no kubernetes service, IPs far apart", Svc("a", "{clusterIP: 10.0.0.5, ports: [{port: 80}]}") + Svc("b", "{clusterIP: 172.20.0.5, ports: [{port: 80}]}"),
            "10.0.0.0/16, 172.20.0.0/16 (inferred: covering the written cluster IPs)" },
        { "nothing written", Svc("a", "{ports: [{port: 80}]}"), "10.96.0.0/12 (kube-apiserver's default: no cluster IP is written)" },
        { "ServiceCIDR objects win, v1beta1 too", "apiVersion: networking.k8s.io/v1beta1\nkind: ServiceCIDR\nmetadata: {name: kubernetes}\nspec: {cidrs: [10.43.0.0/16]}\n" + Svc("a", "{clusterIP: 10.99.0.5, ports: [{port: 80}]}"),
            "10.43.0.0/16 (from ServiceCIDR kubernetes)" },
    };

    [Theory]
    [MemberData(nameof(Inference))]
    public void Service_cidr_is_taken_or_inferred_and_written_ips_are_kept(string why, string yaml, string expected)
    {
        var m = Load(yaml);
        Assert.True(expected == m.ServiceCidrsInForce.ToString(), $"{why}: {m.ServiceCidrsInForce}");
        // Every written cluster IP is kept as it is, in range or not.
        var alloc = new Allocator(m);
        foreach (var s in m.Services.Where(s => s.ClusterIP is not null))
            Assert.Equal(s.ClusterIP, alloc.ClusterIp(s));
    }

    [Fact]
    public void Service_cidr_flag_is_used_when_no_ServiceCIDR_exists_and_allocates_missing_ips()
    {
        var m = Load(Svc("kubernetes", "{clusterIP: 10.43.0.1, ports: [{port: 443}]}") + Svc("new", "{ports: [{port: 80}]}"),
            new LoadOptions { ServiceCidrs = [new Cidr4(IP("172.20.0.0"), 16)] });
        Assert.Equal("172.20.0.0/16 (from --service-cidr)", m.ServiceCidrsInForce.ToString());
        Assert.Equal(IP("172.20.0.2"), new Allocator(m).ClusterIp(m.Services[1])); // .1 is default/kubernetes's
    }

    [Fact]
    public void Missing_ips_are_allocated_from_the_inferred_range()
    {
        var m = Load(Svc("kubernetes", "{clusterIP: 10.43.0.1, ports: [{port: 443}]}") + Svc("new", "{ports: [{port: 80}]}"));
        Assert.Equal(IP("10.43.0.2"), new Allocator(m).ClusterIp(m.Services[1]));
    }

    [Fact]
    public void Dual_stack_keeps_both_halves_and_what_is_not_emulated_is_noticed_once_per_kind()
    {
        var m = Load(Svc("a", "{ipFamilyPolicy: RequireDualStack, clusterIPs: [10.96.0.5, \"fd00::5\"], ports: [{port: 80}]}")
            + Svc("b", "{clusterIPs: [\"fd00::6\"], ports: [{port: 80}]}")
            + Svc("c", "{clusterIP: 10.96.0.7, ports: [{port: 80}]}"));
        Assert.Equal([IP("10.96.0.5")], m.Services[0].ClusterIPs);
        Assert.Equal(["10.96.0.5", "fd00::5"], m.Services[0].WrittenClusterIPs.Select(ip => ip.ToString()));
        Assert.Equal(ClusterIPMode.OtherFamily, m.Services[1].ClusterIPMode);
        Assert.False(m.Services[2].HasIPv6);
        Assert.Empty(m.Warnings); // the loader no longer drops the IPv6 halves; the resolved cluster says what is not emulated
        var warnings = new List<string>();
        var c = DataPlane.Kubernetes.Resolved.ResolvedCluster.Resolve(m, new CompileOptions { Warn = warnings.Add });
        Assert.Equal([
            "1 dual-stack service (default/a): the IPv4 cluster IP gets rules; the IPv6 one is allocated and listed but gets no rules in the data plane yet",
            "1 IPv6-only service (default/b): listed with the IPv6 cluster IP, no rules in the data plane yet (IPv4 only)",
        ], warnings.Where(w => w.Contains("IPv6")));
        Assert.Equal(["fd00::6"], c.Families(m.Services[1]).ClusterIPs.Select(ip => ip.ToString()));
    }

    const string ProxyConfigMap = """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: kube-proxy, namespace: kube-system}
        data:
          kubeconfig.conf: "apiVersion: v1"
          config.conf: |-
            apiVersion: kubeproxy.config.k8s.io/v1alpha1
            kind: KubeProxyConfiguration
            mode: ipvs
            clusterCIDR: 10.244.0.0/16
            ipvs: {scheduler: rr, strictARP: true}
            iptables: {masqueradeAl: true}

        """;

    [Fact]
    public void Kube_proxy_configmap_is_read_like_a_KubeProxyConfiguration_and_ipvs_runs_as_iptables_once_said()
    {
        var m = Load(ProxyConfigMap);
        Assert.True(m.HasProxyConfig);
        Assert.Equal(ProxyMode.IPTables, m.ProxyConfig.Mode);
        Assert.Equal("ipvs", m.ProxyConfig.RequestedMode);
        Assert.Equal([new Cidr4(IP("10.244.0.0"), 16)], m.ProxyConfig.ClusterCIDRs);
        Assert.Equal(2, m.Warnings.Count);
        Assert.Contains(m.Warnings, w => w.Contains("ConfigMap kube-system/kube-proxy: unknown field \"data[config.conf].iptables.masqueradeAl\""));
        var ipvs = Assert.Single(m.Warnings, w => w.Contains("mode: ipvs"));
        Assert.Contains("kube-ipvs0", ipvs);
        Assert.DoesNotContain(m.Warnings, w => w.StartsWith("skipped")); // the ConfigMap was read, not skipped
    }

    [Fact]
    public void Kube_proxy_configmap_errors_name_the_embedded_field()
    {
        var e = Fails(ProxyConfigMap.Replace("mode: ipvs", "mode: userspace"));
        Assert.Equal("ConfigMap kube-system/kube-proxy", e.ObjectRef);
        Assert.Equal("data[config.conf].mode", e.FieldPath);
        Assert.Contains("\"userspace\" is not a valid proxy mode", e.Problem);
    }

    [Fact]
    public void Two_services_sharing_an_external_ip_and_port_load_and_the_first_wins_with_a_notice()
    {
        var m = Load("apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\nstatus: {addresses: [{type: InternalIP, address: 192.168.0.2}]}\n"
            + Svc("a", "{externalIPs: [203.0.113.10], ports: [{port: 80}]}")
            + Svc("b", "{externalIPs: [203.0.113.10], ports: [{port: 80}]}"));
        var warnings = new List<string>();
        MapSet maps = ClusterCompiler.Compile(m, "node-1", new CompileOptions { Warn = warnings.Add });
        var w = Assert.Single(warnings);
        Assert.Equal("203.0.113.10:80/TCP is claimed by default/a:80 and default/b:80: default/a:80 gets the traffic (the first matching KUBE-SERVICES rule wins)", w);
        Assert.True(maps.Services.TryGetValue(new Lb4Key(IP("203.0.113.10"), 80, 6), out Lb4Service svc));
        Assert.Equal("default/a:80", maps.ServiceNames[svc.RevNatIndex]);
    }

    [Fact]
    public void More_service_ports_than_the_16_bit_id_holds_is_one_clean_error()
    {
        // 65 535 TCP ports and one UDP port on one service: 65 536 service ports, one more than the ids hold.
        var sb = new StringBuilder("apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\nstatus: {addresses: [{type: InternalIP, address: 192.168.0.2}]}\n---\n");
        sb.Append("apiVersion: v1\nkind: Service\nmetadata: {name: big}\nspec:\n  clusterIP: 10.96.0.5\n  ports:\n");
        for (int p = 1; p <= 65535; p++) sb.Append("  - {name: t").Append(p).Append(", port: ").Append(p).Append("}\n");
        sb.Append("  - {name: u1, port: 1, protocol: UDP}\n");
        var m = Load(sb.ToString());
        var e = Assert.Throws<ManifestException>(() => ControlPlane.Compile(m, "node-1"));
        Assert.Equal("Service default/big", e.ObjectRef);
        // The cluster's own services hold 4 of the ids (default/kubernetes https; kube-system/kube-dns dns, dns-tcp, metrics).
        Assert.Equal("spec.ports[65531]", e.FieldPath);
        Assert.StartsWith("more than 65535 service ports in the cluster", e.Problem);
    }

    [Fact]
    public void The_control_plane_boundary_lets_out_only_ManifestException()
    {
        var e = Assert.Throws<ManifestException>(() => ControlPlane.Boundary<int>(() => throw new InvalidOperationException("duplicate something")));
        Assert.Contains("InvalidOperationException: duplicate something", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        var same = new ManifestDirectory();
        var original = Assert.Throws<ManifestException>(() => ControlPlane.Boundary(() => ManifestLoader.Load(Path.Combine(same.Root, "missing.yaml"))));
        Assert.Contains("missing.yaml", original.FilePath);
        same.Dispose();
    }

    [Fact]
    public void A_reload_with_inputs_that_used_to_kill_run_keeps_the_last_good_generation()
    {
        using var dir = new ManifestDirectory();
        const string node = "apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\nstatus: {addresses: [{type: InternalIP, address: 192.168.0.2}]}\n";
        string file = dir.Write("c.yaml", node + Svc("a", "{clusterIP: 10.96.0.5, ports: [{port: 80}]}"));
        var control = new ControlPlane([file], null, "node-1", new CompileOptions());
        long generation = control.Holder.Current.Generation;

        File.WriteAllText(file, node + "---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\nx: " + new string('[', 25_000) + new string(']', 25_000) + "\n");
        Assert.Throws<ManifestException>(() => control.Reload());
        Assert.Equal(generation, control.Holder.Current.Generation);

        // The shared external IP that threw InvalidOperationException from MapSetBuilder.Build now reloads.
        File.WriteAllText(file, node + Svc("a", "{externalIPs: [203.0.113.10], ports: [{port: 80}]}") + Svc("b", "{externalIPs: [203.0.113.10], ports: [{port: 80}]}"));
        Assert.True(control.Reload().Generation > generation);
    }

    [Fact]
    public void Remaining_errors_say_who_in_a_real_cluster_refuses_them_too()
    {
        Assert.Equal("kube-apiserver", Fails(Svc("web", "{ports: [{port: 0}]}")).RefusedBy);
        Assert.Equal("kube-proxy", Fails(ProxyConfigMap.Replace("mode: ipvs", "mode: userspace")).RefusedBy);
        Assert.Null(Fails("apiVersion: v1\nkind: [").RefusedBy); // the file's own syntax
        Assert.Null(Fails(Others, new LoadOptions { Strict = true }).RefusedBy); // our --strict, not the cluster's

        using var dir = new ManifestDirectory();
        var r = Cli.CliTests.Run("maps", "--cluster", dir.Write("bad.yaml", Svc("web", "{ports: [{port: 0}]}")), "--node", "n1");
        Assert.Equal(1, r.ExitCode);
        Assert.EndsWith("spec.ports[0].port: 0 is not a valid port (1-65535) (kube-apiserver refuses it too)", r.Stderr.TrimEnd());
    }

    [Fact]
    public void Service_cidr_flag_and_namespaces_survive_workload_expansion_into_the_compile()
    {
        // A Deployment makes the compile expand the manifests; the flag's range and the namespaces must come along (the
        // expanded copy once dropped them, so `--service-cidr` allocated from the inferred range instead).
        using var dir = new ManifestDirectory();
        string file = dir.Write("m.yaml", """
            apiVersion: v1
            kind: Namespace
            metadata: {name: quiet-team}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec: {containers: [{name: web, image: nginx}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec: {selector: {app: web}, ports: [{port: 80}]}
            """);
        var r = Cli.CliTests.Run("maps", "--cluster", file, "--service-cidr", "172.20.0.0/16");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("172.20.0.2:80", r.Stdout); // .1 is default/kubernetes's
        Assert.Contains("172.20.0.0/16 (from --service-cidr)", r.Stdout);

        var dns = Cli.CliTests.Run("dns", "--cluster", file, "quiet-team.svc.cluster.local");
        Assert.True(dns.ExitCode == 0, dns.ToString());
        Assert.Contains("status: NOERROR", dns.Stdout); // the namespace exists: NODATA, not NXDOMAIN
    }
}
