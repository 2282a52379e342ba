using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Packets;

namespace DataPlane.Cli.Lab;

/// <summary>
/// <c>dataplane lab up|exec|check|down</c>: a throwaway emulated node with real network stacks. Every pod the node's
/// Services reach gets a network namespace holding its pod IP and a server on its ports; an <c>external</c> and a
/// <c>pod</c> client namespace stand outside and on the node; a <c>node</c> namespace wires them all by veth pairs to
/// one TAP device, on which <c>dataplane run</c> is the node's Service data plane: everything a member sends goes into
/// the TAP, and what the data plane writes back is routed to its member (see <see cref="LabHost.CreateNode"/>).
/// </summary>
public static class LabCommand
{
    static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(60);
    const string Python = "/usr/bin/python3";

    public static Command Build()
    {
        var lab = new Command("lab", "A live lab: the node's pods and clients in network namespaces, dataplane run between them on a TAP");
        lab.Subcommands.Add(BuildUp());
        lab.Subcommands.Add(BuildExec());
        lab.Subcommands.Add(LabCheck.Build());
        lab.Subcommands.Add(LabBench.Build());
        lab.Subcommands.Add(BuildDown());
        return lab;
    }

    /// <summary>--name, the lab's name: every namespace is lab-NAME-*, the state lives in /run/dataplane-lab/NAME.</summary>
    internal static string NameOf(string? name)
    {
        name ??= "dp";
        if (!LabPlan.IsValidName(name)) throw new UsageException($"--name: '{name}' must be 1-12 lowercase letters or digits (namespaces are named lab-{name}-*)");
        return name;
    }

