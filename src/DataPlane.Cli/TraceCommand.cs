using System.CommandLine;
using DataPlane.IO.Text;
using DataPlane.IO.Trace;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Explain;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Cli;

/// <summary>
/// <c>dataplane trace --cluster P [--node N] --src ip[:port]|ns/pod --dst ip:port|service:port|dns-name:port [--proto tcp|udp|sctp|icmp] [--json] [--batch file]</c>:
/// the first packet of a new connection through the real pipeline (<see cref="Tracer"/>), each stage's recorded decision
/// printed (<see cref="TraceResultText"/>), then why. Without --node the packet runs on the node where --src lives.
/// </summary>
public static class TraceCommand
{
    public static Command Build()
    {
        var clusterArgs = new ClusterArgs();
        var pipelineArgs = new PipelineArgs();
        var src = new Option<string?>("--src") { Description = $"Source ip[:port] or a pod as namespace/name[:port] (port default {TraceRequest.DefaultSourcePort})" };
        var dst = new Option<string?>("--dst") { Description = "Destination ip:port, a Service name:port (web, default/web, web.default.svc.cluster.local) or any cluster DNS name:port (zk-0.zk-hs.default.svc.cluster.local:2181)" };
        var proto = new Option<string>("--proto") { Description = "tcp, udp, sctp (an INIT) or icmp (an echo request, what ping sends)", DefaultValueFactory = _ => "tcp" };
        proto.AcceptOnlyFromAmong("tcp", "udp", "sctp", "icmp");
        var json = new Option<bool>("--json") { Description = "One JSON line instead of the stage-by-stage text" };
        var batch = new Option<string?>("--batch") { Description = "File of {\"src\",\"dst\",\"proto\"} lines; one JSON result per line" };

        var cmd = new Command("trace", "Trace the first packet of a new connection through one node's data plane, and explain its verdict") { src, dst, proto, json, batch };
        clusterArgs.AddTo(cmd);
        pipelineArgs.AddTo(cmd, workers: false);
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            ResolvedCluster c = clusterArgs.Resolve(pr);
            PipelineOptions options = pipelineArgs.Parse(pr);
            var nodes = new Dictionary<string, (MapSet Maps, TopologyReport Topology, Explainer Explainer)>(StringComparer.Ordinal);
            (MapSet, TopologyReport, Explainer) NodeView(string node)
            {
                if (!nodes.TryGetValue(node, out var v))
                {
                    var topology = new TopologyReport();
                    MapSet maps = ClusterArgs.Compile(c, node, topology);
                    nodes[node] = v = (maps, topology, new Explainer(c, node, maps));
                }
                return v;
            }
            // Names (services, DNS names) resolve the same on every node: any node's explainer reads the one cluster.
            Explainer names = NodeView(clusterArgs.NodeOf(pr, c)).Item3;

            TraceResult Run(string srcText, string dstText, string protoText, string where, out string? unresolved)
            {
                (string srcAddress, string? srcNode, string srcWho) = Source(c, srcText, where);
                if (!TraceRequest.TryParse(srcAddress, dstText, protoText, where, names, out TraceRequest r, out unresolved)) return null!;
                string? resolvedNote = unresolved;
                unresolved = null;
                string? chosen = null;
                string node = clusterArgs.HasNode(pr) ? clusterArgs.NodeOf(pr, c) : srcNode ?? c.NodeOfAddress(r.Src)?.Name ?? c.Nodes[0].Name;
                if (!clusterArgs.HasNode(pr))
                    chosen = srcNode is not null ? $"{node} (where {srcWho} runs)"
                        : c.NodeOfAddress(r.Src) is { } n ? $"{node} ({Ip4.Format(r.Src)} is {(n.Addresses.Any(a => a.IP == r.Src) ? "this node's address" : "a pod on it")})"
                        : $"{node} (--src {Ip4.Format(r.Src)} is outside the cluster: the first node receives it; --node picks another)";
                var (maps, topology, explainer) = NodeView(node);
                return Tracer.Trace(maps, r, options, topology, explainer) with { Node = chosen, Resolved = resolvedNote };
            }

            if (pr.GetValue(batch) is { } file)
            {
                int line = 0;
                foreach (string text in File.ReadLines(file))
                {
                    line++;
                    if (string.IsNullOrWhiteSpace(text)) continue;
                    var (s, d, p) = TraceRequest.ParseBatchFields(file, line, text);
                    TraceResult? t = Run(s, d, p, $"{file}:{line}", out string? why);
                    if (t is null) throw new TraceInputException($"{file}:{line}: {why}");
                    TraceResultText.Write(Console.Out, t, json: true);
                }
                return 0;
            }
            if (pr.GetValue(src) is not { } srcText || pr.GetValue(dst) is not { } dstText)
                throw new UsageException("trace needs --src and --dst (or --batch)");
            TraceResult? result = Run(srcText, dstText, pr.GetValue(proto)!, "--src/--dst", out string? unresolved);
            if (result is null)
            {
                // A name that is no proxied Service (headless, ExternalName, unknown): nothing to send, say why.
                TraceResultText.WriteUnresolved(Console.Out, unresolved, pr.GetValue(json));
                return 1;
            }
            TraceResultText.Write(Console.Out, result, pr.GetValue(json));
            return 0;
        }));
        return cmd;
    }

    /// <summary>
    /// --src as an address (returned as is) or a pod, <c>namespace/name[:port]</c>: the pod's IP with the port, and the
    /// node it runs on.
    /// </summary>
    static (string Address, string? Node, string Who) Source(ResolvedCluster c, string text, string where)
    {
        if (text.Length == 0 || char.IsDigit(text[0])) return (text, null, text);
        string who = text, port = "";
        int colon = text.LastIndexOf(':');
        if (colon > 0 && ushort.TryParse(text[(colon + 1)..], out _)) { who = text[..colon]; port = text[colon..]; }
        Pod pod = PodArg.Find(c, who, where);
        if (pod.PodIP is not uint ip)
            throw new TraceInputException($"{where}: pod {pod.Key} has no IP ({pod.Phase}: not scheduled, or its node has no pod CIDR)");
        return (Ip4.Format(ip) + port, pod.NodeName, $"pod {pod.Key}");
    }
}
