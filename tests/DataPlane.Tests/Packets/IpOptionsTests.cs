using System.Buffers.Binary;
using DataPlane.FixtureBuilder;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;
using static DataPlane.Tests.Infrastructure.TestWorld;

namespace DataPlane.Tests.Packets;

/// <summary>Record Route and Timestamp on a forwarding node (RFC 791; ip_options_compile + ip_forward_options).</summary>
public class IpOptionsTests
{
    static readonly uint Me = Ip4.Parse("192.168.0.2"), Other = Ip4.Parse("10.1.1.1");
    const uint Ms = 12_345_678;

    /// <summary>A 20-byte header (checksum valid) followed by <paramref name="options"/>.</summary>
    static byte[] Header(params byte[] options)
    {
        byte[] h = new byte[20 + options.Length];
        h[0] = (byte)(0x40 | (h.Length / 4));
        h[8] = 64; h[9] = 6;
        options.CopyTo(h, 20);
        ushort c = Frames.InternetChecksum(h); h[10] = (byte)(c >> 8); h[11] = (byte)c;
        return h;
    }

    static byte[] Opt(byte[] h) => h[20..];
    static byte[] B(uint v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];

    [Fact]
    public void Record_route_with_room_records_the_egress_address_and_advances_the_pointer()
    {
        byte[] h = Header([7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1]); // two slots, then NOP padding
        Assert.True(IpOptions.Forward(h, Me, Ms, [Me]));
        Assert.Equal([7, 11, 8, .. B(Me), 0, 0, 0, 0, 1], Opt(h));
        Assert.Equal(0xFFFF, Checksum.Fold(Checksum.Sum(h)));
    }

    [Fact]
    public void Full_record_route_is_left_alone()
    {
        byte[] h = Header([7, 7, 8, 1, 2, 3, 4, 0]);
        byte[] before = (byte[])h.Clone();
        Assert.True(IpOptions.Forward(h, Me, Ms, [Me]));
        Assert.Equal(before, h);
    }

    [Fact]
    public void Timestamp_only_and_with_address()
    {
        byte[] h = Header([68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        Assert.True(IpOptions.Forward(h, Me, Ms, [Me]));
        Assert.Equal([68, 12, 9, 0, .. B(Ms), 0, 0, 0, 0], Opt(h));
        h = Header([68, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        Assert.True(IpOptions.Forward(h, Me, Ms, [Me]));
        Assert.Equal([68, 12, 13, 1, .. B(Me), .. B(Ms)], Opt(h));
        Assert.Equal(0xFFFF, Checksum.Fold(Checksum.Sum(h)));
    }

    [Fact]
    public void Full_timestamp_counts_overflow_and_prespecified_stamps_only_our_slot()
    {
        byte[] h = Header([68, 8, 9, 0x20, 1, 2, 3, 4]);
        Assert.True(IpOptions.Forward(h, Me, Ms, [Me]));
        Assert.Equal([68, 8, 9, 0x30, 1, 2, 3, 4], Opt(h));
        h = Header([68, 12, 5, 3, .. B(Me), 0, 0, 0, 0]);
        Assert.True(IpOptions.Forward(h, Me, Ms, [Me]));
        Assert.Equal([68, 12, 13, 3, .. B(Me), .. B(Ms)], Opt(h));
        h = Header([68, 12, 5, 3, .. B(Other), 0, 0, 0, 0]);
        byte[] before = (byte[])h.Clone();
        Assert.True(IpOptions.Forward(h, Me, Ms, [Me]));
        Assert.Equal(before, h);
    }

    [Theory]
    [InlineData(new byte[] { 7, 12, 4, 0 })]            // length beyond the options
    [InlineData(new byte[] { 7, 3, 3, 0 })]             // pointer below 4
    [InlineData(new byte[] { 7, 3, 4, 7, 3, 4, 0, 0 })] // record route twice
    [InlineData(new byte[] { 68, 8, 9, 0xF0, 0, 0, 0, 0 })] // overflow counter already 15
    [InlineData(new byte[] { 68, 8, 5, 1, 0, 0, 0, 0 })] // address + timestamp slot does not fit
    [InlineData(new byte[] { 130, 1, 0, 0 })]            // option length 1
    public void Options_the_kernel_rejects_leave_the_header_untouched(byte[] options)
    {
        byte[] h = Header(options);
        byte[] before = (byte[])h.Clone();
        Assert.False(IpOptions.Forward(h, Me, Ms, [Me]));
        Assert.Equal(before, h);
    }

    [Fact]
    public void Forwarded_datagram_gets_the_nodes_record_route_entry_and_a_valid_checksum()
    {
        byte[] syn = WithOptions(Syn("10.244.1.5", 40000, "10.96.0.10", 80), [7, 7, 4, 0, 0, 0, 0, 1]);
        var (v, _, o) = Run(NewPipeline(), syn, 1_700_000_000_123_000_000);
        Assert.Equal(Verdict.Forward, v);
        Assert.Equal([7, 7, 8, .. B(Me), 1], o.AsSpan(14 + 20, 8).ToArray());
        Oracle.AssertChecksums(o);
        // Malformed options on a forwarded datagram: dropped with a reason.
        var (v2, r2, _) = Run(NewPipeline(), WithOptions(Syn("10.244.1.5", 40001, "10.96.0.10", 80), [7, 9, 4, 0]));
        Assert.Equal((Verdict.Drop, DropReason.BadIpOptions), (v2, r2.Reason));
    }

    /// <summary>Inserts IPv4 options into an Ethernet + IPv4 frame (IHL, total length and header checksum fixed).</summary>
    public static byte[] WithOptions(byte[] frame, byte[] options)
    {
        byte[] f = [.. frame[..34], .. options, .. frame[34..]];
        f[14] = (byte)(0x40 | (20 + options.Length) / 4);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(16), (ushort)(f.Length - 14));
        f[24] = f[25] = 0;
        ushort c = Frames.InternetChecksum(f.AsSpan(14, 20 + options.Length)); f[24] = (byte)(c >> 8); f[25] = (byte)c;
        return f;
    }
}
