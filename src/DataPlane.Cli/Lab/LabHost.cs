using System.Diagnostics;
using DataPlane.Packets;

namespace DataPlane.Cli.Lab;

/// <summary>
/// The lab's hands on the host: iproute2 and sysctl commands, daemons started in a namespace, the state folder
/// (<c>/run/dataplane-lab/NAME/</c>), and the teardown that needs nothing but the lab's name: every namespace whose name
/// starts with "lab-NAME-" is emptied of its processes and deleted (its veths and TAP go with it), so a <c>lab up</c>
/// killed at any point leaves nothing <c>lab down</c> does not find.
/// </summary>
public static class LabHost
{
    public const string StateRoot = "/run/dataplane-lab";
    /// <summary>The TAP inside the node namespace, and the MAC it and its next hop have (frames come back to the kernel unchanged at layer 2).</summary>
    public const string Tap = "tap0";
    public const string TapMac = "02:4c:41:42:00:01";
    /// <summary>Link-local next hops: the node's TAP side for the node namespace, the node's veth for every member.</summary>
    const string TapHop = "169.254.0.1", PodGateway = "169.254.1.1";
    /// <summary>The routing table members' traffic takes into the TAP (any number the namespace does not use).</summary>
    const string ToDataPlane = "100";
    static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(20);

    public static string StateDir(string lab) => Path.Combine(StateRoot, lab);
    public static string MembersFile(string lab) => Path.Combine(StateDir(lab), "members");
    public static string ControlSocket(string lab) => Path.Combine(StateDir(lab), "control.sock");
    /// <summary>"dataplane", "iptables" or "nftables": what does the node's Services.</summary>
    public static string DatapathFile(string lab) => Path.Combine(StateDir(lab), "datapath");

    public static string Datapath(string lab) => File.Exists(DatapathFile(lab)) ? File.ReadAllText(DatapathFile(lab)).Trim() : "dataplane";
    static string EtcNetns(string netns) => Path.Combine("/etc/netns", netns);

    /// <summary>Runs a tool and returns its exit code and output; a tool that does not exist is exit 127.</summary>
    public static (int Exit, string Output) Tool(string file, params string[] args) => Tool(CommandTimeout, file, args);

