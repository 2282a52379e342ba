using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Kubernetes.Explain;

/// <summary>
/// Why a packet got its verdict: the stage log (what the pipeline did) read against the cluster as the control plane
/// sees it (Service → EndpointSlices → each endpoint's conditions and node → traffic policy → result), in the words of
/// the usual troubleshooting checklist: is it a service address, is that one of its ports, does the selector match a
/// pod, is the pod ready, is it usable from this node.
/// </summary>
public sealed partial class Explainer
{
    readonly ResolvedCluster _c;
    readonly ClusterManifests _m;
    readonly string _node;
    readonly MapSet _maps;
    readonly ILookup<(string?, string?), EndpointSlice> _slices;

    /// <param name="cluster">The resolved cluster <paramref name="maps"/> was compiled from.</param>
    public Explainer(ResolvedCluster cluster, string nodeName, MapSet maps)
    {
        _c = cluster;
        _m = cluster.Manifests;
        _node = nodeName;
        _maps = maps;
        _slices = cluster.SliceLookup;
    }

    /// <summary>The resolved cluster the explanations read.</summary>
    public ResolvedCluster Cluster => _c;

    ProxyMode Mode => _m.ProxyConfig.Mode;

    /// <summary>The explanation of one traced packet (<paramref name="log"/> as <see cref="PacketPipeline"/> recorded it).</summary>
    public string Why(ReadOnlySpan<StageRecord> log)
    {
        if (log.Length == 0) return "no stage log was recorded";
        StageRecord parse = log[0], last = log[^1];
        if (parse.Stage == PipelineStage.Parse && parse.Verdict != Verdict.Continue && parse.Verdict != Verdict.Drop)
            return $"the frame is not IPv4 TCP/UDP/ICMP the data plane translates: {last.Verdict.Name()}";
        if (parse.Verdict == Verdict.Drop && parse.Reason != DropReason.UnsupportedL4)
            return $"the frame is malformed ({parse.Reason.Name()}): the kernel would discard it before any Service rule → drop";
        if (parse.Reason == DropReason.UnsupportedL4)
            return ForeignProtocol(parse, last);
        if (parse.Proto == IpProto.Icmp && Find(log, PipelineStage.Conntrack) is null)
            return Icmp(parse, last);
        if (parse.Verdict == Verdict.Continue && log.Length == 2 && last.Stage == PipelineStage.Verdict)
            return parse.L4Parsed && (last.Verdict == Verdict.Answer || parse.DstPort == 53)
                ? $"a DNS message to the cluster DNS address {Ip4.Format(parse.DstIp, parse.DstPort)}/{Proto(parse.Proto)}: the data plane's DNS stage handles it as CoreDNS's kubernetes plugin would, before kube-proxy's DNAT to the CoreDNS pods → {Outcome(last)}"
                : $"a later fragment: it follows the translation of its datagram's first fragment → {Outcome(last)}";
        if (Find(log, PipelineStage.Conntrack) is { HasEntry: true, NewFlow: false } hit)
            return $"packet of an existing connection (conntrack hit, flow {hit.FlowId}, {(hit.Direction == CtDirection.Original ? "original" : "reply")} direction): " +
                $"translated as its first packet was ({Tuple(hit.Original)} ⇄ {Tuple(hit.Reply)}); the Service and its endpoints are not consulted again" +
                (last.Verdict == Verdict.Forward ? "" : $" → {Outcome(last)}");
        if (Find(log, PipelineStage.Conntrack) is { Verdict: Verdict.Drop } ctDrop)
            return $"conntrack refused the packet ({ctDrop.Reason.Name()}) → drop";
        StageRecord? svc = Find(log, PipelineStage.ServiceLookup);
        if (svc is null || svc.Value.RevNatIndex == 0 || (svc.Value.ServiceFlags & ServiceFlags.Wildcard) != 0)
            return NoFrontend(parse, last);
        return ServicePacket(log, parse, svc.Value, last);
    }

    static StageRecord? Find(ReadOnlySpan<StageRecord> log, PipelineStage s)
    {
        foreach (StageRecord r in log)
            if (r.Stage == s) return r;
        return null;
    }

    static string Tuple(in CtTuple4 t) => $"{Ip4.Format(t.SrcIp, t.SrcPort)} -> {Ip4.Format(t.DstIp, t.DstPort)}";

    static string Outcome(StageRecord last) => last.Verdict switch
    {
        Verdict.Drop => $"drop ({last.Reason.Name()})",
        Verdict.Reject when last.ReplyProto == IpProto.Tcp => "reject (the node answers a TCP reset: nothing listens on that port)",
        Verdict.Reject => "reject (ICMP port unreachable)",
        Verdict.Pass => "pass (left to the host stack untranslated)",
        Verdict.Local => "answered by the node",
        Verdict.Answer => "answer (the DNS response is the output)",
        var v => v.Name(),
    };

    static string Proto(byte p) => p == IpProto.Udp ? "UDP" : p == IpProto.Tcp ? "TCP" : IpProto.Name(p).ToUpperInvariant();

    static string PortList(Service s) => s.Ports.Count == 0 ? "no ports" : string.Join(", ", s.Ports.Select(PortText));

    static string PortText(ServicePort p) =>
        $"{(p.Name.Length > 0 ? p.Name + " " : "")}{p.Port}/{p.Protocol} → targetPort {p.TargetPort}{(p.NodePort is int np ? $", nodePort {np}" : "")}";

    /// <summary>The services' IPv4 cluster IP as the resolved cluster has it (written, or allocated), null when none.</summary>
    uint? ClusterIpOf(Service s) => _c.ClusterIp(s);

    /// <summary>The service port a compiled reverse-NAT id stands for, looked up by its name in the resolved cluster.</summary>
    Service? ServiceOf(ushort revNat, out ServicePort? port)
    {
        var sp = _c.ServicePort(_maps.ServiceName(revNat));
        port = sp?.Port;
        return sp?.Service;
    }
}
