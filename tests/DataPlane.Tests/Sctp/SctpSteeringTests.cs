using CsCheck;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using static DataPlane.FixtureBuilder.SctpFrames;

namespace DataPlane.Tests.Sctp;

/// <summary>Multi-worker steering treats SCTP ports like TCP and UDP ports: replies reach the connection's owner.</summary>
public class SctpSteeringTests
{
    [Fact]
    public void Sctp_replies_reach_the_worker_that_owns_the_association()
    {
        Gen.Select(Gen.Int[2, 16], Gen.Bool, Gen.Int[1, 250], Gen.UShort[1024, 65535]).Sample((w, nodePort, host, port) =>
        {
            var holder = new MapSetHolder(SctpWorld.Build(backends: 5));
            var options = new PipelineOptions { CtCapacity = 1 << 10 };
            var workers = Enumerable.Range(0, w).Select(_ => new PacketPipeline(holder, options)).ToArray();
            var steering = new FlowSteering(w, options);
            (string src, string dst, ushort dport) = nodePort
                ? ($"203.0.113.{host}", "192.168.0.2", SctpWorld.NodePort)
                : ($"10.244.1.{host}", "10.96.0.132", SctpWorld.Port);
            byte[] init = Frame(src, port, dst, dport, 0, Init(7, 1));
            int owner = steering.WorkerFor(init, holder.Current);
            var (v, r, _) = Infrastructure.TestWorld.Run(workers[owner], init);
            Assert.Equal(Verdict.Forward, v);
            byte[] reply = Frame(Ip4.Format(r.OutDstIp), r.OutDstPort, Ip4.Format(r.OutSrcIp), r.OutSrcPort, 7, InitAck(9, 1));
            Assert.Equal(owner, steering.WorkerFor(reply, holder.Current));
            var (rv, rr, _) = Infrastructure.TestWorld.Run(workers[owner], reply);
            Assert.Equal(Verdict.Forward, rv);
            Assert.Equal((Ip4.Parse(dst), dport, Ip4.Parse(src), port), (rr.OutSrcIp, rr.OutSrcPort, rr.OutDstIp, rr.OutDstPort));
        }, iter: 1000);
    }
}
