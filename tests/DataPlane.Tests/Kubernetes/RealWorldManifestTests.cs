using System.Diagnostics;
using System.Text.Json;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Packets;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Kubernetes;

/// <summary>
/// The manifests users already have (tests/manifests-realworld): Helm output, kubectl dumps of kind, k3s and GKE
/// clusters, a kustomize folder, the tutorials' examples. Each loads; what it holds is checked object by object, and
/// the self-sufficient dumps forward a packet end to end.
/// </summary>
public class RealWorldManifestTests
{
    static string Dir(string name) => Path.Combine(Repo.Root, "tests", "manifests-realworld", name);

    static uint IP(string text) => Ip4.TryParse(text, out uint ip) ? ip : throw new ArgumentException(text);

    static string Cidrs(ClusterManifests m) => string.Join(", ", m.ServiceClusterIPRanges);

    [Fact]
    public void Helm_rendered_app_loads_its_service_and_skips_the_rest_with_one_summary()
    {
        var m = ManifestLoader.Load(Dir("helm-app"));
        var svc = Assert.Single(m.Services);
        Assert.Equal("default/myapp", svc.Key);
        Assert.Equal("http", svc.Ports[0].TargetPort.Name);
        Assert.Equal("myapp-test-connection", Assert.Single(m.Pods).Name);
        var skipped = Assert.Single(m.Warnings, w => w.StartsWith("skipped"));
        Assert.Equal("skipped 4 objects of kinds DataPlane does not model: ConfigMap ×1, Ingress ×1, Secret ×1, ServiceAccount ×1", skipped);
        Assert.Equal("myapp", Assert.Single(m.Workloads).Name); // the chart's Deployment is modelled: it becomes pods
        Assert.Single(m.Warnings); // no unknown-field noise from a well-formed chart
    }

    [Fact]
    public void Kind_dump_loads_services_slices_pods_nodes_and_the_kube_proxy_configmap()
    {
        var m = ManifestLoader.Load(Dir("kind-dump"));
        Assert.Equal(["default/kubernetes", "kube-system/kube-dns"], m.Services.Select(s => s.Key));
        Assert.Equal(IP("10.96.0.10"), m.Services[1].ClusterIP);
        Assert.Equal(["kind-control-plane", "kind-worker"], m.Nodes.Select(n => n.Name));
        Assert.Equal([IP("10.244.0.2"), IP("10.244.0.3")], m.Pods.Select(p => p.PodIP!.Value));
        Assert.Equal(2, m.EndpointSlices.Count);
        // config.conf of the kube-proxy ConfigMap is the KubeProxyConfiguration.
        Assert.True(m.HasProxyConfig);
        Assert.Equal([new Cidr4(IP("10.244.0.0"), 16)], m.ProxyConfig.ClusterCIDRs);
        Assert.Equal("iptables", m.ProxyConfig.RequestedMode);
        Assert.Equal("10.96.0.0/12", Cidrs(m)); // every IP of the dump lies in kube-apiserver's default range
        Assert.Equal(["skipped 1 object of kinds DataPlane does not model: ConfigMap ×1"], m.Warnings);
        Assert.Equal(3, m.Workloads.Count); // DaemonSet, Deployment, ReplicaSet: their pods are in the dump, so none is expanded again
        Assert.Contains("kube-system", m.Namespaces);
    }

