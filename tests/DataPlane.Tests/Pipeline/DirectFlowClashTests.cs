using DataPlane.FixtureBuilder;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;
using static DataPlane.Tests.Infrastructure.TestWorld;

namespace DataPlane.Tests.Pipeline;

/// <summary>
/// Issue 18 item 9: a pod's direct flow to a backend and its flow through the Service from the same source port have
/// one reply tuple (backend:port -> pod:P). Linux tracks both; the one that comes second gets its source port moved
/// (get_unique_tuple / nf_nat_used_tuple / nf_nat_l4proto_unique_tuple, net/netfilter/nf_nat_core.c), and each
/// socket's replies come back from the address it talks to.
/// </summary>
public class DirectFlowClashTests
{
    const string Pod = "10.244.1.5";
    const ushort P = 40000;
    static string Be => Ip4.Format(Backend(0));

    static byte[] Tcp(string src, ushort sport, string dst, ushort dport, Frames.Tcp flags) =>
        Frames.TcpFrame(src, sport, dst, dport, flags, 100, flags.HasFlag(Frames.Tcp.Ack) ? 7u : 0u);

    static (string Src, ushort Sport, string Dst, ushort Dport) Tuple(byte[] f) =>
        (Oracle.Ip(f).SourceAddress.ToString(), (ushort)(f[34] << 8 | f[35]), Oracle.Ip(f).DestinationAddress.ToString(), (ushort)(f[36] << 8 | f[37]));

    [Fact]
    public void Direct_flow_first_then_the_service_flow_from_the_same_port_gets_a_moved_source_port()
    {
        var p = NewPipeline(backends: 1);
        byte[] direct = Tcp(Pod, P, Be, 8080, Frames.Tcp.Syn);
        var (vd, _, _) = Run(p, direct);
        Assert.Equal(Verdict.Pass, vd); // untouched, as before, but tracked
        Assert.Equal(1, p.Conntrack.Count);

        var (vs, rs, os) = Run(p, Tcp(Pod, P, "10.96.0.10", 80, Frames.Tcp.Syn));
        Assert.Equal(Verdict.Forward, vs);
        var (src, sport, dst, dport) = Tuple(os);
        Assert.Equal((Pod, Be, (ushort)8080), (src, dst, dport)); // DNAT to the backend, the pod's address kept
        Assert.NotEqual(P, sport);                                  // but not its port: backend:8080 -> pod:P is the direct flow's
        Assert.InRange(sport, p.Options.SnatPortMin, p.Options.SnatPortMax);
        Assert.Equal(PipelineOptions.ClassOf(P, p.Options.FlowClasses), PipelineOptions.ClassOf(sport, p.Options.FlowClasses));
        Assert.True(rs.Masqueraded); // the entry is SNATed (port only)
        Oracle.AssertChecksums(os);

        // The backend answers the direct socket: delivered as it came, from the backend.
        byte[] toDirect = Tcp(Be, 8080, Pod, P, Frames.Tcp.Syn | Frames.Tcp.Ack);
        var (v1, _, _) = Run(p, toDirect);
        Assert.Equal(Verdict.Pass, v1);
        // ... and the service socket: from the ClusterIP, to the pod's own port.
        var (v2, _, o2) = Run(p, Tcp(Be, 8080, Pod, sport, Frames.Tcp.Syn | Frames.Tcp.Ack));
        Assert.Equal(Verdict.Forward, v2);
        Assert.Equal(("10.96.0.10", (ushort)80, Pod, P), Tuple(o2));
        Oracle.AssertChecksums(o2);
        // Later packets of each keep to their own connection.
        Assert.Equal(Verdict.Pass, Run(p, Tcp(Pod, P, Be, 8080, Frames.Tcp.Ack)).V);
        var (v3, _, o3) = Run(p, Tcp(Pod, P, "10.96.0.10", 80, Frames.Tcp.Ack));
        Assert.Equal((Verdict.Forward, (Pod, sport, Be, (ushort)8080)), (v3, Tuple(o3)));
        Assert.Equal(2, p.Conntrack.Count);
    }

