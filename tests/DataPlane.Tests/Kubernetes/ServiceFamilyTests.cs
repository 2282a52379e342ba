using System.Text.Json;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Packets;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Kubernetes;

/// <summary>
/// The API server's IP-family rules for Services (issue 22 item 3): defaulting of ipFamilyPolicy, ipFamilies and
/// clusterIPs per the cluster's service ranges (kube-apiserver <c>initIPFamilyFields</c>, alloc.go), the stand-alone
/// validation (<c>ValidateServiceClusterIPsRelatedFields</c>, validation.go), IPv6 allocation, and what
/// <c>dataplane cluster</c> shows (<c>kubectl get svc -o yaml</c>'s clusterIPs, ipFamilies, ipFamilyPolicy).
/// </summary>
public class ServiceFamilyTests
{
    static readonly Cidr4 V4Range = new(0x0A000000, 16); // 10.0.0.0/16
    static readonly Cidr6 V6Range = Cidr6.TryParse("2000::/108", out Cidr6 c, out _) ? c : default;

    /// <summary>The cluster shapes of upstream's TestCreateInitIPFields ("singlestack:v4", "singlestack:v6", "dualstack:v4v6", "dualstack:v6v4").</summary>
    static ServiceCidrInference Cluster(string shape) => shape switch
    {
        "v4" => new([V4Range], "test"),
        "v6" => new([], "test") { Ranges6 = [V6Range], Primary = IPFamily.IPv6 },
        "v4v6" => new([V4Range], "test") { Ranges6 = [V6Range] },
        "v6v4" => new([V4Range], "test") { Ranges6 = [V6Range], Primary = IPFamily.IPv6 },
        _ => throw new ArgumentException(shape),
    };

    static string Yaml(string spec, string name = "foo") => $$"""
        apiVersion: v1
        kind: Service
        metadata: {name: {{name}}}
        spec: {{spec}}
        """;

    static Service LoadService(string spec)
    {
        using var dir = new ManifestDirectory();
        return Assert.Single(ManifestLoader.Load(dir.Write("svc.yaml", Yaml(spec))).Services);
    }

    static ManifestException LoadFails(string spec)
    {
        using var dir = new ManifestDirectory();
        return Assert.Throws<ManifestException>(() => ManifestLoader.Load(dir.Write("svc.yaml", Yaml(spec))));
    }

    const string Port = "ports: [{port: 80}], selector: {app: foo}";

