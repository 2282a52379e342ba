using System.Buffers.Binary;
using DataPlane.FixtureBuilder;
using DataPlane.IO.Text;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Pipeline.Stages;
using static DataPlane.FixtureBuilder.SctpFrames;
using Chunk = DataPlane.Packets.Sctp;
using static DataPlane.Tests.Infrastructure.TestWorld;

namespace DataPlane.Tests.Sctp;

/// <summary>SCTP conntrack against the kernel's nf_conntrack_proto_sctp.c: table rows, creation rule, timeouts, listing.</summary>
public class SctpConntrackTests
{
    const string C = "10.244.1.5", VipS = "10.96.0.132";
    const long Sec = 1_000_000_000;

    [Theory]
    // The association's happy path, as the kernel's table has it (INIT opens in CLOSED, INIT_ACK moves to COOKIE_WAIT).
    [InlineData(CtDirection.Original, SctpState.None, Chunk.Init, SctpState.Closed)]
    [InlineData(CtDirection.Reply, SctpState.Closed, Chunk.InitAck, SctpState.CookieWait)]
    [InlineData(CtDirection.Original, SctpState.CookieWait, Chunk.CookieEcho, SctpState.CookieEchoed)]
    [InlineData(CtDirection.Reply, SctpState.CookieEchoed, Chunk.CookieAck, SctpState.Established)]
    [InlineData(CtDirection.Original, SctpState.Established, Chunk.Shutdown, SctpState.ShutdownSent)]
    [InlineData(CtDirection.Reply, SctpState.Established, Chunk.Shutdown, SctpState.ShutdownRecd)]
    [InlineData(CtDirection.Reply, SctpState.ShutdownSent, Chunk.ShutdownAck, SctpState.ShutdownAckSent)]
    [InlineData(CtDirection.Original, SctpState.ShutdownAckSent, Chunk.ShutdownComplete, SctpState.Closed)]
    // ABORT closes from anywhere; DATA and SACK never move the state; HEARTBEAT opens a secondary-path flow.
    [InlineData(CtDirection.Reply, SctpState.Established, Chunk.Abort, SctpState.Closed)]
    [InlineData(CtDirection.Original, SctpState.Established, Chunk.Data, SctpState.Established)]
    [InlineData(CtDirection.Reply, SctpState.CookieWait, Chunk.Sack, SctpState.CookieWait)]
    [InlineData(CtDirection.Original, SctpState.None, Chunk.Heartbeat, SctpState.HeartbeatSent)]
    [InlineData(CtDirection.Reply, SctpState.HeartbeatSent, Chunk.HeartbeatAck, SctpState.Established)]
    // Reply-direction chunks on a connection that does not exist yet, and an ERROR on COOKIE_ECHOED from the peer.
    [InlineData(CtDirection.Reply, SctpState.None, Chunk.InitAck, SctpState.Invalid)]
    [InlineData(CtDirection.Reply, SctpState.CookieEchoed, Chunk.Error, SctpState.Closed)]
    public void Transition_table_matches_the_kernel(CtDirection dir, SctpState from, byte chunk, SctpState to) =>
        Assert.Equal(to, SctpConntrack.Next(dir, from, chunk));

    [Theory]
    [InlineData(SctpState.Closed, 10)]
    [InlineData(SctpState.CookieWait, 3)]
    [InlineData(SctpState.CookieEchoed, 3)]
    [InlineData(SctpState.Established, 210)]
    [InlineData(SctpState.ShutdownSent, 3)]
    [InlineData(SctpState.ShutdownRecd, 3)]
    [InlineData(SctpState.ShutdownAckSent, 3)]
    [InlineData(SctpState.HeartbeatSent, 30)]
    public void Timeouts_are_the_kernels(SctpState s, int seconds) => Assert.Equal(seconds * Sec, SctpConntrack.TimeoutNs(s));

    public static TheoryData<string, byte[], uint, bool> Openers => new()
    {
        { "INIT, tag 0", Init(1, 1), 0, true },
        { "INIT with a tag (§8.5.1 A)", Init(1, 1), 7, false },
        { "COOKIE_ECHO (the kernel opens on it: a NAT restart mid-handshake)", CookieEcho(), 7, true },
        { "HEARTBEAT (secondary path)", [4, 0, 0, 8, 0, 1, 0, 4], 7, true },
        { "DATA", Data(1, "x"), 7, false },
        { "SACK", SackChunk(1), 7, false },
        { "ABORT out of the blue (§8.4)", Abort(), 7, false },
        { "SHUTDOWN_COMPLETE out of the blue", ShutdownComplete(), 7, false },
        { "COOKIE_ACK out of the blue", CookieAck(), 7, false },
        { "INIT bundled", Concat(Init(1, 1), SackChunk(1)), 0, false },
        { "COOKIE_ECHO not first", Concat(SackChunk(1), CookieEcho()), 7, false },
        { "zero-length chunk", [0, 3, 0, 0], 7, false },
    };

