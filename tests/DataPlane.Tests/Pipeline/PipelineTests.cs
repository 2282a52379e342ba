using DataPlane.FixtureBuilder;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;
using static DataPlane.Tests.Infrastructure.TestWorld;

namespace DataPlane.Tests.Pipeline;

public class PipelineTests
{
    static byte[] Reply(byte[] forwarded, Frames.Tcp flags = Frames.Tcp.Syn | Frames.Tcp.Ack)
    {
        var ip = Oracle.Ip(forwarded);
        var tcp = ip.Extract<PacketDotNet.TcpPacket>()!;
        return Frames.TcpFrame(ip.DestinationAddress.ToString(), tcp.DestinationPort, ip.SourceAddress.ToString(), tcp.SourcePort, flags, 77, 2);
    }

    [Theory]
    [InlineData(Frames.Tcp.Ack)]
    [InlineData(Frames.Tcp.Fin | Frames.Tcp.Ack)]
    [InlineData(Frames.Tcp.Psh | Frames.Tcp.Ack)]
    public void An_ack_while_in_syn_sent_is_invalid_and_dropped_without_touching_the_entry(Frames.Tcp flags)
    {
        var p = NewPipeline(backends: 1);
        var (_, _, o) = Run(p, Syn("10.244.1.5", 40000, "10.96.0.10", 80), nowNs: 1_000_000_000);
        byte[] early = Frames.TcpFrame("10.244.1.5", 40000, "10.96.0.10", 80, flags, 2, 78);
        var (v, r, _) = Run(p, early, nowNs: 2_000_000_000);
        Assert.Equal(Verdict.Drop, v);
        Assert.Equal(DropReason.CtInvalid, r.Reason);
        // Still SYN_SENT on its SYN lifetime: the invalid packet neither advanced nor refreshed it.
        int i = Enumerable.Range(0, p.Conntrack.Capacity).First(k => (p.Conntrack[k].Flags & CtFlags.Live) != 0);
        Assert.Equal(Frames.Tcp.Syn, (Frames.Tcp)p.Conntrack[i].TcpFlagsOriginal);
        Assert.Equal(1_000_000_000 + 60_000_000_000L, p.Conntrack[i].ExpiresNs);
        // A retransmitted SYN is fine; once the SYN-ACK is seen the same ACK goes through.
        Assert.Equal(Verdict.Forward, Run(p, Syn("10.244.1.5", 40000, "10.96.0.10", 80), nowNs: 3_000_000_000).V);
        Assert.Equal(Verdict.Forward, Run(p, Reply(o), nowNs: 4_000_000_000).V);
        Assert.Equal(Verdict.Forward, Run(p, early, nowNs: 5_000_000_000).V);
    }

    [Fact]
    public void An_ack_for_an_unknown_flow_is_picked_up_mid_stream()
    {
        // nf_conntrack_tcp_loose=1: only an ACK inside a SYN_SENT connection is invalid, not one without a connection.
        var p = NewPipeline(backends: 1);
        var (v, _, _) = Run(p, Frames.TcpFrame("10.244.1.5", 40001, "10.96.0.10", 80, Frames.Tcp.Ack, 2, 78));
        Assert.Equal(Verdict.Forward, v);
    }

    [Fact]
    public void ClusterIp_syn_is_dnated_and_its_reply_reverse_translated()
    {
        var p = NewPipeline(backends: 1);
        var (v, r, o) = Run(p, Syn("10.244.1.5", 40000, "10.96.0.10", 80));
        Assert.Equal(Verdict.Forward, v);
        Assert.False(r.Masqueraded);
        var ip = Oracle.Ip(o);
        Assert.Equal("10.244.1.5", ip.SourceAddress.ToString());
        Assert.Equal(Ip4.Format(Backend(0)), ip.DestinationAddress.ToString());
        Assert.Equal(8080, ip.Extract<PacketDotNet.TcpPacket>()!.DestinationPort);
        Assert.Equal(63, ip.TimeToLive);
        Oracle.AssertChecksums(o);

        var (v2, r2, o2) = Run(p, Reply(o));
        Assert.Equal(Verdict.Forward, v2);
        Assert.Equal(CtDirection.Reply, r2.Direction);
        var back = Oracle.Ip(o2);
        Assert.Equal("10.96.0.10", back.SourceAddress.ToString());
        Assert.Equal(80, back.Extract<PacketDotNet.TcpPacket>()!.SourcePort);
        Assert.Equal("10.244.1.5", back.DestinationAddress.ToString());
        Oracle.AssertChecksums(o2);
    }

    [Fact]
    public void Off_cluster_source_to_ClusterIp_is_masqueraded_pod_source_is_not()
    {
        var p = NewPipeline(backends: 1);
        Assert.True(Run(p, Syn("192.168.7.7", 40000, "10.96.0.10", 80)).R.Masqueraded);
        Assert.False(Run(p, Syn("10.244.9.9", 40000, "10.96.0.10", 80)).R.Masqueraded);
    }

