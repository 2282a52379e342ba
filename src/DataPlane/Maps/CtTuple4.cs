using System.Runtime.InteropServices;
using DataPlane.Packets;

namespace DataPlane.Maps;

/// <summary>
/// A directional IPv4 5-tuple, 16 bytes. Unlike cilium's <c>ipv4_ct_tuple</c> (addresses named for the reply, ports for
/// the original direction) the fields mean what they say; direction is which of a <see cref="CtEntry"/>'s two tuples
/// matched. For ICMP echo the identifier stands in both port fields' roles (request id in SrcPort, 0 in DstPort).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct CtTuple4 : IMapKey<CtTuple4>
{
    public readonly uint SrcIp;
    public readonly uint DstIp;
    public readonly ushort SrcPort;
    public readonly ushort DstPort;
    public readonly byte Proto;
    readonly byte _pad0;
    readonly ushort _pad1;

    public CtTuple4(uint srcIp, ushort srcPort, uint dstIp, ushort dstPort, byte proto)
    {
        SrcIp = srcIp;
        DstIp = dstIp;
        SrcPort = srcPort;
        DstPort = dstPort;
        Proto = proto;
        _pad0 = 0;
        _pad1 = 0;
    }

    ulong Addresses => ((ulong)SrcIp << 32) | DstIp;
    ulong PortsProto => ((ulong)SrcPort << 48) | ((ulong)DstPort << 32) | Proto;

    /// <summary>The tuple a packet travelling the other way carries.</summary>
    public CtTuple4 Reverse() => new(DstIp, DstPort, SrcIp, SrcPort, Proto);

    public bool Equals(CtTuple4 other) => Addresses == other.Addresses && PortsProto == other.PortsProto;
    public override bool Equals(object? obj) => obj is CtTuple4 t && Equals(t);
    public static bool operator ==(CtTuple4 left, CtTuple4 right) => left.Equals(right);
    public static bool operator !=(CtTuple4 left, CtTuple4 right) => !left.Equals(right);
    public override int GetHashCode() => (int)Hash(0);
    public uint Hash(ulong seed) => HashMix.Mix(Addresses, PortsProto, seed);

    public override string ToString() =>
        $"{IpProto.Name(Proto)} {Ip4.Format(SrcIp)}:{SrcPort} -> {Ip4.Format(DstIp)}:{DstPort}";
}
