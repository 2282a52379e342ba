using DataPlane.FixtureBuilder;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;
using static DataPlane.FixtureBuilder.SctpFrames;
using static DataPlane.Tests.Infrastructure.TestWorld;

namespace DataPlane.Tests.Sctp;

/// <summary>
/// Issue 18 item 8: one TTL rule for TCP, UDP and SCTP. ip_forward checks the TTL after PREROUTING's DNAT and before
/// the FORWARD hook's REJECT, so TTL 0 or 1 towards a ClusterIP gets ICMP time exceeded quoting the datagram as it
/// arrived, with or without endpoints; a NodePort without endpoints (INPUT) is REJECTed whatever the TTL, quoting the
/// TTL unchanged. Never a port unreachable quoting a decremented (for TTL 0: wrapped to 255) TTL.
/// </summary>
public class SctpTtlTests
{
    const ushort Port = 3868;
    const ushort EmptyNodePort = 30999;
    static readonly uint Vip = Ip4.Parse("10.96.0.10"), EmptyVip = Ip4.Parse("10.96.0.30");

    /// <summary>The same frontends for TCP and SCTP: a ClusterIP with one endpoint, one without, a NodePort without.</summary>
    static PacketPipeline World()
    {
        Assert.True(Cidr4.TryParse("10.244.1.0/24", out var pod));
        Assert.True(Cidr4.TryParse("10.244.0.0/16", out var cluster));
        var b = new MapSetBuilder(new NodeInfo("node-1", Node, [Node, 0x7F000001], pod, [cluster]));
        foreach (byte proto in new[] { IpProto.Tcp, IpProto.Sctp })
        {
            ushort full = b.AddServicePort("default/full:p", Vip, Port, proto);
            ushort empty = b.AddServicePort("default/empty:p", EmptyVip, Port, proto);
            uint be = b.AddBackend(Backend(0), Port, proto);
            b.AddFrontend(new Lb4Key(Vip, Port, proto), full, ServiceFlags.ClusterIp | ServiceFlags.MasqueradeOffCluster, [be]);
            b.AddFrontend(new Lb4Key(EmptyVip, Port, proto), empty, ServiceFlags.ClusterIp | ServiceFlags.MasqueradeOffCluster, []);
            b.AddFrontend(new Lb4Key(Node, EmptyNodePort, proto), empty, ServiceFlags.NodePort | ServiceFlags.MasqueradeAll | ServiceFlags.LocalAddress, []);
        }
        return new PacketPipeline(new MapSetHolder(b.Build(1)), new PipelineOptions { CtCapacity = 1 << 12 });
    }

    static byte[] Opening(byte proto, string src, string dst, ushort dport, byte ttl) => proto == IpProto.Sctp
        ? Frame(src, 40000, dst, dport, 0, Init(0xABCD, 1), ttl: ttl)
        : Frames.TcpFrame(src, 40000, dst, dport, Frames.Tcp.Syn, 1, 0, ttl: ttl);

    /// <summary>What came out: verdict, reason, and for an ICMP answer its type, code, source and quoted TTL.</summary>
    static (Verdict V, DropReason R, int Type, int Code, string? From, int QuotedTtl) Outcome(PacketPipeline p, byte[] f)
    {
        var (v, r, o) = Run(p, f);
        if (v != Verdict.Reject) return (v, r.Reason, -1, -1, null, -1);
        Assert.Equal(0, Frames.InternetChecksum(o.AsSpan(34)));
        byte[] quote = o[(34 + 8)..];
        // The quote is the datagram as it arrived, but for the TTL (and so the header checksum) the FORWARD path's REJECT
        // shows after ip_forward's decrement.
        Assert.Equal(f[(14 + 12)..(14 + 20)], quote[12..20]);
        return (v, r.Reason, o[34], o[35], Oracle.Ip(o).SourceAddress.ToString(), quote[8]);
    }

    [Theory]
    [InlineData((byte)1)]
    [InlineData((byte)0)]
    public void Sctp_with_ttl_0_or_1_gets_the_answer_tcp_gets(byte ttl)
    {
        var p = World();
        const string pod = "10.244.1.5";
        foreach (var (dst, dport, expected) in new (string, ushort, (Verdict, DropReason, int, int, string?, int))[]
        {
            // With endpoints: time exceeded from the ClusterIP (the error is NATed back), quoting the TTL as it arrived.
            ("10.96.0.10", Port, (Verdict.Reject, DropReason.TtlExceeded, 11, 0, "10.96.0.10", ttl)),
            // Without endpoints: still time exceeded, from the pod gateway (no NAT was applied): REJECT never runs.
            ("10.96.0.30", Port, (Verdict.Reject, DropReason.TtlExceeded, 11, 0, "10.244.1.1", ttl)),
            // A NodePort without endpoints is delivered locally and REJECTed, the quoted TTL unchanged (INPUT).
            ("192.168.0.2", EmptyNodePort, (Verdict.Reject, DropReason.None, 3, 3, "192.168.0.2", ttl)),
        })
        {
            var tcp = Outcome(p, Opening(IpProto.Tcp, pod, dst, dport, ttl));
            var sctp = Outcome(p, Opening(IpProto.Sctp, pod, dst, dport, ttl));
            Assert.Equal(expected, tcp);
            Assert.Equal(tcp, sctp);
        }
        Assert.Equal(0, p.Conntrack.Count); // dropped before POSTROUTING: no connection confirmed
    }

    [Fact]
    public void Sctp_ttl_2_without_endpoints_is_rejected_quoting_ttl_1_like_tcp()
    {
        var p = World();
        var tcp = Outcome(p, Opening(IpProto.Tcp, "10.244.1.5", "10.96.0.30", Port, 2));
        var sctp = Outcome(p, Opening(IpProto.Sctp, "10.244.1.5", "10.96.0.30", Port, 2));
        Assert.Equal((Verdict.Reject, DropReason.None, 3, 3, "10.244.1.1", 1), tcp);
        Assert.Equal(tcp, sctp);
    }

    [Fact]
    public void A_tracked_sctp_association_with_ttl_1_gets_time_exceeded_from_the_ClusterIp_and_lives_on()
    {
        var p = World();
        const string c = "10.244.1.5";
        Assert.Equal(Verdict.Forward, Run(p, Frame(c, 40000, "10.96.0.10", Port, 0, Init(0xABCD, 1))).V);
        Assert.Equal(Verdict.Forward, Run(p, Frame(Ip4.Format(Backend(0)), Port, c, 40000, 0xABCD, InitAck(0x1234, 7))).V);
        byte[] late = Frame(c, 40000, "10.96.0.10", Port, 0x1234, CookieEcho(), ttl: 1);
        var (v, r, o) = Run(p, late);
        Assert.Equal((Verdict.Reject, DropReason.TtlExceeded), (v, r.Reason));
        Assert.Equal((11, 0), (o[34], o[35]));
        Assert.Equal("10.96.0.10", Oracle.Ip(o).SourceAddress.ToString());
        Assert.Equal(late[14..], o[(34 + 8)..]);
        // The same chunk with a good TTL still moves the association on.
        Assert.Equal(Verdict.Forward, Run(p, Frame(c, 40000, "10.96.0.10", Port, 0x1234, CookieEcho())).V);
    }
}
