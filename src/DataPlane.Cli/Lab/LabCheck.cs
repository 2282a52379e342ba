using System.CommandLine;
using System.Text;
using System.Text.Json;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Packets;

namespace DataPlane.Cli.Lab;

/// <summary>
/// <c>dataplane lab check [LAB] [--json]</c>: the Service matrix with real connections through the running lab. For
/// every frontend of the node (<see cref="ServicePromises.Frontends"/>) and client (the <c>pod</c> client for cluster
/// IPs; it, the <c>remote</c> client pod on another node and the <c>external</c> client for node ports, load-balancer
/// and external IPs): curl (TCP) or a UDP datagram from the client's
/// namespace; what happened (served, refused, timed out), which pod answered and the source address it saw, against
/// what the resolved cluster promises (<see cref="ServicePromises.For"/>); and a DNS query to the cluster DNS address
/// for a service name, against the zone's A records. Exit 1 when any cell disagrees.
/// </summary>
public static class LabCheck
{
    /// <summary>Connections per cell with sessionAffinity ClientIP: all must reach one endpoint.</summary>
    const int AffinityConnections = 4;

    sealed record Cell(string Service, string Frontend, string Client, string Expected, string Result, string? Backend, string? Source, bool Agrees, string Note);

    public static Command Build()
    {
        var labArg = new Argument<string>("lab") { Description = "The lab's name (default dp)", Arity = ArgumentArity.ZeroOrOne };
        var json = new Option<bool>("--json") { Description = "One JSON object: every cell, and how many disagree" };
        var cmd = new Command("check", "Connect every client to every Service address of the lab's node and compare with what Kubernetes promises") { labArg, json };
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            string lab = LabCommand.NameOf(pr.GetValue(labArg));
            List<LabMember> members = LabHost.Members(lab);
            var (node, args) = LabHost.Header(lab);
            ResolvedCluster c = Resolve(lab, args);
            var promises = new ServicePromises(c, node);
            List<Cell> cells = Run(lab, members, c, promises);
            int bad = cells.Count(x => !x.Agrees);
            if (pr.GetValue(json)) WriteJson(lab, node, cells, bad);
            else WriteTable(cells, bad);
            return bad == 0 ? 0 : 1;
        }));
        return cmd;
    }

    /// <summary>lab up's own cluster options, parsed again: the cluster the running data plane resolved.</summary>
    internal static ResolvedCluster Resolve(string lab, string[] args)
    {
        var clusterArgs = new ClusterArgs();
        var up = new Command("up");
        clusterArgs.AddTo(up);
        ParseResult upArgs = up.Parse(args);
        if (upArgs.Errors.Count > 0) throw new LabException($"lab '{lab}': its state file's options do not parse: {upArgs.Errors[0].Message}");
        return clusterArgs.Resolve(upArgs);
    }

    static List<Cell> Run(string lab, List<LabMember> members, ResolvedCluster c, ServicePromises promises)
    {
        LabMember podClient = members.First(m => m.Name == "pod"), external = members.First(m => m.Name == "external");
        LabMember? remote = members.FirstOrDefault(m => m.Name == "remote");
        var byIp = members.Where(m => m.Role != LabRole.Client).ToDictionary(m => m.Ip, m => m.Name);
        var work = new List<(ServiceFrontend F, LabMember Client)>();
        foreach (ServiceFrontend f in promises.Frontends)
        {
            // The cluster DNS address's port 53 is the data plane's DNS answer, not a proxied service: the DNS cells ask it.
            if (f.Address == c.Dns.Address && f.Port == 53) continue;
            work.Add((f, podClient));
            if (f.Kind == FrontendKind.ClusterIP) continue;
            if (remote is not null) work.Add((f, remote));
            work.Add((f, external));
        }
        bool kernel = LabHost.Datapath(lab) != "dataplane";
        Console.Error.WriteLine($"dataplane: lab check: {work.Count} Service cells{(kernel ? "" : " and 2 DNS queries")} through lab {lab}");
        var cells = new Cell[work.Count];
        string probe = Path.Combine(LabHost.StateDir(lab), "lab-server.py");
        int done = 0;
        Parallel.For(0, work.Count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var (f, client) = work[i];
            cells[i] = Check(f, client, promises.For(f, client.Ip), byIp, probe);
            int n = Interlocked.Increment(ref done);
            if (n % 10 == 0) Console.Error.WriteLine($"dataplane: lab check: {n}/{work.Count}");
        });
        var list = cells.ToList();
        if (kernel)
            list.Add(new Cell("-", $"DNS {Ip4.Format(c.Dns.Address)}:53", podClient.Name, "-", "skipped", null, null, true,
                "the kernel lab has kube-proxy's rules only; cluster DNS is the data plane's (CoreDNS is not emulated there)"));
        else
        {
            list.Add(Dns(c, podClient, tcp: false));
            list.Add(Dns(c, podClient, tcp: true));
        }
        return list;
    }

    static Cell Check(ServiceFrontend f, LabMember client, ServicePromise promise, Dictionary<uint, string> byIp, string probe)
    {
        string service = $"{f.Service.Key}:{(f.ServicePort.Name.Length > 0 ? f.ServicePort.Name : f.ServicePort.Port.ToString())}";
        string frontend = $"{f.Kind} {Ip4.Format(f.Address)}:{f.Port}/{f.Protocol}";
        string[] expectedPods = [.. promise.Endpoints.Select(e => byIp.GetValueOrDefault(e.Address, Ip4.Format(e.Address))).Distinct()];
        if (promise.Endpoints.FirstOrDefault(e => !byIp.ContainsKey(e.Address)) is { Address: not 0 } absent)
            return new Cell(service, frontend, client.Name, "-", "skipped", null, null, true,
                $"endpoint {Ip4.Format(absent.Address)} is not in the lab (a node address: hostNetwork pods and the API server have no namespace of their own)");
        string expected = promise.Outcome switch
        {
            PromisedOutcome.Served => $"served by {(expectedPods.Length == 1 ? expectedPods[0] : $"one of {expectedPods.Length}")}, {(promise.ClientAddressKept ? "client address kept" : "masqueraded")}{(promise.OneEndpoint ? ", one endpoint" : "")}",
            PromisedOutcome.Refused => "refused",
            _ => "timed out",
        };
        int tries = promise.Outcome == PromisedOutcome.Served && promise.OneEndpoint ? AffinityConnections : 1;
        var pods = new List<string>();
        string result = "", source = "", note = "";
        for (int t = 0; t < tries; t++)
        {
            var (exit, output) = f.Protocol == PortProtocol.TCP
                ? LabHost.Tool("ip", "netns", "exec", client.Netns, "curl", "-s", "-m", "3", "--connect-timeout", "2", $"http://{Ip4.Format(f.Address)}:{f.Port}/")
                : LabHost.Tool("ip", "netns", "exec", client.Netns, "/usr/bin/python3", probe, "--probe-udp", Ip4.Format(f.Address), f.Port.ToString());
            string[] parts = output.Trim().Split(' ');
            string r = exit switch
            {
                0 when parts.Length == 2 => "served",
                7 => "refused",
                28 => "timed out",
                _ => $"error (exit {exit}: {output.Trim()})",
            };
            if (t > 0 && r != result) note = $"connection {t + 1}: {r}; ";
            result = r;
            if (r == "served")
            {
                pods.Add(parts[0]);
                source = parts[1];
            }
        }
        string? backend = pods.Count == 0 ? null : string.Join(",", pods.Distinct());
        bool agrees = promise.Outcome switch
        {
            PromisedOutcome.Served => result == "served" && note.Length == 0 && pods.All(expectedPods.Contains) &&
                                      (!promise.OneEndpoint || pods.Distinct().Count() == 1) &&
                                      (source.StartsWith(Ip4.Format(client.Ip) + ":", StringComparison.Ordinal) == promise.ClientAddressKept),
            PromisedOutcome.Refused => result == "refused",
            _ => result == "timed out",
        };
        return new Cell(service, frontend, client.Name, expected, result, backend, source.Length == 0 ? null : source, agrees, note + promise.Rule);
    }

    /// <summary>A query for the first service's name (a user's own before the emulated ones) to the cluster DNS address, from the pod client.</summary>
    static Cell Dns(ResolvedCluster c, LabMember podClient, bool tcp)
    {
        string domain = c.Options.Dns.ClusterDomain.TrimEnd('.');
        Service? svc = c.Services.Where(s => c.ClusterIp(s) is not null).OrderBy(s => s.Emulated ? 1 : 0).FirstOrDefault();
        string dns = Ip4.Format(c.Dns.Address);
        string proto = tcp ? "TCP" : "UDP";
        if (svc is null) return new Cell("-", $"DNS {dns}:53/{proto}", podClient.Name, "-", "no service to ask for", null, null, true, "");
        string name = $"{svc.Name}.{svc.Namespace ?? "default"}.svc.{domain}";
        string[] expected = [.. c.Dns.AddressesOf(name).Select(Ip4.Format).Order(StringComparer.Ordinal)];
        var (exit, output) = LabHost.Tool("ip", "netns", "exec", podClient.Netns, "dig", tcp ? "+tcp" : "+notcp", "+short", "+time=2", "+tries=1", $"@{dns}", name, "A");
        string[] got = [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith(';')).Order(StringComparer.Ordinal)];
        string result = exit == 0 && got.Length > 0 ? "answered " + string.Join(",", got) : exit == 127 ? "dig is not installed (apt-get install dnsutils)" : $"no answer (dig exit {exit})";
        return new Cell(svc.Key, $"DNS {dns}:53/{proto} A {name}", podClient.Name, "answered " + string.Join(",", expected), result, null, null,
            got.SequenceEqual(expected), "the cluster DNS zone's A records");
    }

    static void WriteTable(List<Cell> cells, int bad)
    {
        var w = Console.Out;
        int sw = Math.Max(7, cells.Max(x => x.Service.Length)), fw = Math.Max(8, cells.Max(x => x.Frontend.Length));
        w.WriteLine($"{"SERVICE".PadRight(sw)}  {"FRONTEND".PadRight(fw)}  {"CLIENT",-8}  {"RESULT",-10}  {"BACKEND",-36}  {"SOURCE SEEN",-21}  {"OK",-3}  EXPECTED");
        foreach (Cell x in cells)
            w.WriteLine($"{x.Service.PadRight(sw)}  {x.Frontend.PadRight(fw)}  {x.Client,-8}  {x.Result,-10}  {x.Backend ?? "-",-36}  {x.Source ?? "-",-21}  {(x.Agrees ? "ok" : "NO"),-3}  {x.Expected} ({x.Note})");
        w.WriteLine(bad == 0 ? $"{cells.Count} cells, all as Kubernetes promises" : $"{cells.Count} cells, {bad} disagree with what Kubernetes promises");
    }

    static void WriteJson(string lab, string node, List<Cell> cells, int bad)
    {
        using var ms = new MemoryStream();
        using (var j = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            j.WriteStartObject();
            j.WriteString("lab", lab);
            j.WriteString("node", node);
            j.WriteNumber("disagree", bad);
            j.WriteStartArray("cells");
            foreach (Cell x in cells)
            {
                j.WriteStartObject();
                j.WriteString("service", x.Service);
                j.WriteString("frontend", x.Frontend);
                j.WriteString("client", x.Client);
                j.WriteString("result", x.Result);
                j.WriteString("backend", x.Backend);
                j.WriteString("sourceSeen", x.Source);
                j.WriteString("expected", x.Expected);
                j.WriteBoolean("agrees", x.Agrees);
                j.WriteString("rule", x.Note);
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteEndObject();
        }
        Console.Out.WriteLine(Encoding.UTF8.GetString(ms.ToArray()));
    }
}
