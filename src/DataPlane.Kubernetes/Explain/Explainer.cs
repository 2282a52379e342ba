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

    /// <summary>
    /// The explanation of one traced packet (<paramref name="log"/> as <see cref="PacketPipeline"/> recorded it). Each
    /// branch keys off the record of the stage that decided, never off the log's length or shape.
    /// </summary>
    public string Why(ReadOnlySpan<StageRecord> log)
    {
        if (log.Length == 0) return "no stage log was recorded";
        StageRecord first = log[0], last = log[^1];
        if (Find(log, PipelineStage.Link) is { } link) return Link(link);
        if (Find(log, PipelineStage.Defrag) is { } defrag) return Defrag(defrag);
        if (first.Stage != PipelineStage.Parse) return $"no parse record → {Outcome(last)}";
        StageRecord parse = first;
        if (Find(log, PipelineStage.ForeignProtocol) is { } foreign) return ForeignProtocol(parse, foreign);
        if (parse.Verdict == Verdict.Pass)
            return $"the frame is not IPv4 TCP/UDP/SCTP/ICMP the data plane translates: {last.Verdict.Name()}";
        if (parse.Verdict == Verdict.Drop)
            return $"the frame is malformed ({parse.Reason.Name()}): the kernel would discard it before any Service rule → drop";
        if (Find(log, PipelineStage.Options) is { Verdict: Verdict.Drop } options) return Options(options);
        if (Find(log, PipelineStage.Fragment) is { } fragment) return Fragment(fragment);
        if (Find(log, PipelineStage.Icmp) is { } icmp) return Icmp(parse, icmp);
        if (Find(log, PipelineStage.IcmpError) is { } error) return IcmpError(error);
        if (Find(log, PipelineStage.Dns) is { } dns && dns.Rule != StageRule.DnsProxied) return Dns(dns);
        if (Find(log, PipelineStage.Sctp) is { Verdict: Verdict.Drop } sctp) return Sctp(sctp);
        if (Find(log, PipelineStage.Ttl) is { Verdict: not Verdict.Continue } ttl) return TimeExceeded(log, ttl);
        if (Find(log, PipelineStage.Reject) is { Reason: DropReason.TtlExceeded } ttlFirst) return TimeExceeded(log, ttlFirst);
        if (Find(log, PipelineStage.Conntrack) is { HasEntry: true, Verdict: Verdict.Pass } direct)
            return $"packet of a direct flow conntrack tracks without translating it (flow {direct.FlowId}, {(direct.Direction == CtDirection.Original ? "original" : "reply")} direction, " +
                $"{Tuple(direct.Original)} ⇄ {Tuple(direct.Reply)}): no Service is involved and nothing is rewritten → {Outcome(last)}";
        if (Find(log, PipelineStage.ServiceLookup) is { RevNatIndex: 0 } && Find(log, PipelineStage.ConntrackCreate) is { HasEntry: true } created)
            return DirectFlow(parse, created, last);
        if (Find(log, PipelineStage.Conntrack) is { HasEntry: true, NewFlow: false } hit)
            return $"packet of an existing connection (conntrack hit, flow {hit.FlowId}, {(hit.Direction == CtDirection.Original ? "original" : "reply")} direction): " +
                $"translated as its first packet was ({Tuple(hit.Original)} ⇄ {Tuple(hit.Reply)}); the Service and its endpoints are not consulted again" +
                (last.Verdict == Verdict.Forward ? "" : $" → {Outcome(last)}");
        if (Find(log, PipelineStage.Conntrack) is { Verdict: Verdict.Drop } ctDrop)
            return $"conntrack refused the packet ({ctDrop.Reason.Name()}) → drop";
        if (Find(log, PipelineStage.HostPort) is { } host && host.Rule != StageRule.HostNotNodeAddress) return HostPort(parse, host);
        StageRecord? svc = Find(log, PipelineStage.ServiceLookup);
        if (svc is null || svc.Value.RevNatIndex == 0 || (svc.Value.ServiceFlags & ServiceFlags.Wildcard) != 0)
            return NoFrontend(parse, Decider(log));
        return ServicePacket(log, parse, svc.Value, last);
    }

    /// <summary>A new direct flow to or from a service endpoint, tracked because a service connection can share its reply tuple.</summary>
    string DirectFlow(StageRecord parse, StageRecord c, StageRecord last)
    {
        string basis = $"{Address(parse.DstIp)}; not a Service packet, but one end is a Service endpoint (a backend's address, port and protocol), " +
            $"so conntrack tracks it (flow {c.FlowId}), as Linux tracks every flow: a connection through the Service from the same client port " +
            $"would get the same reply tuple {Tuple(c.Original.Reverse())}";
        return (c.CtFlags & CtFlags.Snat) != 0
            ? $"{basis}. A Service connection holds that tuple already, so this flow's NAT null binding moves its source port to {c.Reply.DstPort} " +
              $"(get_unique_tuple, nf_nat_used_tuple, nf_nat_l4proto_unique_tuple in net/netfilter/nf_nat_core.c) and its replies are turned back → {Outcome(last)}"
            : $"{basis}; it is passed untranslated and its replies will be too → {Outcome(last)}";
    }

    /// <summary>The record of the stage that decided the frame's verdict: the last one before the verdict record.</summary>
    static StageRecord Decider(ReadOnlySpan<StageRecord> log)
    {
        for (int i = log.Length - 1; i >= 0; i--)
            if (log[i].Stage is not (PipelineStage.Verdict or PipelineStage.Options)) return log[i];
        return log[^1];
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
        Verdict.Reject when last.ReplyProto == IpProto.Icmp && last.ReplyIcmpType == L4.IcmpTimeExceeded => "reject (ICMP time exceeded)",
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