    /// <summary>The same with a deadline of its own (measurements that run for a while).</summary>
    public static (int Exit, string Output) Tool(TimeSpan timeout, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (127, $"{file}: {e.Message}");
        }
        using (p)
        {
            p.StandardInput.Close();
            Task<string> o = p.StandardOutput.ReadToEndAsync(), er = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeout))
            {
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                return (124, $"{file} {string.Join(' ', args)}: timed out");
            }
            p.WaitForExit();
            return (p.ExitCode, o.Result + er.Result);
        }
    }

    /// <summary>Runs a tool that must succeed; its failure is one line naming the command.</summary>
    public static string Must(string file, params string[] args)
    {
        var (exit, output) = Tool(file, args);
        if (exit != 0) throw new LabException($"{file} {string.Join(' ', args)}: exit {exit}: {output.Trim().Replace('\n', ' ')}");
        return output;
    }

    static void Ip(string netns, params string[] args) => Must("ip", ["-n", netns, .. args]);

    static void Sysctl(string netns, params string[] settings) => Must("ip", ["netns", "exec", netns, "sysctl", "-qw", .. settings]);

    /// <summary>The lab's namespaces that exist now (by prefix, whatever the state folder says).</summary>
    public static List<string> Namespaces(string lab)
    {
        var (exit, output) = Tool("ip", "netns", "list");
        if (exit != 0) return [];
        string prefix = LabPlan.Prefix(lab);
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' ')[0]).Where(n => n.StartsWith(prefix, StringComparison.Ordinal))];
    }

    public static bool Exists(string lab) => Directory.Exists(StateDir(lab)) || Namespaces(lab).Count > 0;

    /// <summary>
    /// The node namespace: forwarding on, no reverse-path filter (frames come back from the TAP with the clients'
    /// sources), no redirects, no IPv6 noise; the TAP with a permanent neighbour for its next hop; and policy routing:
    /// what arrives from the TAP is routed by the main table (to the members' veths), everything else goes into the
    /// TAP, and a destination no member holds is unreachable rather than sent back into the TAP.
    /// </summary>
    public static void CreateNode(string netns)
    {
        CreateNodeNamespace(netns);
        Ip(netns, "tuntap", "add", "mode", "tap", "name", Tap);
        Ip(netns, "link", "set", Tap, "address", TapMac, "up");
        Ip(netns, "route", "add", "default", "via", TapHop, "dev", Tap, "onlink", "table", ToDataPlane);
        Ip(netns, "neigh", "add", TapHop, "lladdr", TapMac, "dev", Tap, "nud", "permanent");
        Ip(netns, "route", "add", "unreachable", "default");
        Ip(netns, "rule", "add", "iif", Tap, "lookup", "main", "pref", "100");
        Ip(netns, "rule", "add", "iif", Tap, "unreachable", "pref", "101");
        Ip(netns, "rule", "add", "lookup", ToDataPlane, "pref", "200");
    }

    /// <summary>
    /// The node namespace for the kernel's own Services (<see cref="KernelRules"/>): no data plane; the node's
    /// addresses (MASQUERADE needs one to take), a default route into a sink so packets to a frontend that no rule
    /// translates reach FORWARD (where kube-proxy's REJECT and DROP rules are) and then vanish, and the rules loaded with
    /// iptables-restore.
    /// </summary>
    public static void CreateKernelNode(string netns, IEnumerable<uint> nodeAddresses, string rules, string rulesFile, bool nftables)
    {
        CreateNodeNamespace(netns);
        // On lo (MASQUERADE falls back to any device's global address when the egress veth has none); the sink is a
        // TAP nobody attaches to, so what is routed into it is dropped (no dummy module needed).
        foreach (uint a in nodeAddresses) Ip(netns, "addr", "add", Ip4.Format(a) + "/32", "dev", "lo");
        Ip(netns, "tuntap", "add", "mode", "tap", "name", "sink0");
        Ip(netns, "link", "set", "sink0", "up");
        Ip(netns, "route", "add", "default", "dev", "sink0");
        File.WriteAllText(rulesFile, rules);
        if (nftables) Must("ip", "netns", "exec", netns, "nft", "-f", rulesFile);
        else Must("ip", "netns", "exec", netns, "iptables-restore", rulesFile); // not -w: its optional argument would take the file name
    }

    static void CreateNodeNamespace(string netns)
    {
        Must("ip", "netns", "add", netns);
        Ip(netns, "link", "set", "lo", "up");
        Sysctl(netns, "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
            "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0",
            "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
    }

    /// <summary>
    /// A member's namespace with its address on eth0 (a /32, next hop the node's veth through a permanent neighbour,
    /// as Calico wires pods), and the node's route to it. MACs are derived from the member's index so no ARP is needed.
    /// </summary>
    public static void CreateMember(string nodeNetns, LabMember m, int index)
    {
        Must("ip", "netns", "add", m.Netns);
        if (m.ResolvConf is { } rc)
        {
            // `ip netns exec` bind-mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf: nslookup in the member reads the pod's.
            Directory.CreateDirectory(EtcNetns(m.Netns));
            File.WriteAllText(Path.Combine(EtcNetns(m.Netns), "resolv.conf"), rc);
        }
        string nodeMac = $"02:4c:{index >> 8:x2}:{index & 0xff:x2}:00:01", podMac = $"02:4c:{index >> 8:x2}:{index & 0xff:x2}:00:02";
        Ip(nodeNetns, "link", "add", m.Link, "address", nodeMac, "type", "veth", "peer", "name", "eth0", "address", podMac, "netns", m.Netns);
        Ip(m.Netns, "link", "set", "lo", "up");
        Ip(m.Netns, "link", "set", "eth0", "up");
        Ip(m.Netns, "addr", "add", Ip4.Format(m.Ip) + "/32", "dev", "eth0");
        Ip(m.Netns, "route", "add", PodGateway, "dev", "eth0", "scope", "link");
        Ip(m.Netns, "route", "add", "default", "via", PodGateway, "dev", "eth0");
        Ip(m.Netns, "neigh", "add", PodGateway, "lladdr", nodeMac, "dev", "eth0", "nud", "permanent");
        Ip(nodeNetns, "link", "set", m.Link, "up");
        Ip(nodeNetns, "route", "add", Ip4.Format(m.Ip) + "/32", "dev", m.Link);
        Ip(nodeNetns, "neigh", "add", Ip4.Format(m.Ip), "lladdr", podMac, "dev", m.Link, "nud", "permanent");
    }

    /// <summary>
    /// Starts <paramref name="argv"/> in <paramref name="netns"/> as a daemon of its own session, output to
    /// <paramref name="log"/>: it outlives <c>lab up</c>, and <c>lab down</c> finds it by its namespace.
    /// </summary>
    public static void StartDaemon(string netns, string log, params string[] argv)
    {
        // setsid -f forks and returns at once; sh only redirects, then execs ip netns exec, which execs the program.
        Must("setsid", ["-f", "sh", "-c", $"exec \"$0\" \"$@\" >'{log}' 2>&1 </dev/null", "ip", "netns", "exec", netns, .. argv]);
    }

    /// <summary>
    /// Everything of lab <paramref name="lab"/>: the processes in its namespaces (SIGTERM, then SIGKILL after 2 s),
    /// the namespaces (their veths and TAP with them), their /etc/netns folders and the state folder. Returns the
    /// counts removed; idempotent.
    /// </summary>
    public static (int Namespaces, int Processes) Down(string lab, Action<string>? progress = null)
    {
        List<string> namespaces = Namespaces(lab);
        var pids = new HashSet<int>();
        foreach (string ns in namespaces)
        {
            var (exit, output) = Tool("ip", "netns", "pids", ns);
            if (exit == 0)
                foreach (string l in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                    if (int.TryParse(l.Trim(), out int pid) && pid != Environment.ProcessId) pids.Add(pid);
        }
        if (pids.Count > 0)
        {
            progress?.Invoke($"stopping {pids.Count} process{(pids.Count == 1 ? "" : "es")}");
            foreach (int pid in pids) Tool("kill", "-TERM", pid.ToString());
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(2) && pids.Any(Alive)) Thread.Sleep(50);
            foreach (int pid in pids.Where(Alive)) Tool("kill", "-KILL", pid.ToString());
            clock.Restart();
            while (clock.Elapsed < TimeSpan.FromSeconds(5) && pids.Any(Alive)) Thread.Sleep(50);
        }
        if (namespaces.Count > 0) progress?.Invoke($"deleting {namespaces.Count} network namespace{(namespaces.Count == 1 ? "" : "s")}");
        foreach (string ns in namespaces)
        {
            Tool("ip", "netns", "del", ns);
            if (Directory.Exists(EtcNetns(ns))) Directory.Delete(EtcNetns(ns), recursive: true);
        }
        // /etc/netns folders of members whose namespace an interrupted up never created.
        if (Directory.Exists("/etc/netns"))
            foreach (string d in Directory.GetDirectories("/etc/netns", LabPlan.Prefix(lab) + "*"))
                Directory.Delete(d, recursive: true);
        if (Directory.Exists(StateDir(lab))) Directory.Delete(StateDir(lab), recursive: true);
        return (namespaces.Count, pids.Count);
    }

    /// <summary>Stops every process in <paramref name="netns"/> (SIGKILL) and waits until they are gone.</summary>
    public static void KillIn(string netns)
    {
        var (exit, output) = Tool("ip", "netns", "pids", netns);
        if (exit != 0) return;
        var pids = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => int.TryParse(l.Trim(), out int p) ? p : 0).Where(p => p > 0).ToList();
        foreach (int pid in pids) Tool("kill", "-KILL", pid.ToString());
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(5) && pids.Any(Alive)) Thread.Sleep(20);
    }

    /// <summary>Waits (up to 20 s) for a daemon's log to show <paramref name="line"/>.</summary>
    public static void WaitForLine(string log, string line, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < CommandTimeout)
        {
            if (File.Exists(log) && File.ReadAllText(log).Contains(line, StringComparison.Ordinal)) return;
            Thread.Sleep(20);
        }
        throw new LabException($"{what} did not start ({log})");
    }

    static bool Alive(int pid) => Directory.Exists($"/proc/{pid}") && !IsZombie(pid);

    static bool IsZombie(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] == 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The members of a running lab, from its state file; a lab that is not up is one line.</summary>
    public static List<LabMember> Members(string lab)
    {
        string file = MembersFile(lab);
        if (!File.Exists(file))
            throw new LabException($"lab '{lab}' is not up (no {file}): start it with `dataplane lab up --cluster PATH --name {lab}`");
        return [.. File.ReadAllLines(file).Skip(1).Select(LabMember.FromLine).OfType<LabMember>()];
    }

    /// <summary>The state file's first line: "node\tNAME\targs\tTOKENS…" (lab up's cluster options).</summary>
    public static (string Node, string[] Args) Header(string lab)
    {
        string[] f = File.ReadLines(MembersFile(lab)).First().Split('\t');
        return (f.Length > 1 ? f[1] : "", f.Length > 3 ? f[3..] : []);
    }
}
