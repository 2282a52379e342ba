using DataPlane.IO.Text;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Tests.Text;

/// <summary>
/// The ct and nat listings in process: a NodePort connection to <see cref="TextWorld"/>'s web (one local endpoint,
/// 10.244.1.2:8080) walked through the TCP states conntrack -L names, each listed at the packet clock.
/// </summary>
public class ConntrackListingTests
{
    const long Sec = 1_000_000_000;
    static readonly TextWorld W = new();
    static readonly uint Client = Ip4.Parse("203.0.113.2"), Node = Ip4.Parse("192.168.0.2"), Backend = Ip4.Parse("10.244.1.2");

    static PacketPipeline NewPipeline() => new(new MapSetHolder(W.Maps), new PipelineOptions { Seed = 1, CtCapacity = 16 });

    static Verdict Send(PacketPipeline p, uint src, ushort sport, uint dst, ushort dport, byte flags, long at)
    {
        byte[] frame = new byte[128], reply = new byte[1024];
        int len = FrameBuilder.Write(frame, IpProto.Tcp, src, sport, dst, dport, flags);
        return p.Process(frame.AsSpan(0, len), at, reply, out PacketResult _);
    }

    static string Ct(PacketPipeline p, long at)
    {
        var w = new StringWriter { NewLine = "\n" };
        ConntrackListing.WriteCt(w, p.Conntrack, p.Maps, at);
        return w.ToString();
    }

    static string Nat(PacketPipeline p, long at)
    {
        var w = new StringWriter { NewLine = "\n" };
        ConntrackListing.WriteNat(w, p.Conntrack, at);
        return w.ToString();
    }

    /// <summary>The SNAT address: the node's address towards the local pod (the first of its pod CIDR); the client's port is kept.</summary>
    const string Snat = "10.244.1.1";

    static string Row(long left, string state, string flag) =>
        $"tcp      6 {left} {state} src=203.0.113.2 dst=192.168.0.2 sport=40001 dport=30080 src=10.244.1.2 dst={Snat} sport=8080 dport=40001 {flag} " +
        "backend=10.244.1.2:8080 service=default/web:http flow=2\n"; // the first connection of flow class 40001 mod 64 = 1

    [Fact]
    public void A_tcp_connection_is_listed_with_the_state_and_seconds_left_conntrack_L_would_show()
    {
        PacketPipeline p = NewPipeline();
        uint snat = Ip4.Parse(Snat);
        Assert.Equal(Verdict.Forward, Send(p, Client, 40001, Node, 30080, L4.TcpSyn, 1 * Sec));
        Assert.Equal(Row(60, "SYN_SENT", "[UNREPLIED]"), Ct(p, 1 * Sec));
        Assert.Equal(Row(55, "SYN_SENT", "[UNREPLIED]"), Ct(p, 6 * Sec)); // seconds left count down on the clock given

        Assert.Equal(Verdict.Forward, Send(p, Backend, 8080, snat, 40001, L4.TcpSyn | L4.TcpAck, 2 * Sec));
        // A reply moves the entry to the established lifetime (ConntrackStage.Update), and SEEN_REPLY makes it ASSURED.
        Assert.Equal(Row(21600, "SYN_RECV", "[ASSURED]"), Ct(p, 2 * Sec));
        Assert.Equal(Verdict.Forward, Send(p, Client, 40001, Node, 30080, L4.TcpAck, 3 * Sec));
        Assert.Equal(Row(21600, "ESTABLISHED", "[ASSURED]"), Ct(p, 3 * Sec));
        Assert.Equal(Verdict.Forward, Send(p, Client, 40001, Node, 30080, L4.TcpFin | L4.TcpAck, 4 * Sec));
        Assert.Equal(Row(21600, "FIN_WAIT", "[ASSURED]"), Ct(p, 4 * Sec));
        Assert.Equal(Verdict.Forward, Send(p, Backend, 8080, snat, 40001, L4.TcpFin | L4.TcpAck, 5 * Sec));
        Assert.Equal(Row(10, "TIME_WAIT", "[ASSURED]"), Ct(p, 5 * Sec));

        Assert.Equal($"TCP OUT 203.0.113.2:40001 -> 10.244.1.2:8080 XLATE_SRC {Snat}:40001\n" +
                     $"TCP IN 10.244.1.2:8080 -> {Snat}:40001 XLATE_DST 203.0.113.2:40001\n", Nat(p, 5 * Sec));
        Assert.Equal("", Ct(p, 15 * Sec)); // expired: gone from the listing whether or not the GC reached it
        Assert.Equal(0, ConntrackListing.LiveCount(p.Conntrack, 15 * Sec));
    }

    [Fact]
    public void A_connection_the_client_closes_first_and_a_reset_one()
    {
        PacketPipeline p = NewPipeline();
        Send(p, Client, 40001, Node, 30080, L4.TcpSyn, 1 * Sec);
        Send(p, Backend, 8080, Ip4.Parse(Snat), 40001, L4.TcpFin | L4.TcpAck, 1 * Sec);
        Assert.Equal(Row(21600, "CLOSE_WAIT", "[ASSURED]"), Ct(p, 1 * Sec));
        Send(p, Client, 40001, Node, 30080, L4.TcpRst, 1 * Sec);
        Assert.Equal(Row(10, "CLOSE", "[ASSURED]"), Ct(p, 1 * Sec));
    }

    [Fact]
    public void Replay_dumps_head_each_table_and_list_every_worker_in_order()
    {
        PacketPipeline[] workers = [NewPipeline(), NewPipeline()];
        Send(workers[0], Client, 40001, Node, 30080, L4.TcpSyn, 1 * Sec);
        var ct = new StringWriter { NewLine = "\n" };
        ConntrackListing.WriteCtSection(ct, workers, 1 * Sec);
        Assert.Equal("conntrack table:\n" + Row(60, "SYN_SENT", "[UNREPLIED]"), ct.ToString());

        Send(workers[1], Client, 40002, Node, 30080, L4.TcpSyn, 1 * Sec);
        Assert.Contains("sport=40002", Ct(workers[1], 1 * Sec));
        ct = new StringWriter { NewLine = "\n" };
        ConntrackListing.WriteCtSection(ct, workers, 1 * Sec);
        Assert.Equal("conntrack table:\n" + Ct(workers[0], 1 * Sec) + Ct(workers[1], 1 * Sec), ct.ToString());
        var nat = new StringWriter { NewLine = "\n" };
        ConntrackListing.WriteNatSection(nat, workers, 1 * Sec);
        Assert.Equal("nat table:\n" + Nat(workers[0], 1 * Sec) + Nat(workers[1], 1 * Sec), nat.ToString());
        Assert.Equal(5, nat.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // heading, OUT and IN of each

        var empty = new StringWriter { NewLine = "\n" };
        ConntrackListing.WriteCtSection(empty, [NewPipeline()], 1 * Sec);
        Assert.Equal("conntrack table:\n", empty.ToString());
    }
}
