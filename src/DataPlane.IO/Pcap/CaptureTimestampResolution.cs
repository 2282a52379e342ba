namespace DataPlane.IO.Pcap;

/// <summary>
/// Unit of the fractional-second field of a classic pcap record. draft-ietf-opsawg-pcap section 3 encodes it in the
/// magic number: 0xA1B2C3D4 for microseconds, 0xA1B23C4D for nanoseconds.
/// </summary>
public enum CaptureTimestampResolution
{
    /// <summary>Microseconds (magic 0xA1B2C3D4): what every pcap reader understands; the default.</summary>
    Microsecond = 0,

    /// <summary>Nanoseconds (magic 0xA1B23C4D): needs libpcap 1.5+ or Wireshark 1.10+ to read.</summary>
    Nanosecond = 1,
}
