using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Explain;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.IO.Trace;

/// <summary>Sends one <see cref="TraceRequest"/> through the real pipeline with its stage log on.</summary>
public static class Tracer
{
    /// <summary>The packet's clock: one second in, as a fresh data plane's first packet.</summary>
    const long NowNs = 1_000_000_000;

    /// <summary>Runs the packet through a fresh pipeline (fresh conntrack) over <paramref name="maps"/>, recording its stage log.</summary>
    public static TraceResult Trace(MapSet maps, TraceRequest req, ulong seed, TopologyReport? topology = null, Explainer? explainer = null) =>
        Trace(maps, req, new PipelineOptions { Seed = seed }, topology, explainer);

    /// <summary>
    /// As above with the data plane's options as replay and run take them (host ports, SNAT port range, timeouts,
    /// seed); the conntrack table is a fresh small one whatever <see cref="PipelineOptions.CtCapacity"/> says.
    /// </summary>
    public static TraceResult Trace(MapSet maps, TraceRequest req, PipelineOptions options, TopologyReport? topology = null, Explainer? explainer = null)
    {
        using var pipeline = new PacketPipeline(new MapSetHolder(maps), options with { CtCapacity = 16 }) { Log = new StageLog() };
        byte[] frame = new byte[128];
        byte[] reply = new byte[1024];
        int len = req.Proto == IpProto.Icmp
            ? EchoRequest.Write(frame, req.Src, req.Dst)
            : FrameBuilder.FirstPacket(frame, req.Proto, req.Src, req.SrcPort, req.Dst, req.DstPort);
        Verdict v = pipeline.Process(frame.AsSpan(0, len), NowNs, reply, out PacketResult r);
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
}
