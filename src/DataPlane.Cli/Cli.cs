using System.CommandLine;

namespace DataPlane.Cli;

/// <summary>The command tree. Commands only parse arguments and wire the rooms together.</summary>
public static class Cli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("DataPlane: a packet-level emulator of the Kubernetes Services data plane (kube-proxy / Cilium).");
        root.Subcommands.Add(ReplayCommand.Build());
        root.Subcommands.Add(VerifyCommand.Build());
        root.Subcommands.Add(TraceCommand.Build());
        root.Subcommands.Add(MapsCommand.Build());
        root.Subcommands.Add(EnvCommand.Build());
        root.Subcommands.Add(ClusterCommand.Build());
        root.Subcommands.Add(DnsCommand.Build());
        root.Subcommands.Add(RunCommand.Build());
        root.Subcommands.Add(Lab.LabCommand.Build());
        root.Subcommands.Add(CtCommand.BuildCt());
        root.Subcommands.Add(CtCommand.BuildNat());
        root.Subcommands.Add(CtCommand.BuildCounters());
        return root;
    }
}
