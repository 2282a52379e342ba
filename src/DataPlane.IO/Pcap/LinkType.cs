namespace DataPlane.IO.Pcap;

/// <summary>
/// Link-layer header type of the frames in a capture (the LINKTYPE_* registry that both
/// draft-ietf-opsawg-pcap and draft-ietf-opsawg-pcapng point to). Only the values this project meets are named;
/// any other 16-bit value read from a file is passed through unchanged as a numeric enum value.
/// </summary>
public enum LinkType : ushort
{
    /// <summary>LINKTYPE_NULL: BSD loopback, a 4-byte host-order address family before the IP header.</summary>
    Null = 0,

    /// <summary>LINKTYPE_ETHERNET (DLT_EN10MB): the frames the data plane consumes and emits.</summary>
    Ethernet = 1,

    /// <summary>DLT_RAW as most BSDs and libpcap before 0.9 wrote it into files: a bare IPv4 or IPv6 packet.</summary>
    RawDlt12 = 12,

    /// <summary>DLT_RAW as OpenBSD writes it: a bare IPv4 or IPv6 packet.</summary>
    RawDlt14 = 14,

    /// <summary>LINKTYPE_RAW: a bare IPv4 or IPv6 packet, no link-layer header.</summary>
    Raw = 101,

    /// <summary>LINKTYPE_LOOP: OpenBSD loopback, like <see cref="Null"/> but the address family is in network byte order.</summary>
    Loop = 108,

    /// <summary>LINKTYPE_LINUX_SLL: Linux "cooked" capture v1 (tcpdump -i any).</summary>
    LinuxSll = 113,

    /// <summary>LINKTYPE_IPV4: a bare IPv4 packet.</summary>
    Ipv4 = 228,

    /// <summary>LINKTYPE_IPV6: a bare IPv6 packet.</summary>
    Ipv6 = 229,

    /// <summary>LINKTYPE_LINUX_SLL2: Linux "cooked" capture v2.</summary>
    LinuxSll2 = 276,

    /// <summary>
    /// Not a registered link type: what <see cref="CaptureReader.LinkType"/> reports for a pcapng file in which no
    /// Interface Description Block precedes the first packet (or which has none at all, like an SHB-only file).
    /// </summary>
    Unknown = 0xFFFF,
}
