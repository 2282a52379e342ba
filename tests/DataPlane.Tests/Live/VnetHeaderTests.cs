using System.Buffers.Binary;
using CsCheck;
using DataPlane.FixtureBuilder;
using DataPlane.IO.Tap;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;
using static DataPlane.Tests.Infrastructure.TestWorld;

namespace DataPlane.Tests.Live;

/// <summary>
/// Frames read from a TAP with offloads on carry partial checksums: a GSO packet's TCP checksum field holds only the
/// pseudo-header sum, which the device (here: the kernel's segmentation after we write it back) completes. Whatever the
/// pipeline does to such a frame, once completed it must be byte for byte what the pipeline makes of the same frame
/// with a full checksum: the oracle is the pipeline's own full-checksum path, and the completion is computed from
/// scratch over the translated bytes (RFC 1071), not by the code under test.
/// </summary>
public class VnetHeaderTests
{
    const int L4At = 34, CheckAt = L4At + 16;

    static byte[] Header(byte flags, byte gso, ushort csumStart = L4At, ushort csumOffset = 16, ushort gsoSize = 1448)
    {
        var h = new byte[VnetHeader.Size];
        h[VnetHeader.FlagsOffset] = flags;
        h[VnetHeader.GsoTypeOffset] = gso;
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(VnetHeader.HdrLenOffset), 66);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(VnetHeader.GsoSizeOffset), gsoSize);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(VnetHeader.CsumStartOffset), csumStart);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(VnetHeader.CsumOffsetOffset), csumOffset);
        return h;
    }

    /// <summary>The frame as the kernel hands it over for checksum offload: the L4 checksum field = folded pseudo-header sum.</summary>
    static byte[] Partial(byte[] full)
    {
        byte[] f = (byte[])full.Clone();
        uint src = BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(26)), dst = BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(30));
        int l4Length = BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(16)) - (f[14] & 0x0F) * 4;
        int field = L4At + (f[23] == IpProto.Tcp ? 16 : 6);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(field), Checksum.Fold(Checksum.PseudoHeaderSum(src, dst, f[23], l4Length)));
        return f;
    }

    /// <summary>What the device does with a partial checksum: the whole L4 sum (pseudo-header sum in the field) complemented.</summary>
    static byte[] DeviceCompletes(byte[] frame, int field)
    {
        byte[] f = (byte[])frame.Clone();
        ushort c = (ushort)~Checksum.Fold(Checksum.Sum(f.AsSpan(L4At)));
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(field), c);
        return f;
    }

    /// <summary>One GSO packet through <paramref name="p"/> as the live loop runs it: Prepare, the pipeline, Finish.</summary>
    static (Verdict V, byte[] Out) RunSegmented(PacketPipeline p, byte[] partial)
    {
        byte[] header = Header(VnetHeader.NeedsCsum, VnetHeader.GsoTcpV4);
        byte[] buf = (byte[])partial.Clone();
        Assert.Equal(VnetFrame.Segmented, VnetHeader.Prepare(header, buf));
        Verdict v = p.Process(buf, 1_000_000_000, new byte[2048], out PacketResult r);
        if (v != Verdict.Forward) return (v, []);
        byte[] o = buf[..r.OutLength];
        VnetHeader.Finish(header, o);
        return (v, o);
    }

    [Fact]
    public void A_gso_packet_translated_with_a_partial_checksum_completes_to_the_full_checksum_paths_bytes()
    {
        // Client to NodePort (DNAT + masquerade: both addresses change, the port may) and the backend's reply (reverse).
        Gen.Select(Gen.Int[0, 4000], Gen.UShort[1024, 65535], Gen.Byte[1, 250], Gen.Bool).Sample((payload, sport, host, nodePort) =>
        {
            string client = $"203.0.113.{host}", dst = nodePort ? "192.168.0.2" : "10.96.0.10";
            ushort dport = nodePort ? NodePort : (ushort)80;
            PacketPipeline full = NewPipeline(), partial = NewPipeline();
            byte[] syn = Frames.TcpFrame(client, sport, dst, dport, Frames.Tcp.Syn, 1, 0);
            var (sv, _, synOut) = Run(full, syn);
            Assert.Equal(Verdict.Forward, sv);
            Assert.Equal(Verdict.Forward, Run(partial, syn).V);
            string backend = Oracle.Ip(synOut).DestinationAddress.ToString(), seen = Oracle.Ip(synOut).SourceAddress.ToString();
            ushort natPort = BinaryPrimitives.ReadUInt16BigEndian(synOut.AsSpan(L4At));
            byte[] synAck = Frames.TcpFrame(backend, 8080, seen, natPort, Frames.Tcp.Syn | Frames.Tcp.Ack, 100, 2);
            Assert.Equal((Verdict.Forward, Verdict.Forward), (Run(full, synAck).V, Run(partial, synAck).V));

            byte[] data = Frames.TcpFrame(client, sport, dst, dport, Frames.Tcp.Ack | Frames.Tcp.Psh, 2, 101, new string('x', payload));
            var (fv, _, expected) = Run(full, data);
            var (pv, got) = RunSegmented(partial, Partial(data));
            Assert.Equal((Verdict.Forward, Verdict.Forward), (fv, pv));
            Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(DeviceCompletes(got, CheckAt)));
            Oracle.AssertChecksums(expected);

            // The backend's answer, a GSO packet the other way: reverse-translated to the client.
            byte[] reply = Frames.TcpFrame(backend, 8080, seen, natPort, Frames.Tcp.Ack | Frames.Tcp.Psh, 101, 2 + (uint)payload, new string('y', payload));
            var (rfv, _, rexpected) = Run(full, reply);
            var (rpv, rgot) = RunSegmented(partial, Partial(reply));
            Assert.Equal((Verdict.Forward, Verdict.Forward), (rfv, rpv));
            Assert.Equal(Convert.ToHexString(rexpected), Convert.ToHexString(DeviceCompletes(rgot, CheckAt)));
        }, iter: 60);
    }

    [Fact]
    public void A_single_frame_with_a_partial_checksum_is_completed_in_software_and_marked_valid()
    {
        Gen.Select(Gen.Int[0, 1400], Gen.UShort[1, 65535], Gen.Bool).Sample((payload, sport, udp) =>
        {
            byte[] full = udp
                ? Frames.UdpFrame("10.244.1.5", sport, "10.96.0.10", 80, new byte[payload])
                : Frames.TcpFrame("10.244.1.5", sport, "10.96.0.10", 80, Frames.Tcp.Ack, 5, 6, new string('t', payload));
            byte[] header = Header(VnetHeader.NeedsCsum, VnetHeader.GsoNone, csumOffset: (ushort)(udp ? 6 : 16));
            byte[] f = Partial(full);
            Assert.Equal(VnetFrame.Completed, VnetHeader.Prepare(header, f));
            Assert.Equal(Convert.ToHexString(full), Convert.ToHexString(f));
            Assert.Equal(VnetHeader.DataValid, header[VnetHeader.FlagsOffset]); // NEEDS_CSUM cleared: nothing left for the device
        }, iter: 100);
    }

    [Fact]
    public void A_completed_udp_checksum_of_zero_is_sent_as_0xffff_not_as_no_checksum()
    {
        // Find a payload whose UDP checksum sums to zero, then check the completion writes CSUM_MANGLED_0 (RFC 768: an
        // all-zero field means "no checksum"; net/core/dev.c skb_checksum_help writes 0xFFFF instead).
        for (int i = 0; i < 70_000; i++)
        {
            byte[] full = Frames.UdpFrame("10.244.1.5", (ushort)(i & 0xFFFF), "10.96.0.10", 80, [(byte)(i >> 16)]);
            byte[] f = Partial(full);
            byte[] zeroed = (byte[])f.Clone();
            BinaryPrimitives.WriteUInt16BigEndian(zeroed.AsSpan(40), 0);
            uint pseudo = Checksum.PseudoHeaderSum(Ip4.Parse("10.244.1.5"), Ip4.Parse("10.96.0.10"), IpProto.Udp, zeroed.Length - L4At);
            if (Checksum.Compute(zeroed.AsSpan(L4At), pseudo) != 0) continue;
            Assert.Equal(VnetFrame.Completed, VnetHeader.Prepare(Header(VnetHeader.NeedsCsum, VnetHeader.GsoNone, csumOffset: 6), f));
            Assert.Equal(0xFFFF, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(40)));
            return;
        }
        Assert.Fail("no frame with a 0xFFFF UDP checksum among the candidates");
    }

    [Fact]
    public void Frames_it_cannot_translate_in_place_are_left_as_read()
    {
        byte[] tcp = Partial(Frames.TcpFrame("10.244.1.5", 4000, "10.96.0.10", 80, Frames.Tcp.Ack, 5, 6, new string('t', 3000)));
        // A GSO type the pipeline does not translate (TCPv6 over an IPv4 frame stands in for an IPv6 one), a checksum
        // start that is not the TCP header, a checksum field past the end, and nothing asked for.
        foreach (byte[] header in new[]
                 {
                     Header(VnetHeader.NeedsCsum, VnetHeader.GsoTcpV6),
                     Header(VnetHeader.NeedsCsum, VnetHeader.GsoTcpV4, csumStart: 14),
                     Header(VnetHeader.NeedsCsum, VnetHeader.GsoTcpV4, csumStart: 60000),
                     Header(VnetHeader.DataValid, VnetHeader.GsoTcpV4),
                 })
        {
            byte[] f = (byte[])tcp.Clone(), h = (byte[])header.Clone();
            Assert.Equal(VnetFrame.Plain, VnetHeader.Prepare(h, f));
            Assert.Equal(tcp, f);
            Assert.Equal(header, h);
        }
        // The ECN bit beside TCPv4 is still TCPv4.
        Assert.Equal(VnetFrame.Segmented, VnetHeader.Prepare(Header(VnetHeader.NeedsCsum, VnetHeader.GsoTcpV4 | VnetHeader.GsoEcn), (byte[])tcp.Clone()));
    }

    [Fact]
    public void Arbitrary_headers_and_frames_never_throw()
    {
        Gen.Select(Gen.Byte.Array[VnetHeader.Size], Gen.Byte.Array[0, 200]).Sample((h, f) =>
        {
            VnetFrame k = VnetHeader.Prepare(h, f);
            if (k == VnetFrame.Segmented) VnetHeader.Finish(h, f);
        }, iter: 5000);
    }
}
