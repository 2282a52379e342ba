using System.Runtime.InteropServices;

namespace DataPlane.Dns;

/// <summary>
/// One precompiled resource record of a <see cref="DnsZone"/>: its rdata in uncompressed wire form in the zone's data
/// arena (names inside it are compressed when written), and for SRV/NS/CNAME the range of the target's A records
/// (additional section, or for a CNAME the chased answers).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct DnsRecord
{
    public ushort Type;
    public uint Ttl;
    public int Data;
    public ushort DataLength;
    /// <summary>Owner name (wire form) in the zone's name arena: needed where the owner is not the question name.</summary>
    public int Owner;
    public byte OwnerLength;
    public int ExtraStart;
    /// <summary>The target's A records: an int, as a headless target can have more than 65 535 endpoints.</summary>
    public int ExtraCount;
}
