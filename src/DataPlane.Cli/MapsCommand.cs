using System.CommandLine;
using DataPlane.IO.Text;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
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
            ClusterManifests m = clusterArgs.Load(pr);
            var topology = new TopologyReport();
            MapSet maps = clusterArgs.Compile(pr, m, topology);
            MapsListing.Write(Console.Out, maps, m, topology);
            return 0;
        }));
        return cmd;
    }
}
