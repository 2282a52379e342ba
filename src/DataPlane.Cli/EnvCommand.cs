using System.CommandLine;
using DataPlane.IO.Text;
using DataPlane.Kubernetes.Resolved;

namespace DataPlane.Cli;

/// <summary>
/// <c>dataplane env --cluster P [--from ns/pod | --namespace NS]</c>: the service variables the kubelet gives a pod, one
/// NAME=value per line — that pod's (the services that existed when it was created, none with enableServiceLinks
/// false), or a new pod's in NS.
/// </summary>
public static class EnvCommand
{
    public static Command Build()
    {
        var clusterArgs = new ClusterArgs();
        var ns = new Option<string>("--namespace", "-n") { Description = "The pod's namespace (a new pod there sees every service of it)", DefaultValueFactory = _ => "default" };
        var from = new Option<string?>("--from") { Description = "ns/pod: what that pod's environment holds (like kubectl exec POD -- env)" };
        var cmd = new Command("env", "Print the service environment variables the kubelet gives a pod") { ns, from };
        clusterArgs.AddTo(cmd);
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            ResolvedCluster c = clusterArgs.Resolve(pr);
            clusterArgs.NodeOf(pr, c); // --node, shared with the other commands, must name a node
            ServiceEnvText.Write(Console.Out, pr.GetValue(from) is { } who ? c.Environment(PodArg.Find(c, who, "--from")) : c.Environment(pr.GetValue(ns)!));
            return 0;
        }));
        return cmd;
    }
}
