using System.CommandLine;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;

namespace DataPlane.Cli;

/// <summary><c>dataplane env --cluster P --namespace NS</c>: the service variables a pod in NS gets, one NAME=value per line.</summary>
public static class EnvCommand
{
    public static Command Build()
    {
        var cluster = new Option<string>("--cluster") { Description = "Manifest file or folder", Required = true };
        var ns = new Option<string>("--namespace", "-n") { Description = "The pod's namespace", DefaultValueFactory = _ => "default" };
        var cmd = new Command("env", "Print the service environment variables the kubelet gives a pod in a namespace") { cluster, ns };
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            foreach (var (k, v) in ServiceEnvironment.For(ManifestLoader.Load(pr.GetValue(cluster)!), pr.GetValue(ns)!))
                Console.Out.WriteLine($"{k}={v}");
            return 0;
        }));
        return cmd;
    }
}
