using System.CommandLine;
using DataPlane.IO.Text;
using DataPlane.Kubernetes.Inventory;

namespace DataPlane.Cli;

/// <summary><c>dataplane cluster --cluster P [--json]</c>: what the cluster holds after the controllers ran.</summary>
public static class ClusterCommand
{
    public static Command Build()
    {
        var clusterArgs = new ClusterArgs();
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables" };
        var cmd = new Command("cluster", "Show the nodes, pods, services and endpoints the cluster holds once its workloads are expanded (kubectl get nodes,pods,svc,endpointslices -o wide)") { json };
        clusterArgs.AddTo(cmd);
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            var c = clusterArgs.Resolve(pr);
            clusterArgs.NodeOf(pr, c); // the whole cluster is listed; --node, shared with the other commands, must still name a node
            ClusterInventory inventory = c.Inventory;
            if (pr.GetValue(json)) ClusterListing.WriteJson(Console.Out, inventory);
            else ClusterListing.WriteText(Console.Out, inventory);
            return 0;
        }));
        return cmd;
    }
}
