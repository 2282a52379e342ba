using DataPlane.FixtureBuilder;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;
using static DataPlane.FixtureBuilder.SctpFrames;
using static DataPlane.Tests.Infrastructure.TestWorld;

namespace DataPlane.Tests.Sctp;

/// <summary>ICMP errors about an SCTP connection are translated with it (RELATED), the quoted CRC32c recomputed.</summary>
public class SctpIcmpErrorTests
{
    [Fact]
    public void Port_unreachable_from_the_backend_is_reverse_translated_with_a_valid_quoted_crc32c()
    {
        var p = SctpWorld.NewPipeline(1);
        string c = "10.244.1.5", b = Ip4.Format(SctpWorld.Backend(0));
        var (v, _, sent) = Run(p, Frame(c, 6100, "10.96.0.132", 3868, 0, Init(0xABCD, 1)));
        Assert.Equal(Verdict.Forward, v);
        // The backend's host has nothing on 3869 and says so, quoting the INIT it received (DNATed).
        byte[] err = Frames.IcmpPortUnreachable(sent, b, 77, decrementQuotedTtl: false, to: c);
        var (v2, _, o) = Run(p, err);
        Assert.Equal(Verdict.Forward, v2);
        Oracle.AssertChecksums(o);
        var outer = Oracle.Ip(o);
        Assert.Equal(("10.96.0.132", c), (outer.SourceAddress.ToString(), outer.DestinationAddress.ToString()));
        // The quote is the client's INIT as the client sent it (TTL aside): ports and CRC32c restored.
        byte[] quote = o[(14 + 20 + 8)..];
        byte[] original = Frame(c, 6100, "10.96.0.132", 3868, 0, Init(0xABCD, 1), ttl: 63)[14..];
        Assert.Equal(original[20..], quote[20..]);
        Assert.True(SctpWorld.CrcValid([.. new byte[14], .. quote]));
    }
}