    /// <summary>
    /// cluster shape, spec fields, then the stored policy and families ("" = the API server refuses the service).
    /// Each row is the case of upstream's TestCreateInitIPFields (pkg/registry/core/service/storage/storage_test.go)
    /// named in its comment.
    /// </summary>
    public static TheoryData<string, string, string, string> Defaulting => new()
    {
        // singlestack:v4 ClusterIPs:unset_Policy:unset_Families:unset — the cluster's primary family, SingleStack
        { "v4", "", "SingleStack", "IPv4" },
        // singlestack:v4 ClusterIPs:unset_Policy:unset_Families:v6 — a family the cluster lacks
        { "v4", "ipFamilies: [IPv6]", "", "" },
        // singlestack:v4 ClusterIPs:unset_Policy:unset_Families:v4v6 — two families need a dual-stack policy
        { "v4", "ipFamilies: [IPv4, IPv6]", "", "" },
        // singlestack:v4 ClusterIPs:unset_Policy:PreferDualStack_Families:unset — prefer stays single on a single-stack cluster
        { "v4", "ipFamilyPolicy: PreferDualStack", "PreferDualStack", "IPv4" },
        // singlestack:v4 ClusterIPs:unset_Policy:PreferDualStack_Families:v4v6 — but may not name the missing family
        { "v4", "ipFamilyPolicy: PreferDualStack, ipFamilies: [IPv4, IPv6]", "", "" },
        // singlestack:v4 ClusterIPs:unset_Policy:RequireDualStack_Families:unset — require on a single-stack cluster
        { "v4", "ipFamilyPolicy: RequireDualStack", "", "" },
        // singlestack:v4 ClusterIPs:v4_Policy:unset_Families:unset — the family inferred from the address
        { "v4", "clusterIP: 10.0.0.1", "SingleStack", "IPv4" },
        // singlestack:v4 ClusterIPs:v4v6_Policy:PreferDualStack_Families:unset — an IPv6 address the cluster cannot hold
        { "v4", "clusterIPs: [10.0.0.1, \"2000::1\"], clusterIP: 10.0.0.1, ipFamilyPolicy: PreferDualStack", "", "" },
        // singlestack:v4 ClusterIPs:v4v6_Policy:unset_Families:unset — two addresses need a dual-stack policy
        { "v4", "clusterIPs: [10.0.0.1, \"2000::1\"], clusterIP: 10.0.0.1", "", "" },
        // singlestack:v6 ClusterIPs:unset_Policy:unset_Families:unset — an IPv6 cluster defaults to IPv6
        { "v6", "", "SingleStack", "IPv6" },
        // singlestack:v6 ClusterIPs:unset_Policy:unset_Families:v4
        { "v6", "ipFamilies: [IPv4]", "", "" },
        // dualstack:v4v6 ClusterIPs:unset_Policy:unset_Families:unset — SingleStack of the primary family
        { "v4v6", "", "SingleStack", "IPv4" },
        // dualstack:v4v6 ClusterIPs:unset_Policy:unset_Families:v6 — SingleStack of the named family
        { "v4v6", "ipFamilies: [IPv6]", "SingleStack", "IPv6" },
        // dualstack:v4v6 ClusterIPs:unset_Policy:PreferDualStack_Families:unset — both, primary first
        { "v4v6", "ipFamilyPolicy: PreferDualStack", "PreferDualStack", "IPv4,IPv6" },
        // dualstack:v4v6 ClusterIPs:unset_Policy:PreferDualStack_Families:v6 — both, the named family first
        { "v4v6", "ipFamilyPolicy: PreferDualStack, ipFamilies: [IPv6]", "PreferDualStack", "IPv6,IPv4" },
        // dualstack:v4v6 ClusterIPs:unset_Policy:RequireDualStack_Families:v6v4 — Bookinfo's details service
        { "v4v6", "ipFamilyPolicy: RequireDualStack, ipFamilies: [IPv6, IPv4]", "RequireDualStack", "IPv6,IPv4" },
        // dualstack:v4v6 ClusterIPs:unset_Policy:SingleStack_Families:v4v6 — SingleStack with two families
        { "v4v6", "ipFamilyPolicy: SingleStack, ipFamilies: [IPv4, IPv6]", "", "" },
        // dualstack:v6v4 ClusterIPs:unset_Policy:RequireDualStack_Families:unset — the primary (IPv6) first
        { "v6v4", "ipFamilyPolicy: RequireDualStack", "RequireDualStack", "IPv6,IPv4" },
        // dualstack:v6v4 ClusterIPs:v4_Policy:unset_Families:unset — families follow the written address, not the primary
        { "v6v4", "clusterIP: 10.0.0.1", "SingleStack", "IPv4" },
        // dualstack:v4v6 ClusterIPs:v6v4_Policy:PreferDualStack_Families:unset — both inferred from the addresses, in their order
        { "v4v6", "clusterIP: \"2000::1\", clusterIPs: [\"2000::1\", 10.0.0.1], ipFamilyPolicy: PreferDualStack", "PreferDualStack", "IPv6,IPv4" },
        // dualstack:v4v6 ClusterIPs:v4_Policy:PreferDualStack_Families:unset — a written primary, the other family added
        { "v4v6", "clusterIP: 10.0.0.1, ipFamilyPolicy: PreferDualStack", "PreferDualStack", "IPv4,IPv6" },
    };

