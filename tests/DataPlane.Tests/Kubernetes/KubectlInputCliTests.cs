using DataPlane.Tests.Cli;

namespace DataPlane.Tests.Kubernetes;

/// <summary>-n/--namespace and the API server's refusals as a user sees them: one stderr line, exit 1.</summary>
public sealed class KubectlInputCliTests : IDisposable
{
    readonly ManifestDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    const string ArgoServer = "apiVersion: v1\nkind: Service\nmetadata:\n  name: argocd-server\nspec:\n  clusterIP: 10.96.5.5\n  ports:\n  - {name: http, port: 80, targetPort: 8080}\n";

    [Fact]
    public void Namespace_flag_puts_objects_without_one_in_it()
    {
        string file = _dir.Write("install.yaml", ArgoServer);
        var r = CliTests.Run("maps", "--cluster", file, "-n", "argocd");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("10.96.5.5:80/TCP         argocd/argocd-server:http", r.Stdout);
        Assert.Contains("default/argocd-server:http", CliTests.Run("maps", "--cluster", file).Stdout);
    }

    [Fact]
    public void An_object_of_another_namespace_and_an_unknown_kind_are_one_line_errors()
    {
        string other = _dir.Write("other.yaml", ArgoServer.Replace("  name: argocd-server\n", "  name: argocd-server\n  namespace: prod\n", StringComparison.Ordinal));
        Assert.Equal($"dataplane: error: {other}: Service prod/argocd-server: metadata.namespace: the namespace from the provided object \"prod\" does not match the namespace \"argocd\". You must pass '--namespace=prod' to perform this operation. (kubectl refuses it too)",
            CliTests.AssertOneLineError(CliTests.Run("maps", "--cluster", other, "--namespace", "argocd")));

        string lb = _dir.Write("lb.yaml", "apiVersion: v1\nkind: LoadBalancer\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n");
        Assert.Equal($"dataplane: error: {lb}: LoadBalancer in document 1: apiVersion: no matches for kind \"LoadBalancer\" in version \"v1\" (kube-apiserver refuses it too)",
            CliTests.AssertOneLineError(CliTests.Run("trace", "--cluster", lb, "--src", "203.0.113.2", "--dst", "10.96.0.1:80")));
    }
}
