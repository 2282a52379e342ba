using DataPlane.IO.Report;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Report;

/// <summary>Backend distribution per Service port against the promise: 1/N for random, the table share for Maglev.</summary>
public class BackendSharesTests
{
    static BackendShares Run(PacketPipeline p, int connections)
    {
        var shares = new BackendShares();
        for (int i = 0; i < connections; i++)
        {
            var (_, r, _) = TestWorld.Run(p, TestWorld.Syn("10.244.1.5", (ushort)(20000 + i), "10.96.0.10", 80));
            shares.Add(r, p.Maps);
        }
        return shares;
    }

    [Fact]
    public void Random_promises_each_usable_endpoint_one_in_n_and_counts_every_connection_once()
    {
        var p = TestWorld.NewPipeline(backends: 4);
        ReportService s = Assert.Single(Run(p, 400).Finish());
        Assert.Equal(("default/web:http", "random", 400L), (s.Service, s.Algorithm, s.Connections));
        Assert.Equal(4, s.Backends.Count);
        Assert.Equal(400, s.Backends.Sum(b => b.Connections));
        foreach (ReportBackend b in s.Backends)
        {
            Assert.Equal(0.25, b.PromisedShare, 12);
            Assert.Equal(100, b.ExpectedConnections, 9);
            Assert.Equal(Math.Sqrt(400 * 0.25 * 0.75), b.ExpectedSd, 9);
            // The draw is random, but 400 draws stay within 5 standard deviations of 100 (a failure here is a bug).
            Assert.InRange(b.Connections, 100 - 5 * b.ExpectedSd, 100 + 5 * b.ExpectedSd);
        }
    }

    [Fact]
    public void Maglev_promises_each_backend_its_share_of_the_lookup_table()
    {
        const int m = 251, n = 7;
        var b = new MapSetBuilder(new NodeInfo("n", TestWorld.Node, [TestWorld.Node], null, [])) { MaglevSize = m };
        ushort svc = b.AddServicePort("default/web:http", TestWorld.Vip, 80, IpProto.Tcp);
        uint[] ids = [.. Enumerable.Range(0, n).Select(i => b.AddBackend(TestWorld.Backend(i), 8080, IpProto.Tcp))];
        b.AddFrontend(new Lb4Key(TestWorld.Vip, 80, IpProto.Tcp), svc, ServiceFlags.ClusterIp | ServiceFlags.Maglev, ids);
        MapSet maps = b.Build(1);
        var p = new PacketPipeline(new MapSetHolder(maps), new PipelineOptions { CtCapacity = 1 << 12 });
        ReportService s = Assert.Single(Run(p, 300).Finish());
        Assert.Equal("maglev", s.Algorithm);
        Assert.Equal(n, s.Backends.Count);
        Assert.Equal(1.0, s.Backends.Sum(x => x.PromisedShare), 12);
        // Maglev gives every backend ⌊M/N⌋ or ⌈M/N⌉ slots (Eisenbud et al. §3.4): here 35 or 36 of 251...
        Assert.All(s.Backends, x => Assert.Contains(Math.Round(x.PromisedShare * m), new double[] { m / n, m / n + 1 }));
        // ...and the share is the slots that name the backend, counted independently from the table.
        uint table = maps.Services.Lookup(new Lb4Key(TestWorld.Vip, 80, IpProto.Tcp)).MaglevTable;
        foreach (ReportBackend x in s.Backends)
        {
            int slots = Enumerable.Range(0, m).Count(h => Ip4.Format(maps.Backend(maps.MaglevBackend((ushort)table, (uint)h)).Address, 8080) == x.Backend);
            Assert.Equal((double)slots / m, x.PromisedShare, 12);
        }
    }

    [Fact]
    public void Connections_that_saw_different_endpoint_sets_are_weighed_by_what_each_saw()
    {
        // 100 connections over 2 backends, then 100 over 4 (the same service port in a new generation).
        var shares = new BackendShares();
        foreach (int backends in new[] { 2, 4 })
        {
            var p = TestWorld.NewPipeline(backends);
            for (int i = 0; i < 100; i++)
            {
                var (_, r, _) = TestWorld.Run(p, TestWorld.Syn("10.244.1.5", (ushort)(30000 + backends * 1000 + i), "10.96.0.10", 80));
                shares.Add(r, p.Maps);
            }
        }
        ReportService s = Assert.Single(shares.Finish());
        Assert.Equal(200, s.Connections);
        // Backends 0 and 1: 100 × 1/2 + 100 × 1/4 = 75 expected; backends 2 and 3: 25.
        Assert.Equal([75.0, 75.0, 25.0, 25.0], s.Backends.Select(b => Math.Round(b.ExpectedConnections, 9)));
        Assert.Equal([0.375, 0.375, 0.125, 0.125], s.Backends.Select(b => Math.Round(b.PromisedShare, 12)));
    }
}
