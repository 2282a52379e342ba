namespace DataPlane.Packets;

/// <summary>IANA protocol numbers that the pipeline handles.</summary>
public static class IpProto
{
    public const byte Icmp = 1;
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte Sctp = 132;
    /// <summary>ICMPv6 (RFC 4443); IPv6 only. Not named by <see cref="Name"/> yet: verdict lines are IPv4-only today.</summary>
    public const byte Icmp6 = 58;

    public static string Name(byte proto) => proto switch
    {
        Icmp => "icmp",
        Tcp => "tcp",
        Udp => "udp",
        Sctp => "sctp",
        _ => proto.ToString(),
    };
}
