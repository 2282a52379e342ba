namespace DataPlane.IO.Pcap;

/// <summary>The container format of a capture file, as recognised from its first four bytes.</summary>
public enum CaptureFileFormat
{
    /// <summary>Classic libpcap format (draft-ietf-opsawg-pcap): one global header, then records.</summary>
    Pcap = 1,

    /// <summary>pcapng (draft-ietf-opsawg-pcapng): a sequence of typed blocks grouped in sections.</summary>
    PcapNg = 2,
}