    static Command BuildUp()
    {
        var clusterArgs = new ClusterArgs();
        var name = new Option<string>("--name") { Description = "The lab's name (default dp): namespaces lab-NAME-*, state in /run/dataplane-lab/NAME" };
        var datapath = new Option<string>("--datapath")
        {
            Description = "What does the node's Services: dataplane (run on a TAP), or the kernel with kube-proxy's iptables or nftables rule shapes (no cluster DNS), to compare",
            DefaultValueFactory = _ => "dataplane",
        };
        datapath.AcceptOnlyFromAmong("dataplane", "iptables", "nftables");
        var offload = new Option<string>("--offload")
        {
            Description = "dataplane run's --offload on the node's TAP (checksum offload and TSO): auto, on or off, to measure either way",
            DefaultValueFactory = _ => "auto",
        };
        offload.AcceptOnlyFromAmong("auto", "on", "off");
        var cmd = new Command("up", "Build the lab: namespaces for the node's pods, the remote pods its Services reach and three clients; dataplane run as the node") { name, datapath, offload };
        clusterArgs.AddTo(cmd);
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            string labName = NameOf(pr.GetValue(name));
            if ((pr.GetValue(clusterArgs.Cluster) ?? []).Contains("-"))
                throw new UsageException("--cluster -: the lab's data plane and lab check read the manifests again, so they must be files or folders");
            ResolvedCluster c = clusterArgs.Resolve(pr);
            string node = clusterArgs.NodeOf(pr, c);
            var plan = new LabPlan(labName, c, node);
            if (LabHost.Exists(labName))
                throw new UsageException($"lab '{labName}' exists already: `dataplane lab down {labName}` removes it");
            string? missing = Missing();
            if (missing is not null) throw new UsageException(missing);

            using var stop = new CancellationTokenSource();
            void Interrupt(PosixSignalContext ctx)
            {
                ctx.Cancel = true; // finish the current step, then take everything down
                stop.Cancel();
            }
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
            try
            {
                string dp = pr.GetValue(datapath)!;
                Up(plan, ClusterTokens(pr), dp == "dataplane" ? null : (new ServicePromises(c, node), dp), pr.GetValue(offload)!, stop.Token);
            }
            catch (Exception e) when (e is LabException or OperationCanceledException or IOException)
            {
                Console.Error.WriteLine($"dataplane: error: lab up: {(e is OperationCanceledException ? "interrupted" : e.Message)}; taking lab '{labName}' down");
                LabHost.Down(labName, Progress);
                return 1;
            }
            Report(plan, c);
            return 0;
        }));
        return cmd;
    }

    static string? Missing()
    {
        if (!OperatingSystem.IsLinux()) return "lab needs Linux (network namespaces, TAP devices)";
        if (!Environment.IsPrivilegedProcess) return "lab needs root (network namespaces and TAP devices)";
        if (!File.Exists("/dev/net/tun")) return "/dev/net/tun is missing: load the tun module (modprobe tun)";
        if (LabHost.Tool("ip", "-V").Exit != 0) return "iproute2 (ip) is not installed: apt-get install iproute2";
        if (!File.Exists(Python)) return $"{Python} is missing: the pods' servers need it (apt-get install python3)";
        return null;
    }

    static void Progress(string what) => Console.Error.WriteLine($"dataplane: lab: {what}");

    /// <summary>
    /// The cluster options <c>lab up</c> was given (every token but the commands, --name, --datapath and --offload), --cluster paths made
    /// absolute: <c>run</c> gets them, and <c>lab check</c> resolves the cluster from them, so the data plane and the
    /// promises it is held to read the same cluster under the same options.
    /// </summary>
    static string[] ClusterTokens(ParseResult pr)
    {
        var tokens = new List<string>();
        IReadOnlyList<System.CommandLine.Parsing.Token> all = pr.Tokens;
        for (int i = 0; i < all.Count; i++)
        {
            var t = all[i];
            if (t.Type == System.CommandLine.Parsing.TokenType.Command) continue;
            if (t.Type == System.CommandLine.Parsing.TokenType.Option && t.Value is "--name" or "--datapath" or "--offload") { i++; continue; }
            tokens.Add(t.Value);
            if (t.Type == System.CommandLine.Parsing.TokenType.Option && t.Value == "--cluster" && i + 1 < all.Count)
                tokens.Add(Path.GetFullPath(all[++i].Value));
        }
        return [.. tokens];
    }

    /// <param name="kernel">Promises to write the kernel's rules from (--datapath iptables), null for dataplane run.</param>
    static void Up(LabPlan plan, string[] clusterTokens, (ServicePromises Promises, string Rules)? kernel, string offload, CancellationToken stop)
    {
        string dir = LabHost.StateDir(plan.Lab);
        Directory.CreateDirectory(dir);
        // The plan first: a lab up killed at any later point is taken down by name, and exec finds members from here.
        string header = string.Join('\t', ["node", plan.Node, "args", .. clusterTokens]);
        File.WriteAllLines(LabHost.MembersFile(plan.Lab), [header, .. plan.Members.Select(m => m.ToLine())]);
        string server = Path.Combine(dir, "lab-server.py");
        using (Stream s = typeof(LabCommand).Assembly.GetManifestResourceStream("lab-server.py") ?? throw new LabException("lab-server.py is not embedded in this build"))
        using (FileStream f = File.Create(server))
            s.CopyTo(f);

        Progress($"'{plan.Lab}': node {plan.Node}, {plan.Members.Count + 1} network namespaces");
        File.WriteAllText(LabHost.DatapathFile(plan.Lab), kernel?.Rules ?? "dataplane");
        if (kernel is not { } k) LabHost.CreateNode(plan.NodeNetns);
        else
        {
            uint inCluster = plan.Members.First(m => m.Name == "pod").Ip, offCluster = plan.Members.First(m => m.Name == "external").Ip;
            bool nft = k.Rules == "nftables";
            string rules = nft ? KernelRules.Nftables(k.Promises, inCluster, offCluster, k.Promises.ClusterCidrs)
                : KernelRules.IptablesRestore(k.Promises, inCluster, offCluster, k.Promises.ClusterCidrs);
            LabHost.CreateKernelNode(plan.NodeNetns, k.Promises.NodeAddresses, rules, Path.Combine(dir, nft ? "nftables.rules" : "iptables.rules"), nft);
        }
        for (int i = 0; i < plan.Members.Count; i++)
        {
            stop.ThrowIfCancellationRequested();
            LabHost.CreateMember(plan.NodeNetns, plan.Members[i], i + 1);
        }
        var waits = new List<(string What, string Log, string Ready)>();
        foreach (LabMember m in plan.Members)
        {
            if (m.Ports.Count == 0) continue;
            stop.ThrowIfCancellationRequested();
            string log = Path.Combine(dir, $"{m.Netns}.log");
            LabHost.StartDaemon(m.Netns, log, [Python, server, m.Name, .. m.Ports.Select(p => p.ToLowerInvariant())]);
            waits.Add(($"server of {m.Name}", log, "ready"));
        }
        if (kernel is not null)
        {
            Progress($"{waits.Count} pod server{(waits.Count == 1 ? "" : "s")} started; the node's kernel does the Services ({kernel.Value.Rules} rules in {dir})");
            Wait(waits, stop);
            return;
        }
        Progress($"{waits.Count} pod server{(waits.Count == 1 ? "" : "s")} started; starting dataplane run on {LabHost.Tap} in {plan.NodeNetns}");

        string runLog = Path.Combine(dir, "run.log");
        string[] run = [.. Self(), "run", "--tap", LabHost.Tap, "--netns", plan.NodeNetns, "--node", plan.Node,
            "--control", LabHost.ControlSocket(plan.Lab), "--forward-passed", "--offload", offload, .. clusterTokens.Where((t, i) => t != "--node" && (i == 0 || clusterTokens[i - 1] != "--node"))];
        LabHost.StartDaemon(plan.NodeNetns, runLog, run);
        waits.Add(("dataplane run", runLog, "dataplane: running"));
        Wait(waits, stop);
    }

    static void Wait(List<(string What, string Log, string Ready)> waits, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        foreach (var (what, log, ready) in waits)
        {
            while (true)
            {
                stop.ThrowIfCancellationRequested();
                string text = File.Exists(log) ? File.ReadAllText(log) : "";
                if (text.Contains(ready, StringComparison.Ordinal)) break;
                if (text.Contains("Error", StringComparison.Ordinal) || text.Contains("error:", StringComparison.Ordinal) || clock.Elapsed > ReadyDeadline)
                    throw new LabException($"{what} did not start ({log}): {Tail(text)}");
                Thread.Sleep(50);
            }
        }
    }

    static string Tail(string text)
    {
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Length == 0 ? "no output" : string.Join(" | ", lines.TakeLast(3));
    }

    /// <summary>This program as a command line: the app host, or the dotnet host and this assembly.</summary>
    internal static string[] Self()
    {
        string host = Environment.ProcessPath ?? "dotnet";
        // Not Assembly.Location: empty in a single-file or NativeAOT build, where the app host is all there is.
        string dll = Path.Combine(AppContext.BaseDirectory, typeof(LabCommand).Assembly.GetName().Name + ".dll");
        return Path.GetFileNameWithoutExtension(host) == "dotnet" ? [host, dll] : [host];
    }

    static void Report(LabPlan plan, ResolvedCluster c)
    {
        Console.Out.WriteLine($"lab {plan.Lab} is up: node {plan.Node} ({Ip4.Format(new ServicePromises(c, plan.Node).NodeAddress)}), " +
            (LabHost.Datapath(plan.Lab) is "iptables" or "nftables" ? $"the kernel's {LabHost.Datapath(plan.Lab)} rules in netns {plan.NodeNetns}" : $"dataplane run on {LabHost.Tap} in netns {plan.NodeNetns}"));
        Console.Out.WriteLine($"{"MEMBER",-44} {"ADDRESS",-16} {"WHERE",-10} {"NETNS",-16} PORTS");
        foreach (LabMember m in plan.Members)
        {
            string where = m.Role switch { LabRole.Client => "client", LabRole.LocalPod => plan.Node, _ => "remote" };
            Console.Out.WriteLine($"{m.Name,-44} {Ip4.Format(m.Ip),-16} {where,-10} {m.Netns,-16} {(m.Ports.Count == 0 ? "-" : string.Join(',', m.Ports))}");
        }
        Console.Out.WriteLine($"try:  dataplane lab exec {plan.Lab} external -- curl -s http://ADDRESS:NODEPORT/clientip");
        Console.Out.WriteLine($"      dataplane lab check {plan.Lab}");
        Console.Out.WriteLine(LabHost.Datapath(plan.Lab) != "dataplane"
            ? $"      ip netns exec {plan.NodeNetns} conntrack -L"
            : $"      dataplane ct list --control {LabHost.ControlSocket(plan.Lab)}");
        Console.Out.WriteLine($"      dataplane lab down {plan.Lab}");
    }

    static Command BuildExec()
    {
        var labArg = new Argument<string>("lab") { Description = "The lab's name" };
        var target = new Argument<string>("member") { Description = "external, pod, or NAMESPACE/POD (a pod of the lab)" };
        var command = new Argument<string[]>("command") { Description = "The program and its arguments (after --)", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("exec", "Run a program in a lab member's network namespace: lab exec LAB external|pod|NS/POD -- CMD...") { labArg, target, command };
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            string labName = NameOf(pr.GetValue(labArg));
            string who = pr.GetValue(target)!;
            List<LabMember> members = LabHost.Members(labName);
            LabMember m = members.FirstOrDefault(x => x.Name == who)
                ?? throw new UsageException($"lab '{labName}' has no member '{who}' (members: {string.Join(", ", members.Select(x => x.Name))})");
            var psi = new ProcessStartInfo("ip") { UseShellExecute = false };
            foreach (string a in new[] { "netns", "exec", m.Netns }.Concat(pr.GetValue(command)!)) psi.ArgumentList.Add(a);
            using Process p = Process.Start(psi) ?? throw new LabException("could not start ip netns exec");
            p.WaitForExit();
            return p.ExitCode;
        }));
        return cmd;
    }

    static Command BuildDown()
    {
        var labArg = new Argument<string>("lab") { Description = "The lab's name", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("down", "Remove a lab: its processes, namespaces, links and state, also after an interrupted lab up") { labArg };
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            string labName = NameOf(pr.GetValue(labArg));
            var (namespaces, processes) = LabHost.Down(labName, Progress);
            Console.Out.WriteLine(namespaces == 0 && processes == 0
                ? $"lab {labName}: nothing to remove"
                : $"lab {labName} removed: {processes} process{(processes == 1 ? "" : "es")}, {namespaces} network namespace{(namespaces == 1 ? "" : "s")}");
            return 0;
        }));
        return cmd;
    }
}
