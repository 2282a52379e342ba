using System.Runtime.CompilerServices;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// SCTP connection tracking as Linux's net/netfilter/nf_conntrack_proto_sctp.c does it: the chunks of a packet are
/// checked (do_basic_checks), a connection is only created by chunks that may open one (sctp_new), and each chunk drives
/// the state through the kernel's transition table (sctp_conntracks) in the packet's direction; the lifetime is the new
/// state's timeout (sctp_timeouts). A packet the table marks invalid is INVALID, which kube-proxy's
/// <c>-m conntrack --ctstate INVALID -j DROP</c> drops (reason ct-invalid).
/// <para>
/// Not mirrored: the verification-tag checks (RFC 9260 §8.5, the kernel's vtag[2]): a connection's two tags would not
/// fit the 64-byte entry; and multihoming (ASCONF, secondary paths: the kernel tracks those as separate HEARTBEAT
/// connections). HEARTBEAT_SENT is modelled as the table has it (a new flow opened by a HEARTBEAT).
/// </para>
/// </summary>
public static class SctpConntrack
{
    /// <summary>SCTP conntrack's ASSURED status (set on reaching ESTABLISHED), kept in <see cref="CtEntry.TcpFlagsReply"/>.</summary>
    public const byte Assured = 0x80;

    // sctp_timeouts in seconds, indexed by state (index 0, NONE, uses CLOSED's, as nf_conntrack_sctp_init_net sets it).
    // ESTABLISHED is 210 s in current kernels (was 5 days before 6.5: "netfilter: conntrack: sctp: update timeouts").
    static ReadOnlySpan<byte> TimeoutSeconds => [10, 10, 3, 3, 210, 3, 3, 3, 30];

    // sctp_conntracks[dir][chunk row][state]: rows INIT, INIT_ACK, ABORT, SHUTDOWN, SHUTDOWN_ACK, ERROR, COOKIE_ECHO,
    // COOKIE_ACK, SHUTDOWN_COMPLETE, HEARTBEAT, HEARTBEAT_ACK; columns NONE CLOSED CW CE ES SS SR SA HS; 9 = invalid.
    static ReadOnlySpan<byte> Transitions =>
    [
        // ORIGINAL
        1, 1, 2, 3, 4, 1, 1, 7, 2,   // init
        1, 1, 2, 3, 4, 5, 6, 7, 1,   // init_ack
        1, 1, 1, 1, 1, 1, 1, 1, 1,   // abort
        1, 1, 2, 3, 5, 5, 6, 7, 1,   // shutdown
        7, 1, 2, 3, 4, 7, 7, 7, 7,   // shutdown_ack
        1, 1, 2, 3, 4, 5, 6, 7, 1,   // error
        1, 1, 3, 3, 4, 5, 6, 7, 1,   // cookie_echo
        1, 1, 2, 4, 4, 5, 6, 7, 1,   // cookie_ack
        1, 1, 2, 3, 4, 5, 6, 1, 1,   // shutdown_complete
        8, 1, 2, 3, 4, 5, 6, 7, 8,   // heartbeat
        1, 1, 2, 3, 4, 5, 6, 7, 8,   // heartbeat_ack
        // REPLY
        9, 1, 2, 3, 4, 5, 6, 7, 9,   // init
        9, 2, 2, 3, 4, 5, 6, 7, 9,   // init_ack
        9, 1, 1, 1, 1, 1, 1, 1, 9,   // abort
        9, 1, 2, 3, 6, 5, 6, 7, 9,   // shutdown
        9, 1, 2, 3, 4, 7, 7, 7, 9,   // shutdown_ack
        9, 1, 2, 1, 4, 5, 6, 7, 9,   // error
        9, 1, 3, 3, 4, 5, 6, 7, 9,   // cookie_echo
        9, 1, 2, 4, 4, 5, 6, 7, 9,   // cookie_ack
        9, 1, 2, 3, 4, 5, 6, 1, 9,   // shutdown_complete
        9, 1, 2, 3, 4, 5, 6, 7, 8,   // heartbeat
        9, 1, 2, 3, 4, 5, 6, 7, 4,   // heartbeat_ack
    ];

    /// <summary>The kernel's sctp_new_state: chunks outside the table (DATA, SACK, ...) leave the state as it is.</summary>
    public static SctpState Next(CtDirection dir, SctpState current, byte chunkType)
    {
        int row = chunkType switch
        {
            Sctp.Init => 0,
            Sctp.InitAck => 1,
            Sctp.Abort => 2,
            Sctp.Shutdown => 3,
            Sctp.ShutdownAck => 4,
            Sctp.Error => 5,
            Sctp.CookieEcho => 6,
            Sctp.CookieAck => 7,
            Sctp.ShutdownComplete => 8,
            Sctp.Heartbeat => 9,
            Sctp.HeartbeatAck => 10,
            _ => -1,
        };
        if (row < 0 || (uint)current > (uint)SctpState.HeartbeatSent) return current;
        return (SctpState)Transitions[((int)dir * 11 + row) * 9 + (int)current];
    }

    public static long TimeoutNs(SctpState s) => (long)TimeoutSeconds[(int)s < 9 ? (int)s : 1] * 1_000_000_000;

