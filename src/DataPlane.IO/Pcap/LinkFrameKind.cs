namespace DataPlane.IO.Pcap;

/// <summary>What <see cref="LinkLayer.ToEthernet"/> made of a captured frame.</summary>
public enum LinkFrameKind : byte
{
    /// <summary>A frame the node received (or an Ethernet/RAW/NULL frame, which has no direction): process it.</summary>
    Received = 0,

    /// <summary>
    /// A Linux cooked capture's copy of a frame the node itself sent (packet type PACKET_OUTGOING, or PACKET_LOOPBACK
    /// and above): already translated on its way out, so processing it again would translate it twice.
    /// </summary>
    Outgoing = 1,

    /// <summary>A link type we do not understand: nothing was written.</summary>
    Unsupported = 2,

    /// <summary>Shorter than its link-layer header: written as a truncated Ethernet frame, which the parser drops.</summary>
    Truncated = 3,
}
