using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using DataPlane.Kubernetes;
using DataPlane.IO.Trace;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Explain;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Cli;

/// <summary>
/// <c>dataplane trace --cluster P --node N --src ip[:port] --dst ip:port|service:port [--proto tcp|udp|sctp|icmp] [--json] [--batch file]</c>:
/// the first packet of a new connection through the real pipeline, each stage's recorded decision printed, then why. Like kube-proxy's
/// flow tests, `candidates` is every endpoint a new connection could go to; `backend` is the one this packet went to.
/// </summary>
public static class TraceCommand
{
    const ushort DefaultSourcePort = 40000;

    public static Command Build()
    {
        var clusterArgs = new ClusterArgs();
        var src = new Option<string?>("--src") { Description = $"Source ip[:port] (port default {DefaultSourcePort})" };
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
                    Request req = ParseBatchLine(file, line, text, explainer);
                    Console.Out.WriteLine(Trace(maps, req, s, topology, explainer).ToJson());
                }
                return 0;
            }
            if (pr.GetValue(src) is not { } srcText || pr.GetValue(dst) is not { } dstText)
                throw new UsageException("trace needs --src and --dst (or --batch)");
            if (!TryParse(srcText, dstText, pr.GetValue(proto)!, "--src/--dst", explainer, out Request r, out string? unresolved))
            {
                // A name that is no proxied Service (headless, ExternalName, unknown): nothing to send, say why.
                Console.Out.WriteLine(pr.GetValue(json) ? new JsonObject { ["verdict"] = null, ["why"] = unresolved }.ToJsonString(TraceText.JsonOptions) : $"why         {unresolved}");
                return 1;
            }
            TraceResult t = Trace(maps, r, s, topology, explainer);
            Console.Out.WriteLine(pr.GetValue(json) ? t.ToJson() : t.ToText());
            return 0;
        }));
        return cmd;
    }

    public readonly record struct Request(byte Proto, uint Src, ushort SrcPort, uint Dst, ushort DstPort);

    static bool TryParse(string src, string dst, string proto, string where, Explainer? explainer, out Request req, out string? unresolved)
    {
        req = default;
        unresolved = null;
        byte p = proto switch
        {
            "tcp" => IpProto.Tcp,
            "udp" => IpProto.Udp,
            "sctp" => IpProto.Sctp,
            "icmp" => IpProto.Icmp,
            _ => throw new UsageException($"{where}: proto '{proto}' is not tcp, udp, sctp or icmp"),
        };
        if (!Ip4.TryParseEndpoint(src, out uint s, out ushort sp)) throw new UsageException($"{where}: '{src}' is not ip[:port]");
        uint d;
        ushort dp = 0;
        if (p == IpProto.Icmp && Ip4.TryParse(dst, out d)) dp = 0;
        else if (!dst.Contains(':') || !Ip4.TryParseEndpoint(dst, out d, out dp))
        {
            // Not an address: a Service name, resolved the way cluster DNS would (or explained when it has no cluster IP).
            int colon = dst.LastIndexOf(':');
            string name = colon > 0 ? dst[..colon] : dst;
            if (explainer is null || name.Length == 0 || char.IsDigit(name[0]) || (p != IpProto.Icmp && (colon < 0 || !ushort.TryParse(dst[(colon + 1)..], out dp))))
                throw new UsageException($"{where}: '{dst}' is not ip:port or service:port");
            if (p == IpProto.Icmp) dp = 0;
            if (explainer.Resolve(name, out unresolved) is not uint ip) return false;
            d = ip;
            unresolved = null;
        }
        req = new Request(p, s, p == IpProto.Icmp ? (ushort)0 : src.Contains(':') ? sp : DefaultSourcePort, d, dp);
        return true;
    }

    static Request ParseBatchLine(string file, int line, string text, Explainer? explainer)
    {
        try
        {
            var o = JsonNode.Parse(text)!.AsObject();
            if (!TryParse((string?)o["src"] ?? "", (string?)o["dst"] ?? "", (string?)o["proto"] ?? "tcp", $"{file}:{line}", explainer, out Request r, out string? why))
                throw new UsageException($"{file}:{line}: {why}");
            return r;
        }
        catch (JsonException e) { throw new UsageException($"{file}:{line}: not a JSON object: {e.Message}"); }
        catch (InvalidOperationException e) { throw new UsageException($"{file}:{line}: {e.Message}"); }
    }

    /// <summary>Runs the packet through a fresh pipeline (fresh conntrack) over <paramref name="maps"/>, recording its stage log.</summary>
    public static TraceResult Trace(MapSet maps, Request req, ulong seed, TopologyReport? topology = null, Explainer? explainer = null)
    {
        var pipeline = new PacketPipeline(new MapSetHolder(maps), new PipelineOptions { Seed = seed, CtCapacity = 16 }) { Log = new StageLog() };
        byte[] frame = new byte[128];
        byte[] reply = new byte[1024];
        int len = req.Proto == IpProto.Icmp
            ? EchoRequest.Write(frame, req.Src, req.Dst)
            : FrameBuilder.FirstPacket(frame, req.Proto, req.Src, req.SrcPort, req.Dst, req.DstPort);
        Verdict v = pipeline.Process(frame.AsSpan(0, len), 1_000_000_000, reply, out PacketResult r);
        StageRecord[] log = pipeline.Log!.Records.ToArray();
        string[] candidates = [];
        if (r.HasFrontend)
        {
            candidates = new string[r.SlotCount];
            for (int i = 0; i < r.SlotCount; i++)
            {
                Lb4Backend b = maps.Backend(maps.Slot(r.SlotOffset + (uint)i));
                candidates[i] = Ip4.Format(b.Address, b.Port);
            }
        }
        return new TraceResult(req, v, r, maps, candidates)
        {
            Topology = topology?.For(maps.ServiceName(r.RevNatIndex)),
            Log = log,
            Why = explainer?.Why(log),
        };
    }

    public sealed record TraceResult(Request Req, Verdict Verdict, PacketResult R, MapSet Maps, string[] Candidates)
    {
        string? Service => Maps.ServiceName(R.RevNatIndex);
        string? Backend => Verdict == Verdict.Forward && R.RevNatIndex != 0 ? Ip4.Format(R.Backend.Address, R.Backend.Port) : null;
        bool Masquerade => Verdict == Verdict.Forward && R.Masqueraded;

        /// <summary>The compile's topology decision for this packet's service port, when hints played a part.</summary>
        public TopologyDecision? Topology { get; init; }

        /// <summary>What each stage recorded for this packet.</summary>
        public StageRecord[] Log { get; init; } = [];

        /// <summary>The explanation (null without an explainer).</summary>
        public string? Why { get; init; }

        public string ToJson()
        {
            var o = new JsonObject
            {
                ["verdict"] = Verdict.Name(),
                ["reason"] = R.Reason == DropReason.None ? null : R.Reason.Name(),
                ["service"] = Service,
                ["candidates"] = new JsonArray([.. Candidates.Select(c => (JsonNode)c)]),
                ["backend"] = Backend,
                ["masquerade"] = Masquerade,
                ["out"] = Verdict == Verdict.Forward
                    ? new JsonObject { ["src"] = Ip4.Format(R.OutSrcIp, R.OutSrcPort), ["dst"] = Ip4.Format(R.OutDstIp, R.OutDstPort) }
                    : null,
            };
            if (Topology is not null) o["topology"] = TopologyText.Json(Topology, R.ServiceFlags, R.Scope);
            o["stages"] = TraceText.Json(Log, Maps);
            o["why"] = Why;
            return o.ToJsonString(TraceText.JsonOptions);
        }

        public string ToText()
        {
            string proto = IpProto.Name(Req.Proto);
            string packet = Req.Proto == IpProto.Icmp
                ? $"icmp {Ip4.Format(Req.Src)} -> {Ip4.Format(Req.Dst)} echo request"
                : $"{proto} {Ip4.Format(Req.Src, Req.SrcPort)} -> {Ip4.Format(Req.Dst, Req.DstPort)}{(Req.Proto == IpProto.Tcp ? " [SYN]" : Req.Proto == IpProto.Sctp ? " [INIT]" : "")}";
            IEnumerable<(string, string)> topology = Topology is null ? [] : TopologyText.TraceLines(Topology, R.ServiceFlags, R.Scope).Select(l => ("topology", l));
            return TraceText.Text(packet, Log, Maps, topology, Why);
        }
    }
}