    [Fact]
    public void Service_flow_first_then_the_direct_flow_from_the_same_port_gets_a_moved_source_port()
    {
        var p = NewPipeline(backends: 1);
        var (vs, _, os) = Run(p, Tcp(Pod, P, "10.96.0.10", 80, Frames.Tcp.Syn));
        Assert.Equal((Verdict.Forward, (Pod, P, Be, (ushort)8080)), (vs, Tuple(os))); // DNAT only, the port kept

        // The direct flow's reply tuple is the service connection's: its null binding moves its source port.
        var (vd, _, od) = Run(p, Tcp(Pod, P, Be, 8080, Frames.Tcp.Syn));
        Assert.Equal(Verdict.Forward, vd);
        var (src, moved, dst, dport) = Tuple(od);
        Assert.Equal((Pod, Be, (ushort)8080), (src, dst, dport));
        Assert.NotEqual(P, moved);
        Assert.Equal(PipelineOptions.ClassOf(P, p.Options.FlowClasses), PipelineOptions.ClassOf(moved, p.Options.FlowClasses));
        Oracle.AssertChecksums(od);

        // Replies: to the service socket from the ClusterIP, to the direct socket from the backend, both to port P.
        var (v1, _, o1) = Run(p, Tcp(Be, 8080, Pod, P, Frames.Tcp.Syn | Frames.Tcp.Ack));
        Assert.Equal((Verdict.Forward, ("10.96.0.10", (ushort)80, Pod, P)), (v1, Tuple(o1)));
        var (v2, _, o2) = Run(p, Tcp(Be, 8080, Pod, moved, Frames.Tcp.Syn | Frames.Tcp.Ack));
        Assert.Equal((Verdict.Forward, (Be, (ushort)8080, Pod, P)), (v2, Tuple(o2)));
        Oracle.AssertChecksums(o2);
    }

    [Fact]
    public void Udp_direct_flow_and_service_flow_each_get_their_own_replies()
    {
        var p = NewPipeline(backends: 1);
        Assert.Equal(Verdict.Pass, Run(p, Frames.UdpFrame(Pod, P, Be, 8080, new byte[4])).V);
        var (vs, _, os) = Run(p, Frames.UdpFrame(Pod, P, "10.96.0.10", 80, new byte[4]));
        Assert.Equal(Verdict.Forward, vs);
        ushort moved = Tuple(os).Sport;
        Assert.NotEqual(P, moved);
        byte[] toDirect = Frames.UdpFrame(Be, 8080, Pod, P, new byte[4]);
        var (v1, _, _) = Run(p, toDirect);
        Assert.Equal(Verdict.Pass, v1); // before: rewritten to come from 10.96.0.10:80
        var (v2, _, o2) = Run(p, Frames.UdpFrame(Be, 8080, Pod, moved, new byte[4]));
        Assert.Equal((Verdict.Forward, ("10.96.0.10", (ushort)80, Pod, P)), (v2, Tuple(o2)));
    }

    [Fact]
    public void A_flow_to_an_address_that_is_no_endpoint_is_not_tracked()
    {
        var p = NewPipeline(backends: 1);
        Assert.Equal(Verdict.Pass, Run(p, Tcp(Pod, P, Be, 9999, Frames.Tcp.Syn)).V);       // the backend's address, another port
        Assert.Equal(Verdict.Pass, Run(p, Tcp(Pod, P, "10.244.3.3", 8080, Frames.Tcp.Syn)).V); // not a backend
        Assert.Equal(0, p.Conntrack.Count);
        // And the service flow keeps its port.
        Assert.Equal((Pod, P, Be, (ushort)8080), Tuple(Run(p, Tcp(Pod, P, "10.96.0.10", 80, Frames.Tcp.Syn)).Out));
    }

    [Fact]
    public void An_icmp_error_about_the_direct_flow_passes_untranslated()
    {
        var p = NewPipeline(backends: 1);
        byte[] direct = Frames.UdpFrame(Pod, P, Be, 8080, new byte[4]);
        Assert.Equal(Verdict.Pass, Run(p, direct).V);
        byte[] err = Frames.IcmpPortUnreachable(direct, Be, 3, false);
        var (v, r, _) = Run(p, err);
        Assert.Equal((Verdict.Pass, DropReason.None), (v, r.Reason));
        // Sent elsewhere, it is INVALID like any error that is not going to the quoted source.
        Assert.Equal(DropReason.CtInvalid, Run(p, Frames.IcmpPortUnreachable(direct, Be, 3, false, to: "10.244.1.9")).R.Reason);
    }

