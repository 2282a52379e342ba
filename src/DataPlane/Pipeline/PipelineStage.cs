namespace DataPlane.Pipeline;

/// <summary>The stages <see cref="PacketPipeline"/> runs, as a <see cref="StageRecord"/> names them.</summary>
public enum PipelineStage : byte
{
    Parse,
    /// <summary>A later fragment, translated through the fragment map.</summary>
    Fragment,
    /// <summary>ICMP that is not an error about a tracked connection (echo and the like): not load-balanced.</summary>
    Icmp,
    /// <summary>The ICMP error stage: an error quoting a tracked connection.</summary>
    IcmpError,
    /// <summary>An L4 protocol the pipeline does not translate.</summary>
    ForeignProtocol,
    /// <summary>Conntrack lookup: hit (a known connection) or miss (a new one).</summary>
    Conntrack,
    ServiceLookup,
    BackendSelect,
    Reject,
    Masquerade,
    /// <summary>The new connection's entry: its DNAT (and SNAT) binding.</summary>
    ConntrackCreate,
    /// <summary>The address/port rewrite of a tracked connection's packet.</summary>
    Nat,
    /// <summary>The frame's final verdict (always the last record).</summary>
    Verdict,
    /// <summary>The TTL rule of a forwarding router (ForwardStage): forwarded, time exceeded, or only dropped.</summary>
    Ttl,
    /// <summary>IPv4 options of a forwarded datagram (ForwardStage.Options): updated, or rejected.</summary>
    Options,
    /// <summary>The SCTP chain's own checks (SctpStage): fragment, CRC32c, the conntrack state table.</summary>
    Sctp,
    /// <summary>The cluster DNS stage (DnsStage): a message to the DNS address answered, consumed or left to kube-proxy.</summary>
    Dns,
    /// <summary>The node's own stack (HostPortStage): traffic to no service, passed, or answered with a reset / port unreachable.</summary>
    HostPort,
    /// <summary>A replay's link-layer decision on a frame it keeps from the pipelines (cooked outgoing copy, unknown link type).</summary>
    Link,
    /// <summary>The node's fragment hold (nf_defrag, <see cref="FragmentHold"/>): a fragment it dropped, or absorbed into a reassembled datagram.</summary>
    Defrag,
}

public static class PipelineStageNames
{
    public static string Name(this PipelineStage s) => s switch
    {
        PipelineStage.Parse => "parse",
        PipelineStage.Fragment => "fragment",
        PipelineStage.Icmp => "icmp",
        PipelineStage.IcmpError => "icmp-error",
        PipelineStage.ForeignProtocol => "foreign-protocol",
        PipelineStage.Conntrack => "conntrack",
        PipelineStage.ServiceLookup => "service",
        PipelineStage.BackendSelect => "backend",
        PipelineStage.Reject => "reject",
        PipelineStage.Masquerade => "masquerade",
        PipelineStage.ConntrackCreate => "conntrack-create",
        PipelineStage.Nat => "nat",
        PipelineStage.Verdict => "verdict",
        PipelineStage.Ttl => "ttl",
        PipelineStage.Options => "ip-options",
        PipelineStage.Sctp => "sctp",
        PipelineStage.Dns => "dns",
        PipelineStage.HostPort => "host",
        PipelineStage.Link => "link",
        PipelineStage.Defrag => "defrag",
        _ => ((int)s).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