    [Theory]
    [MemberData(nameof(Defaulting))]
    public void Families_are_defaulted_and_checked_as_the_api_server_does_on_create(string cluster, string fields, string policy, string families)
    {
        Service svc = LoadService($"{{{(fields.Length > 0 ? fields + ", " : "")}{Port}}}");
        if (policy.Length == 0)
        {
            var e = Assert.Throws<ManifestException>(() => ServiceFamilyRules.Resolve(svc, Cluster(cluster)));
            Assert.Equal("kube-apiserver", e.RefusedBy);
            Assert.StartsWith($"{e.FilePath}: Service default/foo: spec.", e.Message);
            Assert.EndsWith("svc.yaml", e.FilePath);
            Assert.DoesNotContain('\n', e.Message);
            return;
        }
        ServiceFamilies f = ServiceFamilyRules.Resolve(svc, Cluster(cluster));
        Assert.Equal(policy, f.Policy.ToString());
        Assert.Equal(families, string.Join(",", f.Families));
    }

    /// <summary>
    /// Headless services (TestCreateInitIPFields "headless" cases, and initIPFamilyFields' special case): without a
    /// selector the policy defaults to RequireDualStack and both families are listed even on a single-stack cluster;
    /// with a selector a headless service follows the ordinary rules.
    /// </summary>
    [Theory]
    // singlestack:v4 Headless_Policy:unset_Families:unset (selectorless) — RequireDualStack, both families, no error
    [InlineData("v4", "clusterIP: None, ports: [{port: 80}]", "RequireDualStack", "IPv4,IPv6")]
    // singlestack:v4 Headless_Policy:SingleStack_Families:v6 (selectorless) — families the cluster lacks are allowed
    [InlineData("v4", "clusterIP: None, ipFamilyPolicy: SingleStack, ipFamilies: [IPv6]", "SingleStack", "IPv6")]
    // singlestack:v4 HeadlessSelectorless_Policy:unset_Families:v6v4 — two families on a single-stack cluster, accepted
    [InlineData("v4", "clusterIP: None, ipFamilies: [IPv6, IPv4]", "RequireDualStack", "IPv6,IPv4")]
    // singlestack:v4 Headless_Policy:unset_Families:unset with a selector — SingleStack IPv4
    [InlineData("v4", "clusterIP: None, selector: {app: foo}", "SingleStack", "IPv4")]
    // dualstack:v6v4 Headless_Policy:PreferDualStack with a selector — both, the primary first
    [InlineData("v6v4", "clusterIP: None, ipFamilyPolicy: PreferDualStack, selector: {app: foo}", "PreferDualStack", "IPv6,IPv4")]
    public void Headless_services_get_families_and_no_addresses(string cluster, string spec, string policy, string families)
    {
        Service svc = LoadService("{" + spec + "}");
        ServiceFamilies f = ServiceFamilyRules.Resolve(svc, Cluster(cluster));
        Assert.Equal(policy, f.Policy.ToString());
        Assert.Equal(families, string.Join(",", f.Families));
        Assert.Empty(f.ClusterIPs);
    }

    [Fact]
    public void Headless_with_a_selector_and_a_missing_family_is_refused()
    {
        // singlestack:v4 Headless_Policy:unset_Families:v6 with a selector: the special case is for selectorless only.
        Service svc = LoadService("{clusterIP: None, ipFamilies: [IPv6], selector: {app: foo}}");
        var e = Assert.Throws<ManifestException>(() => ServiceFamilyRules.Resolve(svc, Cluster("v4")));
        Assert.EndsWith("svc.yaml: Service default/foo: spec.ipFamilies[0]: Invalid value: \"IPv6\": not configured on this cluster; the emulated cluster's service CIDRs are 10.0.0.0/16, test: a ServiceCIDR object or --service-cidr with one range per family makes it dual-stack", e.Message);
    }

    [Fact]
    public void RequireDualStack_on_a_single_stack_cluster_is_the_api_servers_error_on_one_line()
    {
        Service svc = LoadService("{ipFamilyPolicy: RequireDualStack, " + Port + "}");
        var e = Assert.Throws<ManifestException>(() => ServiceFamilyRules.Resolve(svc, Cluster("v4")));
        Assert.Equal("spec.ipFamilyPolicy", e.FieldPath);
        Assert.Equal("Service default/foo", e.ObjectRef);
        Assert.StartsWith("Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services", e.Problem);
    }