    [Fact]
    public void Hairpin_is_masqueraded()
    {
        var p = NewPipeline(backends: 1);
        var (v, r, o) = Run(p, Syn(Ip4.Format(Backend(0)), 40000, "10.96.0.10", 80));
        Assert.Equal(Verdict.Forward, v);
        Assert.True(r.Masqueraded);
        Assert.Equal("192.168.0.2", Oracle.Ip(o).SourceAddress.ToString());
    }

    [Fact]
    public void NodePort_is_dnated_and_masqueraded_and_replies_undo_both()
    {
        var p = NewPipeline(backends: 1);
        var (v, r, o) = Run(p, Syn("203.0.113.2", 1025, "192.168.0.2", NodePort));
        Assert.Equal(Verdict.Forward, v);
        Assert.True(r.Masqueraded);
        var ip = Oracle.Ip(o);
        var tcp = ip.Extract<PacketDotNet.TcpPacket>()!;
        Assert.Equal("192.168.0.2", ip.SourceAddress.ToString());
        // 1025 is outside the SNAT range 32768-65535, so a port from the range is chosen.
        Assert.InRange(tcp.SourcePort, 32768, 65535);
        Oracle.AssertChecksums(o);
        var (v2, _, o2) = Run(p, Reply(o));
        Assert.Equal(Verdict.Forward, v2);
        var back = Oracle.Ip(o2);
        var bt = back.Extract<PacketDotNet.TcpPacket>()!;
        Assert.Equal(("192.168.0.2", NodePort, "203.0.113.2", (ushort)1025),
            (back.SourceAddress.ToString(), bt.SourcePort, back.DestinationAddress.ToString(), bt.DestinationPort));
        Oracle.AssertChecksums(o2);
    }

    [Fact]
    public void Every_packet_of_a_flow_reaches_the_same_backend()
    {
        var p = NewPipeline(backends: 10);
        for (int flow = 0; flow < 50; flow++)
        {
            ushort port = (ushort)(40000 + flow);
            var (_, r0, o0) = Run(p, Syn("10.244.1.5", port, "10.96.0.10", 80));
            uint first = r0.Backend.Address;
            Assert.Equal(first, Run(p, Reply(o0)).R.Backend.Address); // the SYN-ACK: established
            for (int i = 0; i < 5; i++)
            {
                byte[] ack = Frames.TcpFrame("10.244.1.5", port, "10.96.0.10", 80, Frames.Tcp.Ack, 2, 2);
                Assert.Equal(first, Run(p, ack).R.Backend.Address);
            }
        }
    }

    [Fact]
    public void Selection_is_deterministic_per_seed_and_spreads_over_backends()
    {
        uint[] Backends(ulong seed)
        {
            var p = NewPipeline(10, new PipelineOptions { CtCapacity = 1 << 12, Seed = seed });
            return Enumerable.Range(0, 200).Select(i => Run(p, Syn("10.244.1.5", (ushort)(30000 + i), "10.96.0.10", 80)).R.Backend.Address).ToArray();
        }
        Assert.Equal(Backends(1), Backends(1));
        Assert.NotEqual(Backends(1), Backends(2));
        Assert.Equal(10, Backends(1).Distinct().Count());
    }

    [Fact]
    public void No_endpoints_rejects_with_icmp_port_unreachable()
    {
        var p = NewPipeline();
        byte[] syn = Syn("10.244.1.5", 40000, "10.96.0.30", 80);
        var (v, r, o) = Run(p, syn);
        Assert.Equal(Verdict.Reject, v);
        Assert.Equal("default/empty:http", p.Maps.ServiceNames[r.RevNatIndex]);
        var ip = Oracle.Ip(o);
        var icmp = ip.Extract<PacketDotNet.IcmpV4Packet>()!;
        Assert.Equal(PacketDotNet.IcmpV4TypeCode.UnreachablePort, icmp.TypeCode);
        Assert.Equal("10.244.1.1", ip.SourceAddress.ToString()); // pod gateway: the sender is in node-1's pod CIDR
        Assert.Equal("10.244.1.5", ip.DestinationAddress.ToString());
        Assert.Equal(64, ip.TimeToLive);
        Assert.Equal(0xC0, ip.TypeOfService);
        Oracle.AssertChecksums(o);
    }

    [Fact]
    public void Non_service_traffic_and_icmp_pass_untouched()
    {
        var p = NewPipeline();
        Assert.Equal(Verdict.Pass, Run(p, Syn("10.244.1.5", 40000, "10.96.0.10", 81)).V);
        Assert.Equal(Verdict.Pass, Run(p, Syn("10.244.1.5", 40000, "8.8.8.8", 443)).V);
        Assert.Equal(0, p.Conntrack.Count);
    }

    [Fact]
    public void Snat_port_exhaustion_drops_instead_of_colliding()
    {
        var o = new PipelineOptions { CtCapacity = 1 << 8, SnatPortMin = 40000, SnatPortMax = 40003 };
        var p = NewPipeline(backends: 1, o);
        var verdicts = Enumerable.Range(0, 6).Select(i => Run(p, Syn($"203.0.113.{i + 1}", 40000, "192.168.0.2", NodePort))).ToArray();
        Assert.All(verdicts[..4], x => Assert.Equal(Verdict.Forward, x.V));
        Assert.All(verdicts[4..], x => Assert.Equal(DropReason.NatPortExhausted, x.R.Reason));
        Assert.Equal(4, verdicts[..4].Select(x => x.R.OutSrcPort).Distinct().Count());
        Assert.Equal(2, p.Counters.Reasons(DropReason.NatPortExhausted));
    }

