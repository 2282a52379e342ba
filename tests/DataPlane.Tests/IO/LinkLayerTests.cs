using DataPlane.IO.Pcap;

namespace DataPlane.Tests.IO;

/// <summary>
/// <see cref="LinkLayer.ToEthernet"/> against headers laid out by hand from tcpdump.org's link-type pages
/// (LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW, LINKTYPE_NULL, LINKTYPE_LOOP); each expected frame is written
/// out byte by byte here.
/// </summary>
public class LinkLayerTests
{
    static readonly byte[] Mac = [0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE];
    static readonly byte[] Ip4 = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
    static readonly byte[] Ip6 = [0x60, 0, 0, 0, 0, 0, 59, 64, .. new byte[32]];
    static readonly byte[] Zero6 = new byte[6];

    static byte[] Sll(ushort packetType, ushort addressLength, byte[] address, ushort protocol, byte[] payload) =>
        [(byte)(packetType >> 8), (byte)packetType, 0, 1, (byte)(addressLength >> 8), (byte)addressLength,
         .. address, .. new byte[8 - address.Length], (byte)(protocol >> 8), (byte)protocol, .. payload];

    static byte[] Sll2(byte packetType, byte addressLength, byte[] address, ushort protocol, byte[] payload) =>
        [(byte)(protocol >> 8), (byte)protocol, 0, 0, 0, 0, 0, 3, 0, 1, packetType, addressLength,
         .. address, .. new byte[8 - address.Length], .. payload];

    static (LinkFrameKind Kind, byte[] Frame) Convert(LinkType link, byte[] data)
    {
        byte[] dest = new byte[data.Length + LinkLayer.MaxGrowth];
        LinkFrameKind kind = LinkLayer.ToEthernet(link, data, dest, out int length);
        return (kind, dest[..length]);
    }

    static void AssertConverts(LinkType link, byte[] data, LinkFrameKind kind, byte[] expected)
    {
        var (k, frame) = Convert(link, data);
        Assert.Equal(kind, k);
        Assert.Equal(expected, frame);
    }

    [Theory]
    [InlineData(0, LinkFrameKind.Received)]   // PACKET_HOST
    [InlineData(1, LinkFrameKind.Received)]   // PACKET_BROADCAST
    [InlineData(2, LinkFrameKind.Received)]   // PACKET_MULTICAST
    [InlineData(3, LinkFrameKind.Received)]   // PACKET_OTHERHOST
    [InlineData(4, LinkFrameKind.Outgoing)]   // PACKET_OUTGOING
    [InlineData(5, LinkFrameKind.Outgoing)]   // PACKET_LOOPBACK
    public void Sll_frame_becomes_Ethernet_from_its_address_to_zero_and_keeps_its_direction(ushort packetType, LinkFrameKind expected)
    {
        var (kind, frame) = Convert(LinkType.LinuxSll, Sll(packetType, 6, Mac, 0x0800, Ip4));
        Assert.Equal(expected, kind);
        Assert.Equal([.. Zero6, .. Mac, 0x08, 0x00, .. Ip4], frame);
    }

    [Theory]
    [InlineData((byte)0, LinkFrameKind.Received)]
    [InlineData((byte)3, LinkFrameKind.Received)]
    [InlineData((byte)4, LinkFrameKind.Outgoing)]
    public void Sll2_frame_becomes_Ethernet_the_same_way(byte packetType, LinkFrameKind expected)
    {
        var (kind, frame) = Convert(LinkType.LinuxSll2, Sll2(packetType, 6, Mac, 0x86DD, Ip6));
        Assert.Equal(expected, kind);
        Assert.Equal([.. Zero6, .. Mac, 0x86, 0xDD, .. Ip6], frame);
    }

    [Fact]
    public void Cooked_frame_without_a_six_byte_address_gets_a_zero_source_mac()
    {
        // A tun device (ARPHRD_NONE) has no link-layer address: length 0.
        var (_, frame) = Convert(LinkType.LinuxSll, Sll(0, 0, [], 0x0800, Ip4));
        Assert.Equal([.. Zero6, .. Zero6, 0x08, 0x00, .. Ip4], frame);
        var (_, frame2) = Convert(LinkType.LinuxSll2, Sll2(0, 4, [1, 2, 3, 4], 0x0800, Ip4));
        Assert.Equal([.. Zero6, .. Zero6, 0x08, 0x00, .. Ip4], frame2);
    }