    [Fact]
    public void An_endpoint_added_by_an_incremental_update_is_an_endpoint_too()
    {
        Assert.True(Cidr4.TryParse("10.244.1.0/24", out var pod));
        Assert.True(Cidr4.TryParse("10.244.0.0/16", out var cluster));
        var ids = new IdRegistry();
        var b = new MapSetBuilder(new NodeInfo("node-1", Node, [Node], pod, [cluster]), ids);
        ushort web = b.AddServicePort("default/web:http", Vip, 80, IpProto.Tcp);
        uint first = b.AddBackend(Backend(0), 8080, IpProto.Tcp);
        var key = new Lb4Key(Vip, 80, IpProto.Tcp);
        b.AddFrontend(key, web, ServiceFlags.ClusterIp | ServiceFlags.MasqueradeOffCluster, [first]);
        MapSet full = b.Build(1);
        var d = new MapSetDeltaBuilder(full, ids);
        uint second = d.AddBackend(Backend(1), 8080, IpProto.Tcp);
        d.SetFrontend(key, full.Frontend(key), [first, second]);
        MapSet next = d.Build(2);
        Assert.False(full.IsEndpoint(Backend(1), 8080, IpProto.Tcp));
        Assert.True(next.IsEndpoint(Backend(1), 8080, IpProto.Tcp));
        Assert.True(next.IsEndpoint(Backend(0), 8080, IpProto.Tcp));
        Assert.False(next.IsEndpoint(Backend(1), 8080, IpProto.Udp));

        using var p = new PacketPipeline(new MapSetHolder(next), new PipelineOptions { CtCapacity = 1 << 10 });
        Assert.Equal(Verdict.Pass, Run(p, Tcp(Pod, P, Ip4.Format(Backend(1)), 8080, Frames.Tcp.Syn)).V);
        Assert.Equal(1, p.Conntrack.Count);
    }

    [Fact]
    public void Both_orders_give_the_same_verdicts_and_bytes_with_1_to_4_workers()
    {
        var holder = new MapSetHolder(Build(backends: 3));
        List<(Verdict, byte[])>? reference = null;
        foreach (int n in new[] { 1, 2, 3, 4 })
        {
            var options = new PipelineOptions { CtCapacity = 1 << 10 };
            var workers = Enumerable.Range(0, n).Select(_ => new PacketPipeline(holder, options)).ToArray();
            var steering = new FlowSteering(n, options);
            var outs = new List<(Verdict, byte[])>();
            long now = 1_000_000_000;
            (Verdict, byte[], PacketResult) Step(byte[] frame)
            {
                byte[] buf = (byte[])frame.Clone(), rep = new byte[2048];
                Verdict v = workers[steering.WorkerFor(buf, holder.Current)].Process(buf, now += 1_000_000, rep, out PacketResult r);
                byte[] o = v == Verdict.Forward ? buf[..r.OutLength] : [];
                outs.Add((v, o));
                return (v, o, r);
            }
            for (int i = 0; i < 3; i++)
            {
                string be = Ip4.Format(Backend(i));
                ushort port = (ushort)(41000 + 7 * i);
                // Direct first, then through the Service (which picks some backend: replies go to what left).
                Step(Tcp(Pod, port, be, 8080, Frames.Tcp.Syn));
                var (_, svcOut, _) = Step(Tcp(Pod, port, "10.96.0.10", 80, Frames.Tcp.Syn));
                var (s, sp, d, dp) = Tuple(svcOut);
                Step(Tcp(d, dp, s, sp, Frames.Tcp.Syn | Frames.Tcp.Ack));
                Step(Tcp(be, 8080, Pod, port, Frames.Tcp.Syn | Frames.Tcp.Ack));
                // Service first, then direct to the backend the Service chose.
                ushort port2 = (ushort)(port + 1000);
                var (_, svc2, _) = Step(Tcp(Pod, port2, "10.96.0.10", 80, Frames.Tcp.Syn));
                var (_, dir2, _) = Step(Tcp(Pod, port2, Tuple(svc2).Dst, 8080, Frames.Tcp.Syn));
                var (s2, sp2, d2, dp2) = Tuple(dir2);
                Step(Tcp(d2, dp2, s2, sp2, Frames.Tcp.Syn | Frames.Tcp.Ack));
            }
            foreach (var w in workers) w.Dispose();
            if (reference is null) reference = outs;
            else
            {
                Assert.Equal(reference.Count, outs.Count);
                for (int i = 0; i < outs.Count; i++)
                {
                    Assert.Equal(reference[i].Item1, outs[i].Item1);
                    Assert.True(reference[i].Item2.AsSpan().SequenceEqual(outs[i].Item2), $"{n} workers: frame {i} differs");
                }
            }
        }
        Assert.Contains(reference!, o => o.Item1 == Verdict.Pass); // the direct flow's replies were passed untranslated
    }
}