    [Fact]
    public void A_full_conntrack_drops_new_flows_and_keeps_established_ones()
    {
        var p = NewPipeline(backends: 1, new PipelineOptions { CtCapacity = 2 });
        var (v1, _, o1) = Run(p, Syn("10.244.1.5", 1, "10.96.0.10", 80));
        Assert.Equal(Verdict.Forward, v1);
        Assert.Equal(Verdict.Forward, Run(p, Syn("10.244.1.5", 2, "10.96.0.10", 80)).V);
        Assert.Equal(DropReason.CtFull, Run(p, Syn("10.244.1.5", 3, "10.96.0.10", 80)).R.Reason);
        Assert.Equal(Verdict.Forward, Run(p, Reply(o1)).V);
        Assert.Equal(Verdict.Forward, Run(p, Frames.TcpFrame("10.244.1.5", 1, "10.96.0.10", 80, Frames.Tcp.Ack, 2, 2)).V);
    }

    [Fact]
    public void An_expired_udp_flow_is_a_new_flow()
    {
        var p = NewPipeline(backends: 1);
        byte[] d = Frames.UdpFrame("10.244.1.5", 5000, "10.96.0.10", 80, [1]);
        uint f1 = Run(p, d, nowNs: 1_000_000_000).R.FlowId;
        Assert.Equal(f1, Run(p, d, nowNs: 30_000_000_000).R.FlowId);      // within 60 s of the last packet
        Assert.NotEqual(f1, Run(p, d, nowNs: 100_000_000_000).R.FlowId);  // 70 s idle: expired, re-created
        Assert.Equal(1, p.Conntrack.Count);
    }

    [Fact]
    public void Established_flows_survive_a_map_swap()
    {
        var holder = new MapSetHolder(Build(backends: 1));
        var p = new PacketPipeline(holder, new PipelineOptions { CtCapacity = 64 });
        var (_, r0, o0) = Run(p, Syn("10.244.1.5", 40000, "10.96.0.10", 80));
        uint b = r0.Backend.Address;
        Run(p, Reply(o0));
        holder.Publish(Build(backends: 5));
        for (int i = 0; i < 10; i++)
            Assert.Equal(b, Run(p, Frames.TcpFrame("10.244.1.5", 40000, "10.96.0.10", 80, Frames.Tcp.Ack, 2, 2)).R.Backend.Address);
    }

    [Fact]
    public void Ttl_one_is_not_forwarded()
    {
        var p = NewPipeline();
        byte[] f = Frames.TcpFrame("10.244.1.5", 1, "10.96.0.10", 80, Frames.Tcp.Syn, 1, 0, ttl: 1);
        Assert.Equal(DropReason.TtlExceeded, Run(p, f).R.Reason);
        Assert.Equal(0, p.Conntrack.Count);
    }

    [Fact]
    public void Incremental_gc_collects_expired_flows_a_few_slots_per_packet()
    {
        var p = NewPipeline(backends: 2, new PipelineOptions { CtCapacity = 256, GcSlotsPerPacket = 4 });
        for (int i = 0; i < 100; i++)
            Run(p, Frames.UdpFrame("10.244.1.5", (ushort)(20000 + i), "10.96.0.10", 80, [1]), nowNs: 1_000_000_000);
        Assert.Equal(100, p.Conntrack.Count);
        // 61 s later every flow has expired; unrelated traffic drives the collector: 256 slots / 4 per packet = 64
        // packets for a whole sweep (in steps of 16 packets).
        for (int i = 0; i < 16; i++)
            Run(p, Syn("10.244.1.5", 1, "8.8.8.8", 53), nowNs: 62_000_000_000);
        Assert.True(p.Conntrack.Count > 0, "16 packets inspect 64 slots: not a whole sweep");
        for (int i = 16; i < 64 + 16; i++)
            Run(p, Syn("10.244.1.5", 1, "8.8.8.8", 53), nowNs: 62_000_000_000);
        Assert.Equal(0, p.Conntrack.Count);
    }

    [Fact]
    public void Gc_leaves_live_flows_alone()
    {
        var p = NewPipeline(backends: 1, new PipelineOptions { CtCapacity = 64, GcSlotsPerPacket = 4 });
        Run(p, Frames.UdpFrame("10.244.1.5", 20000, "10.96.0.10", 80, [1]), nowNs: 1_000_000_000);
        Run(p, Frames.UdpFrame("10.244.1.5", 20001, "10.96.0.10", 80, [1]), nowNs: 50_000_000_000);
        for (int i = 0; i < 16; i++)
            Run(p, Syn("10.244.1.5", 1, "8.8.8.8", 53), nowNs: 70_000_000_000); // first expired (69 s idle), second not
        Assert.Equal(1, p.Conntrack.Count);
    }
}
