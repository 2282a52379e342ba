using CsCheck;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Kubernetes;

/// <summary>
/// <see cref="ClusterManifests.ApplyAll"/> folds many changes in one pass (the control plane's fallback to a full
/// compile after thousands of endpoint deltas); it must give exactly what applying them one by one gives: the same
/// objects, the same instances, in the same order, for every kind. The oracle is the one-by-one <see cref="ClusterManifests.Apply"/>.
/// </summary>
public class ApplyAllTests
{
    static string Service(int i, int port) =>
        $"apiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: default}}\nspec: {{clusterIP: 10.96.1.{i + 1}, selector: {{app: s{i}}}, ports: [{{port: {port}}}]}}\n";

    static string Slice(int i, int host) =>
        $"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: s{i}-1\n  namespace: default\n  labels: {{kubernetes.io/service-name: s{i}}}\n" +
        $"addressType: IPv4\nports: [{{port: 8080}}]\nendpoints:\n- addresses: [\"10.244.2.{host}\"]\n";

    static string Deployment(int i, int replicas) =>
        $"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d{i}, namespace: default}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: s{i}}}}}\n" +
        $"  template:\n    metadata: {{labels: {{app: s{i}}}}}\n    spec: {{containers: [{{name: c, image: x}}]}}\n";

    static ClusterManifests Load(TempDir dir, string name, IEnumerable<string> docs)
    {
        string path = Path.Combine(dir.Path, name + ".yaml");
        File.WriteAllText(path, string.Join("---\n", docs));
        return ManifestLoader.Load(path);
    }

    static void Same(ClusterManifests expected, ClusterManifests actual)
    {
        static void Kind<T>(IReadOnlyList<T> e, IReadOnlyList<T> a) where T : class
        {
            Assert.Equal(e.Count, a.Count);
            for (int i = 0; i < e.Count; i++) Assert.Same(e[i], a[i]);
        }
        Kind(expected.Services, actual.Services);
        Kind(expected.EndpointSlices, actual.EndpointSlices);
        Kind(expected.Endpoints, actual.Endpoints);
        Kind(expected.Pods, actual.Pods);
        Kind(expected.Nodes, actual.Nodes);
        Kind(expected.ServiceCidrs, actual.ServiceCidrs);
        Kind(expected.Workloads, actual.Workloads);
        Assert.Equal(expected.Files, actual.Files);
        Assert.Equal(expected.Namespaces.Count, actual.Namespaces.Count);
        Assert.Equal(expected.HasProxyConfig, actual.HasProxyConfig);
        Assert.Same(expected.ProxyConfig, actual.ProxyConfig);
        Assert.Equal(expected.ServiceCidrFlag, actual.ServiceCidrFlag);
        Assert.Equal(expected.ServiceCidrFlag6, actual.ServiceCidrFlag6);
        Assert.Equal(expected.ServiceCidrFlagPrimary, actual.ServiceCidrFlagPrimary);
    }

    [Fact]
    public void Folding_many_changes_at_once_equals_applying_them_one_by_one()
    {
        using var dir = new TempDir("applyall");
        ClusterManifests baseState = Load(dir, "base", Enumerable.Range(0, 6).SelectMany(i => new[] { Service(i, 80), Slice(i, 10 + i), Deployment(i, 1) }));
        // Each change: a few objects of the base replaced, or new ones (indices past the base), of three kinds.
        var change = Gen.Select(Gen.Int[0, 9], Gen.Int[0, 2], Gen.Int[1, 250]).Array[1, 4];
        int n = 0;
        change.Array[0, 8].Sample(changes =>
        {
            var overlays = changes.Select(c => Load(dir, $"o{n++}", c.Select(x => x.Item2 switch
            {
                0 => Service(x.Item1, 80 + x.Item3),
                1 => Slice(x.Item1, x.Item3),
                _ => Deployment(x.Item1, x.Item3 % 5),
            }).GroupBy(d => d.Split('\n')[2]).Select(g => g.Last()))).ToList(); // one object per name in a file, as kubectl requires
            ClusterManifests oneByOne = baseState;
            foreach (ClusterManifests o in overlays) oneByOne = oneByOne.Apply(o);
            Same(oneByOne, baseState.ApplyAll(overlays));
        }, iter: 80);
    }
}
