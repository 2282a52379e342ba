using DataPlane.IO.Text;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Trace;

/// <summary>
/// The trace and its explanation say what issue 18's packet-path checks decided: a direct flow to an endpoint tracked
/// (and its port moved on a clash with a service connection), with the kernel functions that do it.
/// </summary>
public class PacketPathCheckTraceTests : IClassFixture<WhyWorldFixture>
{
    readonly WhyWorld _w;

    public PacketPathCheckTraceTests(WhyWorldFixture f) => _w = f.World;

    [Fact]
    public void A_direct_flow_to_an_endpoint_is_traced_as_tracked_and_its_clash_as_a_moved_port()
    {
        var p = new PacketPipeline(new MapSetHolder(_w.Maps), new PipelineOptions { Seed = 1, CtCapacity = 16 }) { Log = new StageLog() };
        // The pod talks to an endpoint of default/web directly (10.0.2.1:8080), then through the ClusterIP from the same port.
        var (log, v, why) = _w.Run(p, "tcp", WhyWorld.PodClient, 41000, "10.0.2.1", 8080);
        Assert.Equal(Verdict.Pass, v);
        Assert.Contains(log.ToArray(), r => r.Stage == PipelineStage.ConntrackCreate && r.HasEntry);
        Assert.Contains("one end is a Service endpoint", why);
        Assert.Contains("passed untranslated", why);
        Assert.Contains(TraceText.Lines(log, _w.Maps), l => l.Label == "ct-create" && l.Text.Contains("direct"));

        // The ClusterIP may pick either endpoint: replay until it picks the one the direct flow holds.
        for (ushort port = 41000; port < 41064; port++)
        {
            var fresh = new PacketPipeline(new MapSetHolder(_w.Maps), new PipelineOptions { Seed = 1, CtCapacity = 16 }) { Log = new StageLog() };
            _w.Run(fresh, "tcp", WhyWorld.PodClient, port, "10.0.2.1", 8080);
            var (svc, vs, _) = _w.Run(fresh, "tcp", WhyWorld.PodClient, port, "10.96.0.10", 80);
            Assert.Equal(Verdict.Forward, vs);
            StageRecord create = svc.First(r => r.Stage == PipelineStage.ConntrackCreate);
            if (create.Reply.SrcIp != Ip4.Parse("10.0.2.1")) continue;
            Assert.NotEqual(port, create.Reply.DstPort); // moved
            // Then the endpoint answers the direct socket: a conntrack hit on the direct flow, passed untranslated.
            var (again, va, whyAgain) = _w.Run(fresh, "tcp", "10.0.2.1", 8080, WhyWorld.PodClient, port, L4.TcpSyn | L4.TcpAck);
            Assert.Equal(Verdict.Pass, va);
            Assert.Contains("direct flow conntrack tracks without translating it", whyAgain);
            Assert.Contains(TraceText.Lines(again, _w.Maps), l => l.Label == "conntrack" && l.Text.Contains("direct flow tracked untranslated"));
            return;
        }
        Assert.Fail("the ClusterIP never picked 10.0.2.1");
    }

    [Fact]
    public void The_service_connection_first_then_the_direct_flow_is_explained_as_a_null_binding()
    {
        var p = new PacketPipeline(new MapSetHolder(_w.Maps), new PipelineOptions { Seed = 1, CtCapacity = 16 }) { Log = new StageLog() };
        var (svc, _, _) = _w.Run(p, "tcp", WhyWorld.PodClient, 42000, "10.96.0.10", 80);
        uint be = svc.First(r => r.Stage == PipelineStage.ConntrackCreate).Reply.SrcIp;
        var (_, v, why) = _w.Run(p, "tcp", WhyWorld.PodClient, 42000, Ip4.Format(be), 8080);
        Assert.Equal(Verdict.Forward, v);
        Assert.Contains("moves its source port", why);
        Assert.Contains("nf_nat_core.c", why);
    }
}