    [Theory]
    [MemberData(nameof(Openers))]
    public void Only_chunks_that_can_open_an_association_create_one(string what, byte[] chunks, uint vtag, bool creates)
    {
        byte[] f = Frame(C, 6000, VipS, 3868, vtag, chunks);
        Assert.True(creates == SctpConntrack.CanCreate(SctpWorld.SctpOf(f)), what);
        var (v, r, _) = Run(SctpWorld.NewPipeline(), f);
        Assert.Equal(creates ? Verdict.Forward : Verdict.Drop, v);
        if (!creates) Assert.Equal(DropReason.CtInvalid, r.Reason);
    }

    [Fact]
    public void Cookie_wait_expires_after_3_s_and_established_lives_210_s()
    {
        var p = SctpWorld.NewPipeline(1);
        string b = Ip4.Format(SctpWorld.Backend(0));
        Assert.Equal(Verdict.Forward, Run(p, Frame(C, 6001, VipS, 3868, 0, Init(1, 1)), 1 * Sec).V);
        Assert.Equal(Verdict.Forward, Run(p, Frame(b, 3869, C, 6001, 1, InitAck(2, 1)), 1 * Sec + 1).V);   // COOKIE_WAIT, 3 s
        // 3.5 s later the entry has expired: a COOKIE_ECHO opens a new connection (the kernel would too), not the old one.
        var (v, r, _) = Run(p, Frame(C, 6001, VipS, 3868, 2, CookieEcho()), 4 * Sec + Sec / 2);
        Assert.Equal(Verdict.Forward, v);
        Assert.True(r.NewFlow);
        Assert.Equal(Verdict.Forward, Run(p, Frame(b, 3869, C, 6001, 1, CookieAck()), 5 * Sec).V);         // ESTABLISHED
        Assert.False(Run(p, Frame(C, 6001, VipS, 3868, 2, Data(2, "y")), 5 * Sec + 209 * Sec).R.NewFlow);
        Assert.True(Run(p, Frame(C, 6001, VipS, 3868, 0, Init(3, 1)), 5 * Sec + 209 * Sec + 211 * Sec).R.NewFlow);
    }

    [Fact]
    public void A_reply_chunk_the_table_refuses_is_invalid_and_leaves_the_state()
    {
        var p = SctpWorld.NewPipeline(1);
        string b = Ip4.Format(SctpWorld.Backend(0));
        Run(p, Frame(C, 6002, VipS, 3868, 0, Init(1, 1)));
        // An INIT from the backend in CLOSED keeps CLOSED (allowed); an INIT with a non-zero tag is invalid.
        var (v, r, _) = Run(p, Frame(b, 3869, C, 6002, 9, Init(5, 1)));
        Assert.Equal((Verdict.Drop, DropReason.CtInvalid), (v, r.Reason));
        int idx = p.Conntrack.Lookup(new CtTuple4(Ip4.Parse(C), 6002, Ip4.Parse(VipS), 3868, IpProto.Sctp), out _);
        Assert.Equal(SctpState.Closed, (SctpState)p.Conntrack[idx].TcpFlagsOriginal);
    }

    [Fact]
    public void Ct_list_shows_sctp_entries_like_conntrack_L()
    {
        var p = SctpWorld.NewPipeline(1);
        string b = Ip4.Format(SctpWorld.Backend(0));
        Run(p, Frame(C, 6003, VipS, 3868, 0, Init(1, 1)), 1 * Sec);
        var w = new StringWriter();
        ConntrackListing.WriteCt(w, p.Conntrack, p.Maps, 1 * Sec);
        Assert.Equal($"sctp     132 10 CLOSED src={C} dst={VipS} sport=6003 dport=3868 src={b} dst={C} sport=3869 dport=6003 [UNREPLIED] " +
                     // flow ids count per flow class: the first connection of class 6003 mod 64 = 51 is 52
                     $"backend={b}:3869 service=default/diameter:diameter flow={(6003 & 63) + 1}", w.ToString().TrimEnd());
        Run(p, Frame(b, 3869, C, 6003, 1, InitAck(2, 1)), 1 * Sec);
        Run(p, Frame(C, 6003, VipS, 3868, 2, CookieEcho()), 1 * Sec);
        Run(p, Frame(b, 3869, C, 6003, 1, CookieAck()), 1 * Sec);
        w = new StringWriter();
        ConntrackListing.WriteCt(w, p.Conntrack, p.Maps, 1 * Sec);
        Assert.StartsWith($"sctp     132 210 ESTABLISHED src={C}", w.ToString());
        Assert.Contains("dport=6003 [ASSURED] backend=", w.ToString());
    }

    [Fact]
    public void Every_truncation_of_an_sctp_frame_gets_a_verdict()
    {
        byte[] f = Frame(C, 6004, VipS, 3868, 0, Init(1, 1));
        for (int n = 0; n < f.Length; n++)
        {
            byte[] cut = f[..n];
            if (n >= 34) BinaryPrimitives.WriteUInt16BigEndian(cut.AsSpan(16), (ushort)(n - 14)); // keep the IP length honest
            if (n >= 34) { cut[24] = cut[25] = 0; ushort c = Frames.InternetChecksum(cut.AsSpan(14, 20)); cut[24] = (byte)(c >> 8); cut[25] = (byte)c; }
            var (v, _, _) = Run(SctpWorld.NewPipeline(), cut);
            Assert.True(v is Verdict.Drop or Verdict.Pass, $"{n} bytes: {v}");
        }
    }
}
