using System.Buffers.Binary;
using DataPlane.Packets;

namespace DataPlane.Benchmarks;

/// <summary>
/// Span-built test frames (cilium pktgen style): Ethernet II, 20-byte IPv4 (TTL 64, DF), TCP or UDP with a payload, full
/// checksums. Used where PacketDotNet would take seconds to build a million frames; the frames are checked against
/// PacketDotNet's parse in <see cref="BenchFrames.SelfTest"/>.
/// </summary>
public static class BenchFrames
{
    public static int Write(Span<byte> frame, byte proto, uint src, ushort sport, uint dst, ushort dport, byte tcpFlags = L4.TcpAck,
        int payload = 0, uint seq = 1, ushort ipId = 0) =>
        FrameBuilder.Write(frame, proto, src, sport, dst, dport, tcpFlags, payload, seq, ipId);

    /// <summary>True when the frame's IPv4 header and TCP/UDP checksums verify from scratch (the self-checks use it).</summary>
    public static bool ChecksumsValid(ReadOnlySpan<byte> f)
    {
        ReadOnlySpan<byte> ip = f.Slice(Ethernet.HeaderLength);
        if (!Checksum.Ipv4HeaderValid(ip.Slice(0, Ipv4Header.MinLength))) return false;
        int total = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(Ipv4Header.TotalLengthOffset));
        byte proto = ip[Ipv4Header.ProtocolOffset];
        uint src = BinaryPrimitives.ReadUInt32BigEndian(ip.Slice(Ipv4Header.SrcOffset));
        uint dst = BinaryPrimitives.ReadUInt32BigEndian(ip.Slice(Ipv4Header.DstOffset));
        ReadOnlySpan<byte> l4 = ip.Slice(Ipv4Header.MinLength, total - Ipv4Header.MinLength);
        if (proto == IpProto.Udp && L4.ReadU16(l4, L4.UdpChecksumOffset) == 0) return true;
        return Checksum.Fold(Checksum.Sum(l4, Checksum.PseudoHeaderSum(src, dst, proto, l4.Length))) == 0xFFFF;
    }

    public static uint DstIp(ReadOnlySpan<byte> f) => BinaryPrimitives.ReadUInt32BigEndian(f.Slice(Ethernet.HeaderLength + Ipv4Header.DstOffset));
    public static uint SrcIp(ReadOnlySpan<byte> f) => BinaryPrimitives.ReadUInt32BigEndian(f.Slice(Ethernet.HeaderLength + Ipv4Header.SrcOffset));
    public static ushort DstPort(ReadOnlySpan<byte> f) => L4.ReadU16(f.Slice(Ethernet.HeaderLength + Ipv4Header.MinLength), L4.DstPortOffset);
    public static ushort SrcPort(ReadOnlySpan<byte> f) => L4.ReadU16(f.Slice(Ethernet.HeaderLength + Ipv4Header.MinLength), L4.SrcPortOffset);
}

/// <summary>
/// Frames stored back to back at a fixed stride in one array (one allocation, no object per frame), like a NIC's RX
/// ring: the per-packet loop copies frame i into a work buffer, because the pipeline rewrites in place.
/// </summary>
public sealed class FramePool
{
    readonly byte[] _data;
    readonly int[] _length;

    public FramePool(int count, int stride = 128)
    {
        Stride = stride;
        _data = new byte[(long)count * stride];
        _length = new int[count];
        Count = count;
    }

    public int Count { get; }
    public int Stride { get; }

    public Span<byte> Slot(int i) => _data.AsSpan(i * Stride, Stride);
    public void SetLength(int i, int length) => _length[i] = length;
    public int Length(int i) => _length[i];
    public Span<byte> this[int i] => _data.AsSpan(i * Stride, _length[i]);
    public byte[] ToArray(int i) => this[i].ToArray();

    public int Add(int i, byte proto, uint src, ushort sport, uint dst, ushort dport, byte flags = L4.TcpAck, int payload = 0)
    {
        int n = BenchFrames.Write(Slot(i), proto, src, sport, dst, dport, flags, payload, (uint)i * 2654435761u);
        _length[i] = n;
        return n;
    }
}