    [Fact]
    public void A_written_address_of_a_missing_family_names_the_address_list()
    {
        // alloc.go: "%s is not configured on this cluster" on spec.clusterIPs[i], with the list as the value.
        Service svc = LoadService("{clusterIP: 10.0.0.1, clusterIPs: [10.0.0.1, \"2000::1\"], ipFamilyPolicy: PreferDualStack, " + Port + "}");
        var e = Assert.Throws<ManifestException>(() => ServiceFamilyRules.Resolve(svc, Cluster("v4")));
        Assert.Equal("spec.clusterIPs[1]", e.FieldPath);
        Assert.StartsWith("Invalid value: []string{\"10.0.0.1\", \"2000::1\"}: IPv6 is not configured on this cluster", e.Problem);
    }

    /// <summary>What ValidateServiceClusterIPsRelatedFields and ValidateService refuse without knowing the cluster: the loader's errors.</summary>
    [Theory]
    // TestValidateServiceCreate "invalid ipFamilies: not IPv4 or IPv6" (NotSupported)
    [InlineData("ipFamilies: [IPv5]", "spec.ipFamilies[0]", "Unsupported value: \"IPv5\": supported values: \"IPv4\", \"IPv6\"")]
    // "invalid, ipFamilies: duplicate"
    [InlineData("ipFamilyPolicy: RequireDualStack, ipFamilies: [IPv4, IPv4]", "spec.ipFamilies[1]", "Duplicate value: \"IPv4\"")]
    // "invalid, ipFamilyPolicy: bad value" (NotSupported, sorted)
    [InlineData("ipFamilyPolicy: DualStack", "spec.ipFamilyPolicy", "Unsupported value: \"DualStack\": supported values: \"PreferDualStack\", \"RequireDualStack\", \"SingleStack\"")]
    // "invalid, clusterIPs: family does not match ipFamilies" (4=>6)
    [InlineData("clusterIP: \"2000::1\", ipFamilies: [IPv4]", "spec.clusterIP", "Invalid value: \"2000::1\": expected an IPv4 value as indicated by `ipFamilies[0]`")]
    // 6=>4 on the secondary
    [InlineData("clusterIP: 10.0.0.1, clusterIPs: [10.0.0.1, 10.0.0.2], ipFamilyPolicy: RequireDualStack", "spec.clusterIPs",
        "Invalid value: [\"10.0.0.1\", \"10.0.0.2\"]: may specify no more than one IP for each IP family")]
    public void Stand_alone_validation_errors_name_the_field(string fields, string field, string problem)
    {
        var e = LoadFails("{" + fields + ", " + Port + "}");
        Assert.Equal(problem, e.Problem);
        Assert.Contains($"Service default/foo: {field}: ", e.Message);
    }

    [Theory]
    // ValidateService, ExternalName: "may not be set for ExternalName services"
    [InlineData("ipFamilies: [IPv4]", "spec.ipFamilies")]
    [InlineData("ipFamilyPolicy: SingleStack", "spec.ipFamilyPolicy")]
    public void ExternalName_services_have_no_families(string fields, string field)
    {
        var e = LoadFails("{type: ExternalName, externalName: example.com, " + fields + "}");
        Assert.Equal($"{field}", e.FieldPath);
        Assert.Equal("Forbidden: may not be set for ExternalName services", e.Problem);
    }

    [Fact]
    public void ExternalName_resolves_to_no_family_and_no_address()
    {
        Service svc = LoadService("{type: ExternalName, externalName: example.com}");
        Assert.Same(ServiceFamilies.None, ServiceFamilyRules.Resolve(svc, Cluster("v4v6")));
    }

    const string DualStackCidr = """
        apiVersion: networking.k8s.io/v1
        kind: ServiceCIDR
        metadata: {name: kubernetes}
        spec: {cidrs: [10.96.0.0/16, "fd00:10:96::/112"]}
        """;

