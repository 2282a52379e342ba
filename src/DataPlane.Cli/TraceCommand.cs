using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Cli;

/// <summary>
/// <c>dataplane trace --cluster P --node N --src ip[:port] --dst ip:port [--proto tcp|udp|sctp] [--json] [--batch file]</c>:
/// the first packet of a new connection through the real pipeline, each stage's decision printed. Like kube-proxy's
/// flow tests, `candidates` is every endpoint a new connection could go to; `backend` is the one this packet went to.
/// </summary>
public static class TraceCommand
{
    const ushort DefaultSourcePort = 40000;

    public static Command Build()
    {
        var clusterArgs = new ClusterArgs();
        var src = new Option<string?>("--src") { Description = $"Source ip[:port] (port default {DefaultSourcePort})" };
        var dst = new Option<string?>("--dst") { Description = "Destination ip:port" };
        var proto = new Option<string>("--proto") { Description = "tcp, udp or sctp (an INIT)", DefaultValueFactory = _ => "tcp" };
        proto.AcceptOnlyFromAmong("tcp", "udp", "sctp");
        var json = new Option<bool>("--json") { Description = "One JSON line instead of the stage-by-stage text" };
        var batch = new Option<string?>("--batch") { Description = "File of {\"src\",\"dst\",\"proto\"} lines; one JSON result per line" };
        var seed = new Option<ulong>("--seed") { Description = "Seed for backend selection", DefaultValueFactory = _ => 1 };

        var cmd = new Command("trace", "Trace the first packet of a new connection through one node's data plane") { src, dst, proto, json, batch, seed };
        clusterArgs.AddTo(cmd);
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            var topology = new TopologyReport();
            MapSet maps = clusterArgs.Compile(pr, topology);
            ulong s = pr.GetValue(seed);
            if (pr.GetValue(batch) is { } file)
            {
                int line = 0;
                foreach (string text in File.ReadLines(file))
                {
                    line++;
                    if (string.IsNullOrWhiteSpace(text)) continue;
                    Request req = ParseBatchLine(file, line, text);
                    Console.Out.WriteLine(Trace(maps, req, s, topology).ToJson());
                }
                return 0;
            }
            if (pr.GetValue(src) is not { } srcText || pr.GetValue(dst) is not { } dstText)
                throw new UsageException("trace needs --src and --dst (or --batch)");
            Request r = Parse(srcText, dstText, pr.GetValue(proto)!, "--src/--dst");
            TraceResult t = Trace(maps, r, s, topology);
            Console.Out.WriteLine(pr.GetValue(json) ? t.ToJson() : t.ToText());
            return 0;
        }));
        return cmd;
    }

    public readonly record struct Request(byte Proto, uint Src, ushort SrcPort, uint Dst, ushort DstPort);

    static Request Parse(string src, string dst, string proto, string where)
    {
        if (!Ip4.TryParseEndpoint(src, out uint s, out ushort sp)) throw new UsageException($"{where}: '{src}' is not ip[:port]");
        if (!dst.Contains(':') || !Ip4.TryParseEndpoint(dst, out uint d, out ushort dp)) throw new UsageException($"{where}: '{dst}' is not ip:port");
        byte p = proto switch
        {
            "tcp" => IpProto.Tcp,
            "udp" => IpProto.Udp,
            "sctp" => IpProto.Sctp,
            _ => throw new UsageException($"{where}: proto '{proto}' is not tcp, udp or sctp"),
        };
        return new Request(p, s, src.Contains(':') ? sp : DefaultSourcePort, d, dp);
    }

    static Request ParseBatchLine(string file, int line, string text)
    {
        try
        {
            var o = JsonNode.Parse(text)!.AsObject();
            return Parse((string?)o["src"] ?? "", (string?)o["dst"] ?? "", (string?)o["proto"] ?? "tcp", $"{file}:{line}");
        }
        catch (JsonException e) { throw new UsageException($"{file}:{line}: not a JSON object: {e.Message}"); }
        catch (InvalidOperationException e) { throw new UsageException($"{file}:{line}: {e.Message}"); }
    }

    /// <summary>Runs the packet through a fresh pipeline (fresh conntrack) over <paramref name="maps"/>.</summary>
    public static TraceResult Trace(MapSet maps, Request req, ulong seed, TopologyReport? topology = null)
    {
        var pipeline = new PacketPipeline(new MapSetHolder(maps), new PipelineOptions { Seed = seed, CtCapacity = 16 });
        byte[] frame = new byte[128];
        byte[] reply = new byte[1024];
        int len = FrameBuilder.FirstPacket(frame, req.Proto, req.Src, req.SrcPort, req.Dst, req.DstPort);
        Verdict v = pipeline.Process(frame.AsSpan(0, len), 1_000_000_000, reply, out PacketResult r);
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
        return new TraceResult(req, v, r, maps, candidates) { Topology = topology?.For(maps.ServiceName(r.RevNatIndex)) };
    }

    public sealed record TraceResult(Request Req, Verdict Verdict, PacketResult R, MapSet Maps, string[] Candidates)
    {
        string? Service => Maps.ServiceName(R.RevNatIndex);
        string? Backend => Verdict == Verdict.Forward && R.RevNatIndex != 0 ? Ip4.Format(R.Backend.Address, R.Backend.Port) : null;
        bool Masquerade => Verdict == Verdict.Forward && R.Masqueraded;

        /// <summary>The compile's topology decision for this packet's service port, when hints played a part.</summary>
        public TopologyDecision? Topology { get; init; }

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
            return o.ToJsonString();
        }

        public string ToText()
        {
            var w = new StringWriter();
            string proto = IpProto.Name(Req.Proto);
            w.WriteLine($"packet      {proto} {Ip4.Format(Req.Src, Req.SrcPort)} -> {Ip4.Format(Req.Dst, Req.DstPort)}{(Req.Proto == IpProto.Tcp ? " [SYN]" : Req.Proto == IpProto.Sctp ? " [INIT]" : "")}");
            w.WriteLine($"parse       ok");
            w.WriteLine($"conntrack   no entry: new connection");
            if (Service is null)
                w.WriteLine(R.Reason == DropReason.None ? "service     no frontend matches: not a service packet" : $"service     no frontend: {R.Reason.Name()}");
            else
            {
                string scope = R.Scope == 1 ? "internal scope (pod or node source)" : "external scope";
                w.WriteLine($"service     {Service}  frontend flags [{R.ServiceFlags}]{((R.ServiceFlags & ServiceFlags.TwoScopes) != 0 || R.Scope == 1 ? ", " + scope : "")}");
                if (Topology is not null)
                    foreach (string line in TopologyText.TraceLines(Topology, R.ServiceFlags, R.Scope))
                        w.WriteLine($"topology    {line}");
                w.WriteLine($"candidates  {(Candidates.Length == 0 ? "(none)" : string.Join(", ", Candidates))}");
                if (Backend is not null) w.WriteLine($"backend     {Backend}");
                if (Verdict == Verdict.Forward) w.WriteLine($"masquerade  {(Masquerade ? "yes, source -> " + Ip4.Format(R.OutSrcIp, R.OutSrcPort) : "no, client address kept")}");
            }
            string outcome = Verdict switch
            {
                Verdict.Forward => $"{Ip4.Format(R.OutSrcIp, R.OutSrcPort)} -> {Ip4.Format(R.OutDstIp, R.OutDstPort)}",
                Verdict.Reject when R.OutProto == IpProto.Tcp => $"TCP reset from the node {Ip4.Format(R.OutSrcIp, R.OutSrcPort)} -> {Ip4.Format(R.OutDstIp, R.OutDstPort)}",
                Verdict.Reject => $"ICMP port unreachable {Ip4.Format(R.OutSrcIp)} -> {Ip4.Format(R.OutDstIp)}",
                Verdict.Drop => R.Reason.Name(),
                Verdict.Local => "answered by the node",
                _ => "left to the host stack untouched",
            };
            w.Write($"verdict     {Verdict.Name()}: {outcome}");
            return w.ToString();
        }
    }
}
