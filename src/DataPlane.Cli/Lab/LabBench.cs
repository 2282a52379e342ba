using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Packets;

namespace DataPlane.Cli.Lab;

/// <summary>
/// <c>dataplane lab bench [LAB] [--seconds N]</c>: what the lab's node (DataPlane, or the kernel with
/// <c>--datapath iptables</c>) carries from the external client to a NodePort with one endpoint serving the same port
/// over TCP and UDP (pcaps/examples/bench.yaml): new TCP connections per second (one HTTP request each, to the pod's
/// lab server), then, with iperf3 in place of that server, bulk TCP throughput and UDP packets per second (64-byte
/// datagrams, unlimited rate, counted as received). Run it on a DataPlane lab and a kernel lab of the same manifests to
/// compare the two on the same machine.
/// </summary>
public static class LabBench
{
    public static Command Build()
    {
        var labArg = new Argument<string>("lab") { Description = "The lab's name (default dp)", Arity = ArgumentArity.ZeroOrOne };
        var seconds = new Option<int>("--seconds") { Description = "Length of each measurement", DefaultValueFactory = _ => 5 };
        var cmd = new Command("bench", "Measure TCP connections/s, bulk TCP and UDP packets/s from the external client through the lab's node (iperf3)") { labArg, seconds };
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            string lab = LabCommand.NameOf(pr.GetValue(labArg));
            int s = pr.GetValue(seconds);
            if (s is < 1 or > 600) throw new UsageException($"--seconds: {s} is not between 1 and 600");
            List<LabMember> members = LabHost.Members(lab);
            var (node, args) = LabHost.Header(lab);
            ResolvedCluster c = LabCheck.Resolve(lab, args);
            var promises = new ServicePromises(c, node);
            LabMember external = members.First(m => m.Name == "external");
            // A NodePort whose TCP and UDP ports share address and port, each with one endpoint for the external client.
            var candidates = promises.Frontends.Where(f => f.Kind == FrontendKind.NodePort).ToList();
            var pair = candidates.Where(t => t.Protocol == PortProtocol.TCP)
                .Select(t => (Tcp: t, Udp: candidates.FirstOrDefault(u => u.Protocol == PortProtocol.UDP && u.Address == t.Address && u.Port == t.Port)))
                .FirstOrDefault(p => p.Udp is not null && promises.For(p.Tcp, external.Ip) is { Outcome: PromisedOutcome.Served, Endpoints.Count: 1 } &&
                                     promises.For(p.Udp!, external.Ip) is { Outcome: PromisedOutcome.Served, Endpoints.Count: 1 });
            if (pair.Udp is null)
                throw new UsageException($"lab '{lab}' has no NodePort with one endpoint serving the same port over TCP and UDP (iperf3 needs both); bring one up with --cluster pcaps/examples/bench.yaml");
            var (ip, targetPort) = promises.For(pair.Tcp, external.Ip).Endpoints[0];
            LabMember backend = members.First(m => m.Ip == ip);
            string addr = Ip4.Format(pair.Tcp.Address), port = pair.Tcp.Port.ToString(CultureInfo.InvariantCulture);
            string datapath = LabHost.Datapath(lab);
            Console.Error.WriteLine($"dataplane: lab bench: {datapath}: external {Ip4.Format(external.Ip)} -> {addr}:{port} -> {backend.Name}, {s} s each");

            string server = Path.Combine(LabHost.StateDir(lab), "lab-server.py");
            var (ce, co) = LabHost.Tool(TimeSpan.FromSeconds(s + 20), "ip", "netns", "exec", external.Netns, "/usr/bin/python3", server, "--connections", addr, port, s.ToString(CultureInfo.InvariantCulture));
            string[] conn = co.Trim().Split(' ');
            if (ce != 0 || conn.Length != 3) throw new LabException($"TCP connection rate: {co.Trim()}");
            // Not one connection served: a measurement of nothing (the pod's server gone, the datapath refusing), not a rate.
            if (conn[0] == "0")
                throw new LabException($"TCP connection rate: no connection to {addr}:{port} succeeded ({conn[1]} failed): is {backend.Name}'s server running (`dataplane lab exec {lab} {backend.Name} -- ss -ltn`)?");
            double connPerSecond = double.Parse(conn[0], CultureInfo.InvariantCulture) / s;

            // iperf3 replaces the pod's lab server (same port); the server is restarted afterwards.
            LabHost.KillIn(backend.Netns);
            string log = Path.Combine(LabHost.StateDir(lab), $"{backend.Netns}-iperf3.log");
            File.Delete(log); // a last run's "Server listening" must not count: the daemon truncates it only once started
            LabHost.StartDaemon(backend.Netns, log, "iperf3", "-s", "-p", targetPort.ToString(CultureInfo.InvariantCulture), "--forceflush"); // its log is a file: unflushed, "Server listening" would never show
            try
            {
                LabHost.WaitForLine(log, "Server listening", "iperf3 -s");
                CpuTime before = CpuTime.Now();
                double bulk = Number(Iperf(external.Netns, addr, port, s, udp: false), "TCP", "sum_received", "bits_per_second");
                CpuTime middle = CpuTime.Now();
                JsonElement u = Iperf(external.Netns, addr, port, s, udp: true);
                CpuTime after = CpuTime.Now();
                double packets = Number(u, "UDP", "sum", "packets"), lost = Number(u, "UDP", "sum", "lost_packets"), took = Number(u, "UDP", "sum", "seconds");
                // Per busy core: what was carried divided by the CPU time the whole machine spent meanwhile (client,
                // node, server, kernel and user alike), so a datapath that needs a thread of its own pays for it.
                double bulkCores = middle.BusyCoresSince(before), udpCores = after.BusyCoresSince(middle);
                Console.Out.WriteLine($"datapath {datapath}: tcp-connections/s {connPerSecond:F0} (failed {conn[1]})  tcp-bulk {bulk / 1e9:F2} Gbit/s " +
                                      $"({bulk / 1e9 / bulkCores:F2} per busy core of {bulkCores:F2})  " +
                                      $"udp-64B received {(packets - lost) / took:F0} pkt/s of {packets / took:F0} sent ({100 * lost / Math.Max(1, packets):F1}% lost; " +
                                      $"{(packets - lost) / took / udpCores:F0} per busy core of {udpCores:F2})");
            }
            finally
            {
                LabHost.KillIn(backend.Netns);
                string serverLog = Path.Combine(LabHost.StateDir(lab), $"{backend.Netns}.log");
                File.Delete(serverLog);
                LabHost.StartDaemon(backend.Netns, serverLog, ["/usr/bin/python3", server, backend.Name, .. backend.Ports]);
                LabHost.WaitForLine(serverLog, "ready", $"the server of {backend.Name}");
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>end.SUM.FIELD of iperf3's JSON, or one line saying what iperf3 reported instead.</summary>
    static double Number(JsonElement root, string test, string sum, string field) =>
        root.TryGetProperty("end", out var end) && end.TryGetProperty(sum, out var s) && s.TryGetProperty(field, out var v) && v.TryGetDouble(out double d)
            ? d
            : throw new LabException($"iperf3 {test}: no end.{sum}.{field} in its report{(root.TryGetProperty("error", out var e) ? ": " + e.GetString() : "")}");

    static JsonElement Iperf(string netns, string addr, string port, int seconds, bool udp)
    {
        string[] args = ["netns", "exec", netns, "iperf3", "-c", addr, "-p", port, "-t", seconds.ToString(CultureInfo.InvariantCulture), "-J",
            .. udp ? new[] { "-u", "-b", "0", "-l", "64" } : []];
        var (exit, output) = LabHost.Tool(TimeSpan.FromSeconds(seconds + 20), "ip", args);
        using JsonDocument doc = JsonDocument.Parse(output.Length > 0 && output.TrimStart().StartsWith('{') ? output : "{}");
        JsonElement root = doc.RootElement.Clone();
        if (exit != 0 || !root.TryGetProperty("end", out _))
            throw new LabException($"iperf3 {(udp ? "UDP" : "TCP")}: exit {exit}: {(root.TryGetProperty("error", out var e) ? e.GetString() : output.Trim())}");
        return root;
    }

    /// <summary>
    /// The machine's CPU time from /proc/stat's first line (proc(5): user nice system idle iowait irq softirq steal, in
    /// USER_HZ ticks): busy is everything but idle and iowait; steal counts as busy on a VM's shared core.
    /// </summary>
    readonly record struct CpuTime(long Busy, long Total)
    {
        public static CpuTime Now()
        {
            string first = File.ReadLines("/proc/stat").First();
            long[] t = first.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(long.Parse).ToArray();
            long total = t.Sum();
            return new CpuTime(total - t[3] - t[4], total);
        }

        /// <summary>How many cores were busy on average since <paramref name="earlier"/> (busy share × online cores).</summary>
        public double BusyCoresSince(CpuTime earlier) =>
            Total == earlier.Total ? double.NaN : (double)(Busy - earlier.Busy) / (Total - earlier.Total) * Environment.ProcessorCount;
    }
}
