namespace DataPlane.Maps;

/// <summary>
/// SCTP conntrack states, numbered and named as the kernel's <c>enum sctp_conntrack</c>
/// (include/uapi/linux/netfilter/nf_conntrack_sctp.h; names from nf_conntrack_proto_sctp.c). Kept in a SCTP
/// connection's <see cref="CtEntry.TcpFlagsOriginal"/> byte, which SCTP has no other use for.
/// </summary>
public enum SctpState : byte
{
    None = 0,
    Closed = 1,
    CookieWait = 2,
    CookieEchoed = 3,
    Established = 4,
    ShutdownSent = 5,
    ShutdownRecd = 6,
    ShutdownAckSent = 7,
    HeartbeatSent = 8,
    /// <summary>SCTP_CONNTRACK_MAX, the transition table's "sIV": the packet is INVALID.</summary>
    Invalid = 9,
}

public static class SctpStateNames
{
    static readonly string[] s_names =
        ["NONE", "CLOSED", "COOKIE_WAIT", "COOKIE_ECHOED", "ESTABLISHED", "SHUTDOWN_SENT", "SHUTDOWN_RECD", "SHUTDOWN_ACK_SENT", "HEARTBEAT_SENT", "INVALID"];

    public static string Name(this SctpState s) => (int)s < s_names.Length ? s_names[(int)s] : ((int)s).ToString();
}
