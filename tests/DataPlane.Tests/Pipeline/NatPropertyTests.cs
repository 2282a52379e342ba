using CsCheck;
using DataPlane.FixtureBuilder;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;
using static DataPlane.Tests.Infrastructure.TestWorld;

namespace DataPlane.Tests.Pipeline;

/// <summary>Invariants over random flows: NAT then reverse NAT is the identity, checksums verify, translated tuples are unique.</summary>
public class NatPropertyTests
{
    static readonly Gen<(uint Client, ushort Port, bool NodePort, bool Udp)> GenFlow =
        Gen.Select(Gen.UInt[0x0B000000, 0xDF000000], Gen.UShort[1, 65535], Gen.Bool, Gen.Bool);

    [Fact]
    public void Translate_then_reverse_translate_is_identity_and_checksums_verify()
    {
        GenFlow.Array[1, 40].Sample(flows =>
        {
            var p = NewPipeline(backends: 4);
            foreach (var (client, port, np, udp) in flows)
            {
                string c = Ip4.Format(client), dst = np ? "192.168.0.2" : "10.96.0.10";
                ushort dport = np ? NodePort : (ushort)80;
                byte[] req = udp ? Frames.UdpFrame(c, port, dst, dport, [1, 2, 3]) : Syn(c, port, dst, dport);
                var (v, r, o) = Run(p, req);
                if (v == Verdict.Drop) { Assert.Equal(DropReason.NatPortExhausted, r.Reason); continue; } // duplicate flows aside
                Assert.Equal(Verdict.Forward, v);
                Oracle.AssertChecksums(o);
                // The backend answers the packet it received.
                var ip = Oracle.Ip(o);
                var (sp, dp) = udp
                    ? (ip.Extract<PacketDotNet.UdpPacket>()!.SourcePort, ip.Extract<PacketDotNet.UdpPacket>()!.DestinationPort)
                    : (ip.Extract<PacketDotNet.TcpPacket>()!.SourcePort, ip.Extract<PacketDotNet.TcpPacket>()!.DestinationPort);
                byte[] ans = udp
                    ? Frames.UdpFrame(ip.DestinationAddress.ToString(), dp, ip.SourceAddress.ToString(), sp, [4, 5])
                    : Frames.TcpFrame(ip.DestinationAddress.ToString(), dp, ip.SourceAddress.ToString(), sp, Frames.Tcp.Syn | Frames.Tcp.Ack, 9, 2);
                var (v2, r2, o2) = Run(p, ans);
                Assert.Equal(Verdict.Forward, v2);
                Oracle.AssertChecksums(o2);
                Assert.Equal((Ip4.Parse(dst), dport, client, port), (r2.OutSrcIp, r2.OutSrcPort, r2.OutDstIp, r2.OutDstPort));
                Assert.Equal(r.Backend.Address, r2.Backend.Address);
            }
        }, iter: 200);
    }

    [Fact]
    public void No_two_live_flows_share_a_translated_tuple()
    {
        // Few clients and ports so collisions on the client's own port are frequent and the SNAT search runs.
        Gen.Select(Gen.Int[1, 4], Gen.UShort[40000, 40004]).Array[1, 200].Sample(flows =>
        {
            var p = NewPipeline(backends: 2, new PipelineOptions { CtCapacity = 1 << 10, SnatPortMin = 40000, SnatPortMax = 40063 });
            foreach (var (c, port) in flows)
                Run(p, Syn($"203.0.113.{c}", port, "192.168.0.2", NodePort));
            var seen = new HashSet<CtTuple4>();
            for (int i = 0; i < p.Conntrack.Capacity; i++)
            {
                if (!p.Conntrack.TrySnapshot(i, out CtEntry e)) continue;
                Assert.True(seen.Add(e.Reply), $"reply tuple {e.Reply} used twice");
                Assert.True(seen.Add(e.Original), $"original tuple {e.Original} used twice");
            }
        }, iter: 200);
    }
}
