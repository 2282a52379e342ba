using System.CommandLine;
using DataPlane.IO.Text;
using DataPlane.IO.Trace;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Explain;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;

namespace DataPlane.Cli;

/// <summary>
/// <c>dataplane trace --cluster P --node N --src ip[:port] --dst ip:port|service:port [--proto tcp|udp|sctp|icmp] [--json] [--batch file]</c>:
/// the first packet of a new connection through the real pipeline (<see cref="Tracer"/>), each stage's recorded decision
/// printed (<see cref="TraceResultText"/>), then why.
/// </summary>
public static class TraceCommand
{
    public static Command Build()
    {
        var clusterArgs = new ClusterArgs();
        var src = new Option<string?>("--src") { Description = $"Source ip[:port] (port default {TraceRequest.DefaultSourcePort})" };
        var dst = new Option<string?>("--dst") { Description = "Destination ip:port, or a Service name:port (web, default/web, web.default.svc.cluster.local)" };
        var proto = new Option<string>("--proto") { Description = "tcp, udp, sctp (an INIT) or icmp (an echo request, what ping sends)", DefaultValueFactory = _ => "tcp" };
        proto.AcceptOnlyFromAmong("tcp", "udp", "sctp", "icmp");
        var json = new Option<bool>("--json") { Description = "One JSON line instead of the stage-by-stage text" };
        var batch = new Option<string?>("--batch") { Description = "File of {\"src\",\"dst\",\"proto\"} lines; one JSON result per line" };
        var seed = new Option<ulong>("--seed") { Description = "Seed for backend selection", DefaultValueFactory = _ => 1 };

        var cmd = new Command("trace", "Trace the first packet of a new connection through one node's data plane, and explain its verdict") { src, dst, proto, json, batch, seed };
        clusterArgs.AddTo(cmd);
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            var topology = new TopologyReport();
            ClusterManifests manifests = clusterArgs.Load(pr);
            MapSet maps = clusterArgs.Compile(pr, manifests, topology);
            // The explanation reads the cluster as the control plane sees it (services, slices, pods, nodes).
            var explainer = new Explainer(manifests, pr.GetValue(clusterArgs.Node) ?? ControlPlane.FirstNode(manifests), maps,
                clusterArgs.Options(pr).LoadBalancerPool);
            ulong s = pr.GetValue(seed);
            if (pr.GetValue(batch) is { } file)
            {
                int line = 0;
                foreach (string text in File.ReadLines(file))
                {
                    line++;
                    if (string.IsNullOrWhiteSpace(text)) continue;
                    TraceRequest req = TraceRequest.ParseBatchLine(file, line, text, explainer);
                    TraceResultText.Write(Console.Out, Tracer.Trace(maps, req, s, topology, explainer), json: true);
                }
                return 0;
            }
            if (pr.GetValue(src) is not { } srcText || pr.GetValue(dst) is not { } dstText)
                throw new UsageException("trace needs --src and --dst (or --batch)");
            if (!TraceRequest.TryParse(srcText, dstText, pr.GetValue(proto)!, "--src/--dst", explainer, out TraceRequest r, out string? unresolved))
            {
                // A name that is no proxied Service (headless, ExternalName, unknown): nothing to send, say why.
                TraceResultText.WriteUnresolved(Console.Out, unresolved, pr.GetValue(json));
                return 1;
            }
            TraceResultText.Write(Console.Out, Tracer.Trace(maps, r, s, topology, explainer), pr.GetValue(json));
            return 0;
        }));
        return cmd;
    }
}
