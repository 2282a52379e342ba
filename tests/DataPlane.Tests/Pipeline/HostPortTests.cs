using System.Buffers.Binary;
using DataPlane.FixtureBuilder;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;
using static DataPlane.Tests.Infrastructure.TestWorld;

namespace DataPlane.Tests.Pipeline;

/// <summary>The node's own answer on its addresses for ports nothing serves (tcp_v4_send_reset, icmp_send), and --host-ports.</summary>
public class HostPortTests
{
    const string Client = "203.0.113.2", NodeIp = "192.168.0.2";

    static PacketPipeline P(string? hostPorts = null) => NewPipeline(3, new PipelineOptions
    {
        CtCapacity = 1 << 10,
        HostPorts = hostPorts is null ? HostPortSet.Default : HostPortSet.Parse(hostPorts),
    });

    static (byte Flags, uint Seq, uint Ack) Tcp(byte[] f) =>
        (f[14 + 20 + 13], BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(14 + 20 + 4)), BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(14 + 20 + 8)));

    [Fact]
    public void Syn_to_a_closed_node_port_gets_rst_ack_with_seq_0_and_ack_seq_plus_1()
    {
        byte[] syn = Frames.TcpFrame(Client, 40000, NodeIp, 31999, Frames.Tcp.Syn, 1000, 0);
        var (v, r, o) = Run(P(), syn);
        Assert.Equal(Verdict.Reject, v);
        Assert.Equal(IpProto.Tcp, r.OutProto);
        Oracle.AssertChecksums(o);
        Assert.Equal(((byte)(L4.TcpRst | L4.TcpAck), 0u, 1001u), Tcp(o));
        var ip = Oracle.Ip(o);
        Assert.Equal((NodeIp, Client, 64, (ushort)0), (ip.SourceAddress.ToString(), ip.DestinationAddress.ToString(), ip.TimeToLive, ip.Id));
        Assert.Equal(0x4000, BinaryPrimitives.ReadUInt16BigEndian(o.AsSpan(14 + 6)));                      // DF
        var tcp = ip.Extract<PacketDotNet.TcpPacket>()!;
        Assert.Equal((31999, 40000, 0, 20), (tcp.SourcePort, tcp.DestinationPort, tcp.WindowSize, tcp.DataOffset * 4));
        Assert.Equal(syn.AsSpan(0, 6).ToArray(), o.AsSpan(6, 6).ToArray());                              // MACs swapped
    }

    [Fact]
    public void Segment_with_ack_gets_a_bare_rst_with_seq_equal_to_its_ack()
    {
        byte[] seg = Frames.TcpFrame(Client, 40001, NodeIp, 31999, Frames.Tcp.Ack | Frames.Tcp.Psh, 500, 777_000, "hello");
        var (v, _, o) = Run(P(), seg);
        Assert.Equal(Verdict.Reject, v);
        Assert.Equal((L4.TcpRst, 777_000u, 0u), Tcp(o));
    }

    [Fact]
    public void Fin_with_data_without_ack_counts_payload_and_fin()
    {
        byte[] seg = Frames.TcpFrame(Client, 40002, NodeIp, 31999, Frames.Tcp.Fin, 100, 0, "abc");
        Assert.Equal(((byte)(L4.TcpRst | L4.TcpAck), 0u, 104u), Tcp(Run(P(), seg).Out));
    }

    [Fact]
    public void A_reset_is_never_answered_and_ecn_bits_are_cleared_from_the_tos()
    {
        Assert.Equal(Verdict.Pass, Run(P(), Frames.TcpFrame(Client, 40003, NodeIp, 31999, Frames.Tcp.Rst, 1, 0)).V);
        byte[] syn = Frames.TcpFrame(Client, 40004, NodeIp, 31999, Frames.Tcp.Syn, 1, 0);
        syn[15] = 0x13; // DSCP 4 + ECT(1)... with the ECN bits set
        syn[24] = syn[25] = 0;
        ushort c = Frames.InternetChecksum(syn.AsSpan(14, 20)); syn[24] = (byte)(c >> 8); syn[25] = (byte)c;
        Assert.Equal(0x10, Run(P(), syn).Out[15]);
    }

    [Theory]
    [InlineData(22, null, Verdict.Pass)]            // sshd: a default host port
    [InlineData(10250, null, Verdict.Pass)]         // the kubelet
    [InlineData(10256, null, Verdict.Pass)]         // kube-proxy's health check
    [InlineData(22, "none", Verdict.Reject)]        // nothing served at all
    [InlineData(8443, "8000-9000/tcp", Verdict.Pass)]
    [InlineData(NodePort, "none", Verdict.Forward)] // a NodePort is a service, whatever --host-ports says
    public void Host_ports_decide_what_the_node_serves(int port, string? spec, Verdict expected) =>
        Assert.Equal(expected, Run(P(spec), Frames.TcpFrame(Client, 40005, NodeIp, (ushort)port, Frames.Tcp.Syn, 1, 0)).V);

    [Fact]
    public void Udp_to_a_closed_node_port_gets_icmp_port_unreachable_from_the_node_quoting_ttl_unchanged()
    {
        byte[] dgram = Frames.UdpFrame(Client, 40006, NodeIp, 9999, [1, 2, 3, 4]);
        var (v, r, o) = Run(P(), dgram);
        Assert.Equal(Verdict.Reject, v);
        Assert.Equal(IpProto.Icmp, r.OutProto);
        ushort id = BinaryPrimitives.ReadUInt16BigEndian(o.AsSpan(14 + 4)); // the seeded ICMP id counter
        Assert.Equal(Frames.IcmpPortUnreachable(dgram, NodeIp, id, decrementQuotedTtl: false), o);
        Assert.Equal(Verdict.Pass, Run(P("53/udp"), Frames.UdpFrame(Client, 40007, NodeIp, 53, [1])).V);
    }

    [Fact]
    public void Traffic_to_addresses_that_are_not_the_nodes_still_passes()
    {
        Assert.Equal(Verdict.Pass, Run(P("none"), Frames.TcpFrame(Client, 40008, "10.0.0.1", 31999, Frames.Tcp.Syn, 1, 0)).V);
        Assert.Equal(Verdict.Pass, Run(P("none"), Frames.UdpFrame(Client, 40009, "10.0.0.1", 9999, [1])).V);
        Assert.Equal(Verdict.Pass, Run(P("none"), Frames.TcpFrame("127.0.0.1", 40010, "127.0.0.1", 31999, Frames.Tcp.Syn, 1, 0)).V); // loopback
    }

    [Theory]
    [InlineData("22/tcp,53/udp", true)]
    [InlineData("none", true)]
    [InlineData("30000-30100", true)]
    [InlineData("0/tcp", false)]
    [InlineData("22/sctp", false)]
    [InlineData("9-1/tcp", false)]
    [InlineData("ssh", false)]
    public void Host_port_specs_parse_strictly(string spec, bool ok) => Assert.Equal(ok, HostPortSet.TryParse(spec, out _, out _));
}