    [Theory]
    [InlineData(LinkType.Raw)]
    [InlineData(LinkType.RawDlt12)]
    [InlineData(LinkType.RawDlt14)]
    [InlineData(LinkType.Ipv4)]
    public void Raw_ip_gets_zero_macs_and_the_EtherType_of_its_version(LinkType link)
    {
        AssertConverts(link, Ip4, LinkFrameKind.Received, [.. Zero6, .. Zero6, 0x08, 0x00, .. Ip4]);
        AssertConverts(link, Ip6, LinkFrameKind.Received, [.. Zero6, .. Zero6, 0x86, 0xDD, .. Ip6]);
        AssertConverts(link, [0x50], LinkFrameKind.Received, [.. Zero6, .. Zero6, 0x00, 0x00, 0x50]);
    }

    [Theory]
    [InlineData(LinkType.Null, new byte[] { 2, 0, 0, 0 }, 0x0800)]     // AF_INET written little-endian (x86)
    [InlineData(LinkType.Null, new byte[] { 0, 0, 0, 2 }, 0x0800)]     // AF_INET written big-endian (SPARC, PowerPC)
    [InlineData(LinkType.Loop, new byte[] { 0, 0, 0, 2 }, 0x0800)]     // LOOP: network order
    [InlineData(LinkType.Null, new byte[] { 24, 0, 0, 0 }, 0x86DD)]    // AF_INET6 on NetBSD/OpenBSD
    [InlineData(LinkType.Null, new byte[] { 30, 0, 0, 0 }, 0x86DD)]    // AF_INET6 on Darwin
    [InlineData(LinkType.Null, new byte[] { 99, 0, 0, 0 }, 0x0800)]    // unknown family: by the version nibble
    public void Null_and_loop_read_the_address_family_in_either_order(LinkType link, byte[] family, int etherType)
    {
        byte[] payload = etherType == 0x86DD ? Ip6 : Ip4;
        var (kind, frame) = Convert(link, [.. family, .. payload]);
        Assert.Equal(LinkFrameKind.Received, kind);
        Assert.Equal([.. Zero6, .. Zero6, (byte)(etherType >> 8), (byte)etherType, .. payload], frame);
    }

    [Fact]
    public void Ethernet_is_copied_unchanged()
    {
        byte[] eth = [.. Mac, .. Mac, 0x88, 0xA8, 0, 100, 0x81, 0, 0, 200, 0x08, 0x00, .. Ip4];
        AssertConverts(LinkType.Ethernet, eth, LinkFrameKind.Received, eth);
    }

    [Theory]
    [InlineData(LinkType.LinuxSll, 15)]
    [InlineData(LinkType.LinuxSll2, 19)]
    [InlineData(LinkType.Null, 3)]
    [InlineData(LinkType.Raw, 0)]
    public void Frame_shorter_than_its_link_header_is_truncated_and_writes_nothing(LinkType link, int length)
    {
        AssertConverts(link, new byte[length], LinkFrameKind.Truncated, []);
    }

    [Theory]
    [InlineData((LinkType)147)]    // LINKTYPE_USER0
    [InlineData((LinkType)127)]    // IEEE 802.11 radiotap
    [InlineData(LinkType.Unknown)] // pcapng packet before any interface description
    public void Link_type_not_understood_is_unsupported(LinkType link)
    {
        Assert.False(LinkLayer.IsSupported(link));
        AssertConverts(link, Ip4, LinkFrameKind.Unsupported, []);
    }

    [Fact]
    public void Conversion_allocates_nothing()
    {
        byte[] sll = Sll(0, 6, Mac, 0x0800, Ip4), sll2 = Sll2(4, 6, Mac, 0x0800, Ip4), nul = [2, 0, 0, 0, .. Ip4];
        byte[] dest = new byte[256];
        LinkLayer.ToEthernet(LinkType.LinuxSll, sll, dest, out _); // JIT first
        LinkLayer.ToEthernet(LinkType.LinuxSll2, sll2, dest, out _);
        LinkLayer.ToEthernet(LinkType.Null, nul, dest, out _);
        LinkLayer.ToEthernet(LinkType.Raw, Ip4, dest, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int total = 0;
        for (int i = 0; i < 1000; i++)
        {
            LinkLayer.ToEthernet(LinkType.LinuxSll, sll, dest, out int a);
            LinkLayer.ToEthernet(LinkType.LinuxSll2, sll2, dest, out int b);
            LinkLayer.ToEthernet(LinkType.Null, nul, dest, out int c);
            LinkLayer.ToEthernet(LinkType.Raw, Ip4, dest, out int d);
            total += a + b + c + d;
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1000 * 4 * (14 + Ip4.Length), total);
    }
}
