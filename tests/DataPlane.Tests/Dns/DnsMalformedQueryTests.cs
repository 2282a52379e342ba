using System.Buffers.Binary;
using CsCheck;
using DataPlane.Dns;
using DataPlane.Pipeline;

namespace DataPlane.Tests.Dns;

/// <summary>Malformed queries get FORMERR (or, with no header to answer, a named drop) and never an exception.</summary>
public class DnsMalformedQueryTests
{
    static readonly DnsWorld World = new();

    static byte[] Query(string name = "web.default.svc.cluster.local", ushort type = DnsType.A) => DnsMessage.BuildQuery(name, type, 0xBEEF);

    static DnsMessage Answer(byte[] message)
    {
        var (v, resp, _) = World.SendUdp(message);
        Assert.Equal(Verdict.Answer, v);
        return DnsMessage.Decode(resp!)!;
    }

    static void AssertFormErr(byte[] message)
    {
        DnsMessage m = Answer(message);
        Assert.Equal("FORMERR", m.RcodeName);
        Assert.Equal(0xBEEF, m.Id);
        Assert.Empty(m.Answer);
    }

    [Fact]
    public void Every_truncation_of_a_query_is_formerr_or_dropped_never_a_crash()
    {
        byte[] q = Query();
        for (int n = 0; n < q.Length; n++)
        {
            var (v, resp, r) = World.SendUdp(q[..n]);
            if (n < DnsParser.HeaderLength)
            {
                Assert.Equal(Verdict.Drop, v);
                Assert.Equal(DropReason.DnsIgnored, r.Reason);
            }
            else
            {
                Assert.Equal(Verdict.Answer, v);
                Assert.Equal("FORMERR", DnsMessage.Decode(resp!)!.RcodeName);
            }
        }
        Assert.Equal("NOERROR", Answer(q).RcodeName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Qdcount_other_than_one_is_formerr(ushort qd)
    {
        byte[] q = Query();
        BinaryPrimitives.WriteUInt16BigEndian(q.AsSpan(4), qd);
        AssertFormErr(q);
    }

    [Fact]
    public void A_label_length_with_reserved_bits_is_formerr()
    {
        byte[] q = Query();
        q[12] = 0x43; // 01xxxxxx: an extended label type
        AssertFormErr(q);
        q[12] = 0x83;
        AssertFormErr(q);
    }

    [Fact]
    public void Compression_loops_and_forward_pointers_are_formerr()
    {
        // A name that is a pointer to itself, and one that points forward into its own type field.
        byte[] self = [0xBE, 0xEF, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1];
        AssertFormErr(self);
        byte[] forward = [0xBE, 0xEF, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 14, 0, 1, 0, 1];
        AssertFormErr(forward);
        // Two labels then a pointer back to the first label: a loop through a later label.
        byte[] loop = [0xBE, 0xEF, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, (byte)'a', 1, (byte)'b', 0xC0, 12, 0, 1, 0, 1];
        AssertFormErr(loop);
    }

    [Fact]
    public void A_name_over_255_bytes_is_formerr()
    {
        var q = new List<byte> { 0xBE, 0xEF, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
        for (int i = 0; i < 5; i++) { q.Add(63); q.AddRange(Enumerable.Repeat((byte)'a', 63)); } // 320 bytes of labels
        q.AddRange([0, 0, 1, 0, 1]);
        AssertFormErr([.. q]);
    }

    [Fact]
    public void A_response_sent_to_the_server_is_dropped_not_answered()
    {
        byte[] q = Query();
        q[2] |= 0x80;
        var (v, _, r) = World.SendUdp(q);
        Assert.Equal(Verdict.Drop, v);
        Assert.Equal(DropReason.DnsIgnored, r.Reason);
    }

    [Fact]
    public void Other_opcodes_are_notimp()
    {
        byte[] q = Query();
        q[2] = (byte)(q[2] | 2 << 3); // opcode STATUS
        DnsMessage m = Answer(q);
        Assert.Equal("NOTIMP", m.RcodeName);
    }

    [Fact]
    public void Two_opt_records_are_formerr_and_edns_version_1_is_badvers()
    {
        byte[] opt = [0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0];
        byte[] q = [.. Query(), .. opt, .. opt];
        BinaryPrimitives.WriteUInt16BigEndian(q.AsSpan(10), 2);
        AssertFormErr(q);

        byte[] v1 = DnsMessage.BuildQuery("web.default.svc.cluster.local", DnsType.A, 7, ednsUdpSize: 1232);
        v1[^5] = 1; // OPT TTL = extended rcode 0, version 1
        DnsMessage m = Answer(v1);
        Assert.Equal("BADVERS", m.RcodeName);
        Assert.Empty(m.Answer);
    }

    [Fact]
    public void Random_bytes_never_crash_and_every_answer_decodes()
    {
        Gen.Byte.Array[0, 80].Sample(tail =>
        {
            byte[] q = [0xBE, 0xEF, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, (byte)(tail.Length > 0 ? tail[0] & 1 : 0), .. tail];
            var (v, resp, r) = World.SendUdp(q);
            Assert.True(v == Verdict.Answer || r.Reason == DropReason.DnsIgnored, $"{v} {r.Reason}");
            if (v == Verdict.Answer)
            {
                Assert.NotNull(DnsMessage.Decode(resp!));
                ARSoft.Tools.Net.Dns.DnsMessage.Parse(new ArraySegment<byte>(resp!));
            }
        }, iter: 2000);
    }

    [Fact]
    public void Random_mutations_of_a_valid_query_never_crash()
    {
        byte[] q0 = Query("_http._tcp.web.default.svc.cluster.local", DnsType.SRV);
        Gen.Select(Gen.Int[12, q0.Length - 1], Gen.Byte).Array[1, 4].Sample(edits =>
        {
            byte[] q = (byte[])q0.Clone();
            foreach (var (at, b) in edits) q[at] = b;
            var (v, resp, r) = World.SendUdp(q);
            Assert.True(v == Verdict.Answer || r.Reason == DropReason.DnsIgnored);
            if (v == Verdict.Answer) ARSoft.Tools.Net.Dns.DnsMessage.Parse(new ArraySegment<byte>(resp!));
        }, iter: 2000);
    }
}
