using DataPlane.IO.Report;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Report;

/// <summary>The report's top conversations: exact under the table's size, heavy hitters kept (space-saving) beyond it.</summary>
public class ConversationTableTests
{
    static readonly MapSet Maps = TestWorld.Build();

    /// <summary>A frame of no tracked flow from <paramref name="src"/>:<paramref name="sport"/> to the given destination.</summary>
    static PacketResult Untracked(uint src, ushort sport, uint dst, ushort dport, Verdict v = Verdict.Pass) => new()
    {
        Verdict = v,
        HasTuple = true,
        Proto = IpProto.Udp,
        InSrcIp = src, InSrcPort = sport, InDstIp = dst, InDstPort = dport,
    };

    [Fact]
    public void Both_directions_of_a_pair_are_one_conversation_with_wiresharks_columns()
    {
        var t = new ConversationTable();
        uint a = Ip4.Parse("10.0.0.1"), b = Ip4.Parse("10.0.0.2");
        t.Add(1, 1_000, Untracked(a, 5000, b, 53), Maps, 80);
        t.Add(2, 3_000, Untracked(b, 53, a, 5000), Maps, 120);
        t.Add(3, 4_000, Untracked(a, 5000, b, 53, Verdict.Drop) with { Reason = DropReason.CtInvalid }, Maps, 60);
        ReportConversation c = Assert.Single(t.Top(10));
        Assert.Equal(("udp", "10.0.0.1", 5000, "10.0.0.2", 53), (c.Proto, c.AddressA, c.PortA, c.AddressB, c.PortB));
        Assert.Equal((3L, 260L, 2L, 140L, 1L, 120L), (c.Packets, c.Bytes, c.PacketsAToB, c.BytesAToB, c.PacketsBToA, c.BytesBToA));
        Assert.Equal((1_000L, 3_000L, 1L, 0L), (c.RelStartNs, c.DurationNs, c.FirstFrame, c.Uncertainty));
        Assert.Equal("pass 2, drop 1 (ct-invalid)", c.Verdict);
    }

    [Fact]
    public void A_tracked_flow_is_one_conversation_across_nat_and_directions()
    {
        var t = new ConversationTable();
        uint client = Ip4.Parse("10.244.1.5"), backend = TestWorld.Backend(0);
        var original = new PacketResult
        {
            Verdict = Verdict.Forward, HasTuple = true, Proto = IpProto.Tcp, FlowId = 7, Direction = CtDirection.Original,
            InSrcIp = client, InSrcPort = 40000, InDstIp = TestWorld.Vip, InDstPort = 80, RevNatIndex = 1,
            Backend = new Lb4Backend { Address = backend, Port = 8080 },
        };
        // The reply as it arrives: from the backend, to the client (before reverse NAT).
        PacketResult reply = original with { Direction = CtDirection.Reply, InSrcIp = backend, InSrcPort = 8080, InDstIp = client, InDstPort = 40000 };
        t.Add(1, 0, original, Maps, 74);
        t.Add(2, 10, reply, Maps, 74);
        t.Add(3, 20, original, Maps, 66);
        ReportConversation c = Assert.Single(t.Top(10));
        Assert.Equal(("10.244.1.5", 40000, "10.96.0.10", 80), (c.AddressA, c.PortA, c.AddressB, c.PortB));
        Assert.Equal((2L, 1L), (c.PacketsAToB, c.PacketsBToA));
        Assert.Equal("default/web:http", c.Service);
        Assert.Equal($"{Ip4.Format(backend)}:8080", c.Backend);
        Assert.Equal("forward 3", c.Verdict);
    }

    [Fact]
    public void Beyond_its_rows_the_table_keeps_the_heavy_hitters_with_counts_within_their_bound()
    {
        // Space-saving guarantees a row to every conversation above frames/rows: 2 454 / 32 ≈ 77, below the heavies' 100.
        const int rows = 32;
        var t = new ConversationTable(rows);
        var truth = new Dictionary<(string, int?), long>();
        uint heavy = Ip4.Parse("10.1.0.1"), light = Ip4.Parse("10.2.0.0"), server = Ip4.Parse("10.9.9.9");
        long frame = 0;
        // Three heavy conversations of 200, 154 and 100 frames among 2 000 one-frame ones, interleaved.
        for (int i = 0; i < 2000; i++)
        {
            void Add(uint src, ushort sport)
            {
                t.Add(++frame, frame * 1000, Untracked(src, sport, server, 53), Maps, 60);
                var k = (Ip4.Format(src), (int?)sport);
                truth[k] = truth.GetValueOrDefault(k) + 1;
            }
            Add(light + (uint)i, 1000);
            if (i % 10 == 0) Add(heavy, 1);
            if (i % 13 == 0) Add(heavy, 2);
            if (i % 20 == 0) Add(heavy, 3);
        }
        Assert.Equal(rows, t.Count);
        Assert.True(t.Replaced > 0);
        IReadOnlyList<ReportConversation> top = t.Top(3);
        Assert.Equal([1, 2, 3], top.Select(c => c.PortA!.Value));
        foreach (ReportConversation c in t.Top(rows))
        {
            long real = truth[(c.AddressA, c.PortA)];
            // Space-saving: the estimate (own frames + inherited) is never below the truth, and at most the bound above it.
            Assert.InRange(c.Packets + c.Uncertainty, real, real + c.Uncertainty);
            Assert.True(c.Packets <= real);
        }
    }
}
