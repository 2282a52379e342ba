using DataPlane.FixtureBuilder;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;
using static DataPlane.Tests.Infrastructure.TestWorld;

namespace DataPlane.Tests.Pipeline;

/// <summary>
/// Issue 18 item 7: an ICMP error is RELATED to the connection it quotes only when it is going where the quoted
/// datagram came from (nf_conntrack_inet_error: outer daddr == the found tuple's destination, the quoted source).
/// Sent anywhere else it is INVALID: dropped ct-invalid when forwarded (kube-proxy's KUBE-FORWARD INVALID drop),
/// passed untranslated when addressed to the node itself (INPUT, where that rule is not).
/// </summary>
public class IcmpErrorDestinationTests
{
    const string Client = "10.244.1.5";

    static (PacketPipeline P, byte[] Fwd) UdpFlow()
    {
        var p = NewPipeline(backends: 1);
        var (v, _, fwd) = Run(p, Frames.UdpFrame(Client, 50001, "10.96.0.10", 80, new byte[8]));
        Assert.Equal(Verdict.Forward, v);
        Assert.Equal(Ip4.Format(Backend(0)), Oracle.Ip(fwd).DestinationAddress.ToString()); // DNAT only: source kept
        return (p, fwd);
    }

    [Theory]
    [InlineData("10.244.1.9")]  // another pod on this node
    [InlineData("10.244.3.7")]  // a pod on another node
    [InlineData("192.168.0.3")] // another node
    public void A_port_unreachable_quoting_a_tracked_flow_but_sent_elsewhere_is_ct_invalid_and_dropped(string to)
    {
        var (p, fwd) = UdpFlow();
        byte[] bogus = Frames.IcmpPortUnreachable(fwd, Ip4.Format(Backend(0)), 9, false, to: to);
        var (v, r, o) = Run(p, bogus);
        Assert.Equal((Verdict.Drop, DropReason.CtInvalid), (v, r.Reason));
        Assert.Empty(o);

        // The connection is untouched, and the same error sent to the flow's client is still translated with it.
        byte[] good = Frames.IcmpPortUnreachable(fwd, Ip4.Format(Backend(0)), 9, false);
        var (vg, _, og) = Run(p, good);
        Assert.Equal(Verdict.Forward, vg);
        var ip = Oracle.Ip(og);
        Assert.Equal(("10.96.0.10", Client), (ip.SourceAddress.ToString(), ip.DestinationAddress.ToString()));
        Assert.Equal("10.96.0.10", new System.Net.IPAddress(og.AsSpan(34 + 8 + 16, 4)).ToString()); // quote un-DNATed
        Assert.Equal(0, Frames.InternetChecksum(og.AsSpan(34)));
        Assert.Equal(1, p.Conntrack.Count);
    }

    [Fact]
    public void Sent_to_the_node_itself_the_mismatched_error_reaches_its_stack_untranslated()
    {
        var (p, fwd) = UdpFlow();
        byte[] toNode = Frames.IcmpPortUnreachable(fwd, Ip4.Format(Backend(0)), 9, false, to: "192.168.0.2");
        var (v, r, _) = Run(p, toNode);
        Assert.Equal((Verdict.Pass, DropReason.None), (v, r.Reason));
        Assert.Equal(0u, r.FlowId);
        byte[] toGateway = Frames.IcmpPortUnreachable(fwd, Ip4.Format(Backend(0)), 9, false, to: "10.244.1.1");
        Assert.Equal(Verdict.Pass, Run(p, toGateway).V);
    }

    [Fact]
    public void A_masqueraded_flow_relates_errors_sent_to_its_masquerade_address_only()
    {
        var p = NewPipeline(backends: 1);
        // An outside client to the NodePort: masqueraded to the node IP, so the backend's errors go to the node IP.
        var (v, _, fwd) = Run(p, Frames.TcpFrame("203.0.113.7", 40000, "192.168.0.2", NodePort, Frames.Tcp.Syn, 1, 0));
        Assert.Equal(Verdict.Forward, v);
        Assert.Equal("192.168.0.2", Oracle.Ip(fwd).SourceAddress.ToString());

        // Sent straight to the client (outer daddr 203.0.113.7, inner saddr 192.168.0.2): INVALID, dropped.
        byte[] bogus = Frames.IcmpPortUnreachable(fwd, Ip4.Format(Backend(0)), 5, false, to: "203.0.113.7");
        Assert.Equal((Verdict.Drop, DropReason.CtInvalid), (Run(p, bogus).V, Run(p, bogus).R.Reason));

        byte[] good = Frames.IcmpPortUnreachable(fwd, Ip4.Format(Backend(0)), 5, false);
        var (vg, _, og) = Run(p, good);
        Assert.Equal(Verdict.Forward, vg);
        Assert.Equal(("192.168.0.2", "203.0.113.7"), (Oracle.Ip(og).SourceAddress.ToString(), Oracle.Ip(og).DestinationAddress.ToString()));
    }
}
