using CsCheck;
using DataPlane.Packets;
using DataPlane.Pipeline;
using static DataPlane.FixtureBuilder.SctpFrames;
using static DataPlane.Tests.Infrastructure.TestWorld;

namespace DataPlane.Tests.Sctp;

/// <summary>SCTP NAT then reverse NAT is the identity, and every translated packet carries a valid CRC32c.</summary>
public class SctpNatPropertyTests
{
    [Fact]
    public void Sctp_translate_then_reverse_translate_is_identity_with_valid_crc32c()
    {
        Gen.Select(Gen.UInt[0x0B000000, 0xDF000000], Gen.UShort[1, 65535], Gen.Bool, Gen.UInt, Gen.String[0, 200]).Array[1, 30].Sample(flows =>
        {
            var p = SctpWorld.NewPipeline(backends: 4);
            foreach (var (client, port, np, tag, payload) in flows)
            {
                string c = Ip4.Format(client), dst = np ? "192.168.0.2" : "10.96.0.132";
                ushort dport = np ? SctpWorld.NodePort : SctpWorld.Port;
                uint myTag = tag | 1, peerTag = ~tag | 1;
                byte[] init = Frame(c, port, dst, dport, 0, Init(myTag, 1));
                var (v, r, o) = Run(p, init);
                if (v == Verdict.Drop) { Assert.Equal(DropReason.NatPortExhausted, r.Reason); continue; } // duplicate flows aside
                Assert.Equal(Verdict.Forward, v);
                Assert.True(SctpWorld.CrcValid(o), "translated INIT has a bad CRC32c");
                // The backend answers what it received (addresses and ports swapped), with a DATA-carrying packet.
                string bsrc = Ip4.Format(r.OutDstIp), bdst = Ip4.Format(r.OutSrcIp);
                byte[] ans = Frame(bsrc, r.OutDstPort, bdst, r.OutSrcPort, myTag, Concat(InitAck(peerTag, 9)));
                var (v2, r2, o2) = Run(p, ans);
                Assert.Equal(Verdict.Forward, v2);
                Assert.True(SctpWorld.CrcValid(o2), "reverse-translated reply has a bad CRC32c");
                Assert.Equal((Ip4.Parse(dst), dport, client, port), (r2.OutSrcIp, r2.OutSrcPort, r2.OutDstIp, r2.OutDstPort));
                // Identity: the reply leaves exactly as the client's own packet reversed would be built (TTL - 1).
                Assert.Equal(Frame(dst, dport, c, port, myTag, InitAck(peerTag, 9), 63).AsSpan(14).ToArray(), o2.AsSpan(14).ToArray());
                // And a DATA chunk of any size the other way still verifies.
                var (v3, _, o3) = Run(p, Frame(c, port, dst, dport, peerTag, Data(2, payload)));
                Assert.Equal(Verdict.Forward, v3);
                Assert.True(SctpWorld.CrcValid(o3));
            }
        }, iter: 200);
    }
}