    [Fact]
    public void Ipv6_addresses_are_reserved_and_allocated_from_the_ipv6_range_in_family_order()
    {
        using var dir = new ManifestDirectory();
        var m = ManifestLoader.Load([dir.Write("cidr.yaml", DualStackCidr), dir.Write("svc.yaml", string.Join("\n---\n",
            Yaml("{clusterIP: \"fd00:10:96::1\", ipFamilies: [IPv6], " + Port + "}", "written"),
            Yaml("{ipFamilyPolicy: PreferDualStack, " + Port + "}", "prefer"),
            Yaml("{ipFamilyPolicy: RequireDualStack, ipFamilies: [IPv6, IPv4], clusterIP: \"fd00:10:96::77\", clusterIPs: [\"fd00:10:96::77\"], " + Port + "}", "partial")))], null);
        Assert.True(m.ServiceCidrsInForce.IsDualStack);
        Assert.Equal(IPFamily.IPv4, m.ServiceCidrsInForce.Primary);
        var a = new Allocator(m);
        string Ips(string name) => string.Join(",", a.Families(m.Services.Single(s => s.Name == name)).ClusterIPs);
        Assert.Equal("fd00:10:96::1", Ips("written"));              // written IPv6 kept (the IPv6 range's first usable address)
        Assert.Equal("10.96.0.2,fd00:10:96::2", Ips("prefer"));     // the lowest free of each family, the primary first
        Assert.Equal("fd00:10:96::77,10.96.0.3", Ips("partial"));   // the written primary kept, the secondary allocated
        Assert.Null(a.ClusterIpOrNull(m.Services.Single(s => s.Name == "written"))); // no IPv4 half for the data plane
    }

    [Fact]
    public void The_same_ipv6_cluster_ip_twice_is_refused()
    {
        using var dir = new ManifestDirectory();
        var m = ManifestLoader.Load([dir.Write("cidr.yaml", DualStackCidr), dir.Write("svc.yaml",
            Yaml("{clusterIP: \"fd00:10:96::5\", " + Port + "}", "a") + "\n---\n" + Yaml("{clusterIP: \"fd00:10:96::5\", " + Port + "}", "b"))], null);
        var e = Assert.Throws<ManifestException>(() => new Allocator(m));
        Assert.Contains("Service default/b: spec.clusterIP: fd00:10:96::5 is already allocated to Service default/a", e.Message);
    }

    [Fact]
    public void Service_cidr_flag_takes_one_range_per_family_the_first_being_primary()
    {
        using var dir = new ManifestDirectory();
        var m = ManifestLoader.Load([dir.Write("svc.yaml", Yaml("{ipFamilyPolicy: PreferDualStack, " + Port + "}"))], new LoadOptions
        {
            ServiceCidrs = [V4Range],
            ServiceCidrs6 = [V6Range],
            ServiceCidrPrimary = IPFamily.IPv6,
        });
        Assert.Equal("2000::/108, 10.0.0.0/16 (from --service-cidr)", m.ServiceCidrsInForce.ToString());
        var c = ResolvedCluster.Resolve(m);
        ServiceFamilies f = c.Families(c.Service("default/foo")!);
        Assert.Equal([IPFamily.IPv6, IPFamily.IPv4], f.Families);
        // kube-dns and default/kubernetes keep the primary range's reserved addresses, so foo starts after them.
        Assert.Equal(["2000::2", "10.0.0.1"], f.ClusterIPs.Select(ip => ip.ToString()));
    }

    [Fact]
    public void A_servicecidr_with_two_ranges_of_one_family_is_refused()
    {
        using var dir = new ManifestDirectory();
        var e = Assert.Throws<ManifestException>(() => ManifestLoader.Load(dir.Write("cidr.yaml", """
            apiVersion: networking.k8s.io/v1
            kind: ServiceCIDR
            metadata: {name: extra}
            spec: {cidrs: ["fd00::/112", "fd01::/112"]}
            """)));
        Assert.Contains("ServiceCIDR extra: spec.cidrs: may specify no more than one IP for each IP family", e.Message);
    }

