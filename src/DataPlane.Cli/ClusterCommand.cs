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
        cmd.Options.Remove(clusterArgs.Node); // the whole cluster, not one node's view
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            ClusterInventory inventory = clusterArgs.Resolve(pr).Inventory;
            if (pr.GetValue(json)) ClusterListing.WriteJson(Console.Out, inventory);
            else ClusterListing.WriteText(Console.Out, inventory);
            return 0;
        }));
        return cmd;
    }
}
