using CsCheck;
using DataPlane.FixtureBuilder;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Pipeline;

/// <summary>
/// Several workers, each owning its conntrack: every reply (after DNAT and SNAT) must be steered to the worker that
/// created the connection, and be translated back by it.
/// </summary>
public class FlowSteeringTests
{
    static readonly Gen<(int Workers, int Kind, uint Client, ushort Port)> Flows =
        Gen.Select(Gen.Int[2, 16], Gen.Int[0, 2], Gen.UInt[1, 250], Gen.UShort[1024, 65535]);

    [Fact]
    public void Replies_reach_the_worker_that_owns_the_connection_and_are_translated_back()
    {
        Flows.Sample(f =>
        {
            var (w, kind, host, port) = f;
            var holder = new MapSetHolder(TestWorld.Build(backends: 5));
            var options = new PipelineOptions { CtCapacity = 1 << 10 };
            var workers = Enumerable.Range(0, w).Select(_ => new PacketPipeline(holder, options)).ToArray();
            var steering = new FlowSteering(w, options);
            // 0: pod -> ClusterIP (DNAT only); 1: external -> NodePort (DNAT + SNAT to the node); 2: off-cluster -> ClusterIP (SNAT).
            (string src, string dst, ushort dport) = kind switch
            {
                0 => ($"10.244.1.{host}", "10.96.0.10", (ushort)80),
                1 => ($"203.0.113.{host}", "192.168.0.2", TestWorld.NodePort),
                _ => ($"172.16.0.{host}", "10.96.0.10", (ushort)80),
            };
            byte[] syn = Frames.TcpFrame(src, port, dst, dport, Frames.Tcp.Syn, 1, 0);
            int owner = steering.WorkerFor(syn, holder.Current);
            var (v, r, o) = TestWorld.Run(workers[owner], syn);
            Assert.Equal(Verdict.Forward, v);
            // The backend answers the translated SYN: swap the output's addresses and ports.
            byte[] reply = Frames.TcpFrame(Ip4.Format(r.OutDstIp), r.OutDstPort, Ip4.Format(r.OutSrcIp), r.OutSrcPort, Frames.Tcp.Syn | Frames.Tcp.Ack, 5, 2);
            Assert.Equal(owner, steering.WorkerFor(reply, holder.Current));
            var (rv, rr, _) = TestWorld.Run(workers[owner], reply);
            Assert.Equal(Verdict.Forward, rv);
            Assert.Equal((Ip4.Parse(dst), dport, Ip4.Parse(src), port), (rr.OutSrcIp, rr.OutSrcPort, rr.OutDstIp, rr.OutDstPort));
        }, iter: 2000);
    }

    [Fact]
    public void Later_fragments_follow_their_first_fragment()
    {
        var holder = new MapSetHolder(TestWorld.Build());
        var steering = new FlowSteering(4, new PipelineOptions());
        var counts = new int[4];
        for (ushort id = 1; id < 200; id++)
        {
            byte[] first = Frames.UdpFrame("203.0.113.9", (ushort)(2000 + id), "192.168.0.2", TestWorld.NodePort, new byte[64], id: id);
            first[20] = 0x20; // more fragments
            byte[] later = (byte[])first.Clone();
            later[20] = 0x00; later[21] = 0x08; // offset 64 bytes, no ports in it
            int w = steering.WorkerFor(first, holder.Current);
            counts[w]++;
            Assert.Equal(w, steering.WorkerFor(later, holder.Current));
        }
        Assert.All(counts, c => Assert.True(c > 20, $"uneven spread {string.Join(",", counts)}"));
    }
}
