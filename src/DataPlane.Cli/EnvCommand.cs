using System.CommandLine;
using DataPlane.IO.Text;
using DataPlane.Kubernetes.Resolved;

namespace DataPlane.Cli;

/// <summary>
/// <c>dataplane env --cluster P [--from ns/pod | -n NS]</c>: the service variables the kubelet gives a pod, one
/// NAME=value per line — that pod's (the services that existed when it was created, none with enableServiceLinks
/// false), or a new pod's in NS. <c>-n</c> is kubectl's: the namespace of the manifests that name none, and so the
/// namespace a pod made from them runs in (<c>kubectl exec -n NS</c>).
/// </summary>
public static class EnvCommand
{
    public static Command Build()
    {
        var clusterArgs = new ClusterArgs();
        var from = new Option<string?>("--from") { Description = "ns/pod: what that pod's environment holds (like kubectl exec POD -- env)" };
        var cmd = new Command("env", "Print the service environment variables the kubelet gives a pod") { from };
        clusterArgs.AddTo(cmd);
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            ResolvedCluster c = clusterArgs.Resolve(pr);
            clusterArgs.NodeOf(pr, c); // --node, shared with the other commands, must name a node
            ServiceEnvText.Write(Console.Out, pr.GetValue(from) is { } who ? c.Environment(PodArg.Find(c, who, "--from")) : c.Environment(pr.GetValue(clusterArgs.Namespace) ?? "default"));
            return 0;
        }));
        return cmd;
    }
}