    /// <summary>
    /// do_basic_checks: walks the chunks (each length rounded up to 4), returns false when there is none, a chunk has
    /// length 0, or COOKIE_ECHO / COOKIE_ACK is not the first chunk or INIT / INIT_ACK / SHUTDOWN_COMPLETE is not alone.
    /// <paramref name="seen"/> gets a bit per chunk type below 32 (the kernel's map of chunk types).
    /// </summary>
    public static bool BasicChecks(ReadOnlySpan<byte> sctp, out uint seen)
    {
        seen = 0;
        int count = 0;
        bool alone = false;
        for (int off = Sctp.CommonHeaderLength; off + Sctp.ChunkHeaderLength <= sctp.Length; count++)
        {
            byte type = sctp[off + Sctp.ChunkTypeOffset];
            ushort len = L4.ReadU16(sctp, off + Sctp.ChunkLengthOffset);
            if (type is Sctp.Init or Sctp.InitAck or Sctp.ShutdownComplete) alone = true;
            if (((type is Sctp.CookieAck or Sctp.CookieEcho || alone) && count != 0) || len == 0) return false;
            if (type < 32) seen |= 1u << type;
            off += (len + 3) & ~3;
        }
        return count != 0;
    }

    static bool Has(uint seen, byte type) => (seen & (1u << type)) != 0;

    /// <summary>
    /// May this packet open a connection? sctp_new plus the out-of-the-blue rule before it: no ABORT, SHUTDOWN_COMPLETE
    /// or COOKIE_ACK (RFC 9260 §8.4), and every chunk must lead somewhere from NONE in the original direction — so INIT
    /// (with verification tag 0, §8.5.1), INIT_ACK, SHUTDOWN, SHUTDOWN_ACK, ERROR, COOKIE_ECHO, HEARTBEAT or HEARTBEAT_ACK
    /// open a connection, while DATA, SACK and any other chunk without a connection are INVALID.
    /// </summary>
    public static bool CanCreate(ReadOnlySpan<byte> sctp)
    {
        if (!BasicChecks(sctp, out uint seen)) return false;
        if (Has(seen, Sctp.Abort) || Has(seen, Sctp.ShutdownComplete) || Has(seen, Sctp.CookieAck)) return false;
        for (int off = Sctp.CommonHeaderLength; off + Sctp.ChunkHeaderLength <= sctp.Length;)
        {
            byte type = sctp[off];
            SctpState s = Next(CtDirection.Original, SctpState.None, type);
            if (s is SctpState.None or SctpState.Invalid) return false;
            if (type == Sctp.Init && (Sctp.VerificationTag(sctp) != 0 || off + Sctp.ChunkHeaderLength + 4 > sctp.Length)) return false;
            off += (L4.ReadU16(sctp, off + Sctp.ChunkLengthOffset) + 3) & ~3;
        }
        return true;
    }

    /// <summary>
    /// nf_conntrack_sctp_packet for a packet of connection <paramref name="e"/> (new or confirmed) in
    /// <c>ctx.Direction</c>: every chunk moves the state; an invalid move makes the packet INVALID (the states reached by
    /// earlier chunks stay, as in the kernel). The lifetime becomes the last state's timeout, except for an INIT
    /// retransmitted on a CLOSED connection, which does not refresh it (so port reuse cannot keep a stale entry alive).
    /// Returns false for INVALID.
    /// </summary>
    public static bool Update(ref PacketContext ctx, ref CtEntry e, ReadOnlySpan<byte> sctp, bool confirmed)
    {
        if (!BasicChecks(sctp, out _)) return false;
        bool ok = true, ignore = false;
        SctpState state = (SctpState)e.TcpFlagsOriginal;
        byte assured = 0;
        for (int off = Sctp.CommonHeaderLength; off + Sctp.ChunkHeaderLength <= sctp.Length;)
        {
            byte type = sctp[off];
            if (type == Sctp.Init && (Sctp.VerificationTag(sctp) != 0 || off + Sctp.ChunkHeaderLength + 4 > sctp.Length)) { ok = false; break; }
            if (type == Sctp.InitAck && off + Sctp.ChunkHeaderLength + 4 > sctp.Length) { ok = false; break; }
            SctpState next = Next(ctx.Direction, state, type);
            if (next == SctpState.Invalid) { ok = false; break; }
            if (type == Sctp.Init && next == SctpState.Closed && state == SctpState.Closed && confirmed) ignore = true;
            if (next == SctpState.Established && state != next) assured = Assured;
            state = next;
            off += (L4.ReadU16(sctp, off + Sctp.ChunkLengthOffset) + 3) & ~3;
        }
        ConntrackMap.BeginWrite(ref e);
        e.TcpFlagsOriginal = (byte)state;
        e.TcpFlagsReply |= assured;
        if (ok)
        {
            if (ctx.Direction == CtDirection.Reply) e.Flags |= CtFlags.SeenReply;
            if (!ignore) e.ExpiresNs = ctx.NowNs + TimeoutNs(state);
        }
        ConntrackMap.EndWrite(ref e);
        return ok;
    }
}
