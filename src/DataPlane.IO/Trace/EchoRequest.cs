using System.Buffers.Binary;
using DataPlane.Packets;

namespace DataPlane.IO.Trace;

/// <summary>An ICMP echo request frame (what `ping` sends) for `trace --proto icmp`: Ethernet II, IPv4 TTL 64, id/sequence 1.</summary>
public static class EchoRequest
{
    public const int Length = Ethernet.HeaderLength + Ipv4Header.MinLength + 8;

    public static int Write(Span<byte> frame, uint src, uint dst)
    {
        // A UDP frame of the same size gives the Ethernet and IPv4 headers; the L4 part is then replaced.
        FrameBuilder.Write(frame, IpProto.Udp, src, 0, dst, 0, 0);
        Span<byte> f = frame.Slice(0, Length);
        Span<byte> ip = f.Slice(Ethernet.HeaderLength);
        ip[Ipv4Header.ProtocolOffset] = IpProto.Icmp;
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.TotalLengthOffset), Ipv4Header.MinLength + 8);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.ChecksumOffset), 0);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(Ipv4Header.ChecksumOffset), Checksum.Compute(ip.Slice(0, Ipv4Header.MinLength)));
        Span<byte> icmp = ip.Slice(Ipv4Header.MinLength, 8);
        icmp.Clear();
        icmp[0] = 8; // echo request (RFC 792)
        BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(4), 1);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(6), 1);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(2), Checksum.Compute(icmp));
        return Length;
    }
}