    [Fact]
    public void Kind_dump_forwards_a_dns_query_end_to_end()
    {
        var r = CliTests.Run("trace", "--cluster", Dir("kind-dump"), "--node", "kind-worker",
            "--src", "10.244.1.5", "--dst", "10.96.0.10:53", "--proto", "udp", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal("forward", root.GetProperty("verdict").GetString());
        Assert.Equal("kube-system/kube-dns:dns", root.GetProperty("service").GetString());
        Assert.Equal(["10.244.0.2:53", "10.244.0.3:53"], root.GetProperty("candidates").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("10.244.1.5:40000", root.GetProperty("out").GetProperty("src").GetString()); // a pod: not masqueraded
        Assert.Contains("skipped 1 object", r.Stderr);
    }

    [Fact]
    public void K3s_dump_keeps_its_10_43_cluster_ips_and_serves_traefik_on_the_node_address()
    {
        var m = ManifestLoader.Load(Dir("k3s-dump"));
        Assert.Equal(IP("10.43.213.7"), m.Services.Single(s => s.Name == "traefik").ClusterIP);
        Assert.Equal("10.43.0.0/16", Cidrs(m));
        Assert.Equal(["skipped 2 objects of kinds DataPlane does not model: HelmChart ×2"], m.Warnings);

        var r = CliTests.Run("trace", "--cluster", Dir("k3s-dump"), "--node", "k3s-server", "--src", "203.0.113.9", "--dst", "192.168.64.5:80", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("forward", doc.RootElement.GetProperty("verdict").GetString());
        Assert.Equal("kube-system/traefik:web", doc.RootElement.GetProperty("service").GetString());
        Assert.Equal("10.42.0.8:8000", doc.RootElement.GetProperty("backend").GetString());
    }

    [Fact]
    public void Gke_dump_keeps_its_34_118_cluster_ips_and_reports_the_ipv6_half_once()
    {
        var m = ManifestLoader.Load(Dir("gke-dump"));
        Assert.Equal(IP("34.118.230.12"), m.Services.Single(s => s.Name == "frontend").ClusterIP);
        var api = m.Services.Single(s => s.Name == "api");
        Assert.Equal([IP("34.118.231.5")], api.ClusterIPs);
        Assert.True(api.HasIPv6);
        Assert.Equal("34.118.224.0/19", Cidrs(m));
        Assert.Equal("34.118.224.0/19, 2600:1900:4000:1a2b::/112", string.Join(", ", m.ServiceCidrsInForce.RangeTexts));
        Assert.Empty(m.Warnings);
        var warnings = new List<string>();
        var c = DataPlane.Kubernetes.Resolved.ResolvedCluster.Resolve(m, new DataPlane.Kubernetes.Compiler.CompileOptions { Warn = warnings.Add });
        Assert.Contains("1 dual-stack service (shop/api): the IPv4 cluster IP gets rules; the IPv6 one is allocated and listed but gets no rules in the data plane yet", warnings);
        var families = c.Families(c.Service("shop/api")!);
        Assert.Equal(["34.118.231.5", "2600:1900:4000:1a2b::a"], families.ClusterIPs.Select(ip => ip.ToString()));
        Assert.Equal([IPFamily.IPv4, IPFamily.IPv6], families.Families);
        Assert.Equal(IPFamilyPolicy.PreferDualStack, families.Policy);

        var r = CliTests.Run("trace", "--cluster", Dir("gke-dump"), "--node", "gke-shop-default-pool-1a2b3c4d-9xyz",
            "--src", "198.51.100.7", "--dst", "35.200.1.2:80", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("shop/frontend:http", doc.RootElement.GetProperty("service").GetString());
        Assert.Equal(["10.25.1.14:8080", "10.25.2.7:8080"], doc.RootElement.GetProperty("candidates").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void Kustomize_folder_loads_its_resources_and_says_the_kustomization_was_not_applied()
    {
        var m = ManifestLoader.Load(Dir("kustomize"));
        Assert.Equal("shop/cart", Assert.Single(m.Services).Key);
        Assert.Contains("shop", m.Namespaces);
        Assert.DoesNotContain(m.Files, f => f.EndsWith("kustomization.yaml"));
        Assert.Contains(m.Warnings, w => w.StartsWith("skipped ") && w.Contains("kustomization.yaml: kustomize's transformations are not applied"));
        Assert.DoesNotContain(m.Warnings, w => w.Contains("of kinds DataPlane does not model"));
        Assert.Single(m.Workloads); // the base's Deployment
    }

    [Fact]
    public void Seed_tutorials_load_as_a_reader_types_them()
    {
        var m = ManifestLoader.Load(Dir("seeds"));
        Assert.Equal(["default/migo-svc", "default/external-endpoint", "default/external-service", "default/migo-nodeport",
                      "default/ms-bye-svc", "default/ms-hello-svc", "default/terra10-headless"], m.Services.Select(s => s.Key));
        Assert.Equal(32067, m.Services.Single(s => s.Name == "migo-nodeport").Ports[0].NodePort);
        Assert.Equal(ServiceType.ExternalName, m.Services.Single(s => s.Name == "external-service").Type);
        Assert.Equal(ClusterIPMode.Headless, m.Services.Single(s => s.Name == "terra10-headless").ClusterIPMode);
        Assert.Equal("default/external-endpoint", Assert.Single(m.Endpoints).Key);
        Assert.Equal(3, m.Workloads.Count); // two Deployments and a ReplicationController, expanded into pods
    }

    [Fact]
    public void Several_cluster_paths_and_stdin_load_together_in_order()
    {
        var stdin = File.ReadAllBytes(Path.Combine(Dir("gke-dump"), "nodes.yaml"));
        var m = ManifestLoader.Load([Dir("seeds"), Path.Combine(Dir("kind-dump"), "all.yaml"), "-"], new LoadOptions { Stdin = stdin });
        Assert.Equal(LoadOptions.StdinName, m.Files[^1]);
        Assert.Equal(4, m.Nodes.Count);
        Assert.Contains(m.Services, s => s.Key == "kube-system/kube-dns");
        Assert.Contains(m.Services, s => s.Key == "default/migo-svc");
        // One summary line for everything skipped across all paths (the kind dump's ConfigMap).
        Assert.Single(m.Warnings, w => w.StartsWith("skipped") && w.Contains("of kinds"));
    }

    [Fact]
    public void Cli_reads_stdin_and_repeated_cluster_options()
    {
        using var dir = new ManifestDirectory();
        string stdinFile = dir.Write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: extra}\nspec: {clusterIP: 10.96.0.99, ports: [{port: 8080}]}\n");
        var r = RunWithStdin(File.ReadAllText(stdinFile), "maps", "--cluster", Dir("kind-dump"), "--cluster", "-", "--node", "kind-worker");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("default/extra:8080", r.Stdout);
        Assert.Contains("kube-system/kube-dns:dns", r.Stdout);
        Assert.Contains("SERVICE CIDRS  10.96.0.0/12 (kube-apiserver's default, which holds every written cluster IP)", r.Stdout);
    }

    /// <summary>The CLI with <paramref name="stdin"/> piped in (as `kubectl get ... -o yaml | dataplane ... --cluster -`).</summary>
    static CliTests.Result RunWithStdin(string stdin, params string[] args)
    {
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var tfmDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        string dll = Repo.Path_("src", "DataPlane.Cli", "bin", tfmDir.Parent?.Name ?? "Debug", tfmDir.Name, "dataplane.dll");
        var psi = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            UseShellExecute = false, WorkingDirectory = Repo.Root,
        };
        psi.ArgumentList.Add(dll);
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)), "dataplane did not exit");
        p.WaitForExit();
        return new CliTests.Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