    static string DualStack(string file) => Path.Combine(Repo.Root, "tests", "manifests-realworld", "dual-stack", file);

    [Fact]
    public void Bookinfo_and_the_documentations_examples_on_a_dual_stack_cluster_list_as_kubectl_get_svc_o_yaml_would()
    {
        var r = CliTests.Run("cluster", "--cluster", DualStack(""), "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(["10.96.0.0/16", "fd00:10:96::/112"], doc.RootElement.GetProperty("serviceCIDRs").EnumerateArray().Select(e => e.GetString()));
        var services = doc.RootElement.GetProperty("services").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        string Row(string name)
        {
            JsonElement s = services[name];
            string List(string p) => string.Join(",", s.GetProperty(p).EnumerateArray().Select(e => e.GetString()));
            return $"{s.GetProperty("clusterIP").GetString()} [{List("clusterIPs")}] [{List("ipFamilies")}] {s.GetProperty("ipFamilyPolicy").GetString()}";
        }
        // Bookinfo details: RequireDualStack, [IPv6, IPv4] — the IPv6 address is the primary (spec.clusterIP).
        Assert.Equal("fd00:10:96::1 [fd00:10:96::1,10.96.0.2] [IPv6,IPv4] RequireDualStack", Row("details"));
        // The documentation's examples: no policy (SingleStack of the primary), ipFamilies [IPv6] (SingleStack IPv6),
        // PreferDualStack (both, primary first), PreferDualStack with [IPv6, IPv4].
        Assert.Equal("10.96.0.3 [10.96.0.3] [IPv4] SingleStack", Row("my-service"));
        Assert.Equal("fd00:10:96::2 [fd00:10:96::2] [IPv6] SingleStack", Row("my-service-ipv6"));
        Assert.Equal("10.96.0.4 [10.96.0.4,fd00:10:96::3] [IPv4,IPv6] PreferDualStack", Row("my-service-preferred"));
        Assert.Equal("fd00:10:96::4 [fd00:10:96::4,10.96.0.5] [IPv6,IPv4] PreferDualStack", Row("my-service-preferred-v6"));
        Assert.Equal("10.96.0.1 [10.96.0.1] [IPv4] SingleStack", Row("kubernetes"));
        // One notice per kind of thing the IPv4 data plane does not emulate yet, never a refusal.
        Assert.Contains(r.StderrLines, l => l.Contains("3 dual-stack services (default/details, default/my-service-preferred, default/my-service-preferred-v6): the IPv4 cluster IP gets rules"));
        Assert.Contains(r.StderrLines, l => l.Contains("1 IPv6-only service (default/my-service-ipv6): listed with the IPv6 cluster IP, no rules in the data plane yet"));

        var text = CliTests.Run("cluster", "--cluster", DualStack(""));
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("service CIDRs: 10.96.0.0/16, fd00:10:96::/112", text.Stdout);
        Assert.Contains("default       details                   RequireDualStack   IPv6,IPv4     fd00:10:96::1,10.96.0.2", text.Stdout);
        Assert.Contains("default       details                   ClusterIP   fd00:10:96::1   <none>        9080/TCP", text.Stdout);
    }

    [Fact]
    public void The_ipv4_data_plane_serves_the_ipv4_half_of_bookinfos_dual_stack_service()
    {
        var r = CliTests.Run("trace", "--cluster", DualStack(""), "--src", "10.244.1.2", "--dst", "10.96.0.2:9080", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("default/details:http", doc.RootElement.GetProperty("service").GetString());
    }

    [Theory]
    // Bookinfo's details on kube-apiserver's default (single-stack IPv4) cluster: RequireDualStack is refused.
    [InlineData("bookinfo-details-dualstack.yaml", "Service default/details: spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services")]
    // The documentation's IPv6 SingleStack example on the same cluster: the family is not configured.
    [InlineData("k8s-docs-examples.yaml", "Service default/my-service-ipv6: spec.ipFamilies[0]: Invalid value: \"IPv6\": not configured on this cluster")]
    public void On_a_single_stack_cluster_the_api_servers_refusal_names_file_object_and_field(string file, string message)
    {
        var r = CliTests.Run("cluster", "--cluster", DualStack(file));
        Assert.NotEqual(0, r.ExitCode);
        string line = Assert.Single(r.StderrLines, l => l.Contains("error:"));
        Assert.Contains($"dual-stack/{file}: {message}", line);
        Assert.Contains("kube-apiserver", line);
    }

    [Fact]
    public void PreferDualStack_on_a_single_stack_cluster_stays_single_and_is_listed()
    {
        using var dir = new ManifestDirectory();
        string path = dir.Write("svc.yaml", Yaml("{ipFamilyPolicy: PreferDualStack, " + Port + "}", "my-service"));
        var r = CliTests.Run("cluster", "--cluster", path, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        JsonElement svc = doc.RootElement.GetProperty("services").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "my-service");
        Assert.Equal("PreferDualStack", svc.GetProperty("ipFamilyPolicy").GetString());
        Assert.Equal(["IPv4"], svc.GetProperty("ipFamilies").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["10.96.0.2"], svc.GetProperty("clusterIPs").EnumerateArray().Select(e => e.GetString()));
        Assert.DoesNotContain(r.StderrLines, l => l.Contains("dual-stack"));
    }

    [Fact]
    public void Ipv6_slices_pod_ips_and_node_pod_cidrs_are_kept_and_listed_but_not_used_by_the_data_plane()
    {
        using var dir = new ManifestDirectory();
        string path = dir.Write("dump.yaml", DualStackCidr + """

            ---
            apiVersion: v1
            kind: Node
            metadata: {name: n1}
            spec: {podCIDR: 10.244.1.0/24, podCIDRs: [10.244.1.0/24, "fd00:10:244:1::/64"]}
            status: {addresses: [{type: InternalIP, address: 192.168.0.2}, {type: InternalIP, address: "fc00::2"}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web-1, labels: {app: web}}
            spec: {nodeName: n1, containers: [{name: c, image: i}]}
            status: {phase: Running, podIP: 10.244.1.5, podIPs: [{ip: 10.244.1.5}, {ip: "fd00:10:244:1::5"}], conditions: [{type: Ready, status: "True"}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec: {ipFamilyPolicy: PreferDualStack, clusterIP: 10.96.0.20, clusterIPs: [10.96.0.20, "fd00:10:96::20"], ports: [{name: http, port: 80}]}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-v4, labels: {kubernetes.io/service-name: web}}
            addressType: IPv4
            endpoints: [{addresses: [10.244.1.5], nodeName: n1, targetRef: {kind: Pod, name: web-1}}]
            ports: [{name: http, port: 80}]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-v6, labels: {kubernetes.io/service-name: web}}
            addressType: IPv6
            endpoints: [{addresses: ["fd00:10:244:1:0::5"], nodeName: n1, targetRef: {kind: Pod, name: web-1}}]
            ports: [{name: http, port: 80}]
            """);
        var r = CliTests.Run("cluster", "--cluster", path, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal(["10.244.1.0/24", "fd00:10:244:1::/64"], root.GetProperty("nodes")[0].GetProperty("podCIDRs").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["10.244.1.5", "fd00:10:244:1::5"], root.GetProperty("pods").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "web-1")
            .GetProperty("ips").EnumerateArray().Select(e => e.GetString()));
        JsonElement web = root.GetProperty("services").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "web");
        // Both slices' endpoints are listed (the IPv6 address canonical), each with its pod.
        Assert.Equal(["10.244.1.5:80 web-1", "fd00:10:244:1::5:80 web-1"], web.GetProperty("endpoints").EnumerateArray()
            .Select(e => $"{e.GetProperty("ip").GetString()}:{e.GetProperty("port").GetInt32()} {e.GetProperty("pod").GetString()}"));
        Assert.Contains(r.StderrLines, l => l.Contains("1 EndpointSlice of addressType IPv6 (default/web-v6): kept and listed, not used by the IPv4 data plane"));

        // The data plane keeps using the IPv4 half only: the IPv4 slice's backend.
        var t = CliTests.Run("trace", "--cluster", path, "--src", "192.168.0.2", "--dst", "10.96.0.20:80", "--json");
        Assert.True(t.ExitCode == 0, t.ToString());
        using var trace = JsonDocument.Parse(t.Stdout);
        Assert.Equal("10.244.1.5:80", trace.RootElement.GetProperty("backend").GetString());
    }

    [Theory]
    // RFC 5952 text, as Go's net.IP.String stores an allocated address
    [InlineData("2001:DB8:0:0::1", true, "2001:db8::1")]
    [InlineData("10.96.0.1", true, "10.96.0.1")]
    // IsValidIP refuses zones and IPv4 with leading zeros
    [InlineData("fe80::1%eth0", false, null)]
    [InlineData("010.96.0.1", false, null)]
    public void Service_addresses_parse_as_the_api_accepts_them_and_print_canonically(string text, bool ok, string? canonical)
    {
        Assert.Equal(ok, ServiceIP.TryParse(text, out ServiceIP ip));
        if (ok) Assert.Equal(canonical, ip.ToString());
    }

    [Fact]
    public void Ipv6_prefixes_keep_what_was_written_apart_from_the_canonical_prefix()
    {
        Assert.True(Cidr6.TryParse("fd00:10:96:0::5/112", out Cidr6 c, out UInt128 written));
        Assert.Equal("fd00:10:96::/112", c.ToString());
        Assert.NotEqual(c.Prefix, written); // the ServiceCIDR loader refuses host bits, as ValidateServiceCIDR does
        Assert.True(c.Contains(c.Prefix + 0xFFFF));
        Assert.False(c.Contains(c.Prefix + 0x10000));
        Assert.False(Cidr6.TryParse("fd00::/129", out _, out _));
        Assert.False(Cidr6.TryParse("10.0.0.0/8", out _, out _));
    }

    [Fact]
    public void A_dump_with_ipv6_cluster_ips_is_a_dual_stack_cluster_primary_as_default_kubernetes_is()
    {
        using var dir = new ManifestDirectory();
        var m = ManifestLoader.Load([dir.Write("svc.yaml",
            Yaml("{clusterIP: \"fd00:10:96::1\", clusterIPs: [\"fd00:10:96::1\", 10.96.0.1], ipFamilyPolicy: RequireDualStack, ports: [{name: https, port: 443}]}", "kubernetes")
            + "\n---\n" + Yaml("{" + Port + "}", "web"))], null);
        ServiceCidrInference cidrs = m.ServiceCidrsInForce;
        Assert.True(cidrs.IsDualStack);
        Assert.Equal(IPFamily.IPv6, cidrs.Primary);
        Assert.Equal(["fd00:10:96::/112", "10.96.0.0/12"], cidrs.RangeTexts);
        var c = ResolvedCluster.Resolve(m);
        // web takes the cluster's primary family: IPv6, allocated after default/kubernetes's address.
        Assert.Equal(["fd00:10:96::2"], c.Families(c.Service("default/web")!).ClusterIPs.Select(ip => ip.ToString()));
        Assert.Null(c.ClusterIp(c.Service("default/web")!));
    }

    [Fact]
    public void Service_cidr_flag_refuses_two_ranges_of_one_family()
    {
        var r = CliTests.Run("cluster", "--cluster", DualStack("k8s-docs-examples.yaml"), "--service-cidr", "10.96.0.0/16", "--service-cidr", "10.97.0.0/16");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--service-cidr: '10.97.0.0/16' is a second IPv4 range", r.Stderr);
        var ok = CliTests.Run("cluster", "--cluster", DualStack("k8s-docs-examples.yaml"), "--service-cidr", "10.96.0.0/16,fd00:10:96::/112", "--json");
        Assert.True(ok.ExitCode == 0, ok.ToString());
    }
}
