using System.CommandLine;
using DataPlane.IO.Text;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Maps;

namespace DataPlane.Cli;

/// <summary>
/// <c>dataplane maps --cluster P --node N</c>: the compiled maps of one node, listed by <see cref="MapsListing"/> in the
/// shape of <c>cilium-dbg bpf lb list</c>.
/// </summary>
public static class MapsCommand
{
    public static Command Build()
    {
        var clusterArgs = new ClusterArgs();
        var cmd = new Command("maps", "Show the compiled maps (frontends, backend slots, reverse NAT) for one node");
        clusterArgs.AddTo(cmd);
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            ResolvedCluster c = clusterArgs.Resolve(pr);
            var topology = new TopologyReport();
            MapSet maps = ClusterArgs.Compile(c, clusterArgs.NodeOf(pr, c), topology);
            MapsListing.Write(Console.Out, maps, c.Manifests, topology);
            return 0;
        }));
        return cmd;
    }
}
