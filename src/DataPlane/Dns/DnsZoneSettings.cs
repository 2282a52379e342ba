namespace DataPlane.Dns;

/// <summary>How a compiled zone is served (CoreDNS Corefile options and the cluster DNS address).</summary>
public sealed record DnsZoneSettings
{
    /// <summary>The cluster DNS service address (queries to it on port 53 are ours to answer).</summary>
    public uint Address { get; init; }
    public DnsMode Mode { get; init; } = DnsMode.Auto;
    public DnsPodsMode Pods { get; init; } = DnsPodsMode.Insecure;
    /// <summary>The answer for names outside the zones we serve: REFUSED (no recursion) or NXDOMAIN.</summary>
    public int UpstreamRcode { get; init; } = DnsRcode.Refused;
    /// <summary>The UDP payload size we advertise in our OPT record (RFC 6891; 1232 is the DNS Flag Day 2020 value).</summary>
    public ushort EdnsUdpSize { get; init; } = 1232;
}
