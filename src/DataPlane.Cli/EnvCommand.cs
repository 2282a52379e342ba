using System.CommandLine;
using DataPlane.IO.Text;
using DataPlane.Kubernetes.Compiler;

namespace DataPlane.Cli;

/// <summary><c>dataplane env --cluster P --namespace NS</c>: the service variables a pod in NS gets, one NAME=value per line.</summary>
public static class EnvCommand
{
    public static Command Build()
    {
        var cluster = ClusterArgs.CreateClusterOption();
        var strict = ClusterArgs.CreateStrictOption();
        var serviceCidr = ClusterArgs.CreateServiceCidrOption();
        var ns = new Option<string>("--namespace", "-n") { Description = "The pod's namespace", DefaultValueFactory = _ => "default" };
        var cmd = new Command("env", "Print the service environment variables the kubelet gives a pod in a namespace") { cluster, strict, serviceCidr, ns };
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            ServiceEnvText.Write(Console.Out, ServiceEnvironment.For(ClusterArgs.LoadManifests(pr, cluster, strict, serviceCidr), pr.GetValue(ns)!));
            return 0;
        }));
        return cmd;
    }
}
