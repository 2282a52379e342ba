using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Pipeline.Stages;

/// <summary>
/// The part of Linux conntrack's TCP window tracking (nf_conntrack_proto_tcp.c, tcp_in_window) that decides whether an
/// RST may close a connection: an RST whose sequence number lies outside the window is INVALID (tcp_packet returns
/// -NF_ACCEPT, "invalid rst" / "SEQ is over/under the bound"), and kube-proxy drops INVALID (KUBE-FORWARD), so a blind
/// or stale RST cannot tear a connection down and send its next segment to another backend.
/// <para>
/// The kernel accepts a segment when <c>seq ≤ sender.td_maxend</c> (the receiver's highest ack plus its window) and
/// <c>seq + len ≥ sender.td_end − receiver.td_maxwin</c>. What fits in the conntrack entry's padding (its 64-byte
/// line must not grow) is an approximation of that, stated here:
/// <list type="bullet">
/// <item>td_end per direction is kept at 64 KiB granularity (its high 16 bits), so the window edges are only known to
/// within 64 KiB: an RST is accepted when |seq − td_end| ≤ the receiver's window, plus up to 128 KiB of slack;</item>
/// <item>the receiver's window is its largest possible one, 65535 &lt;&lt; the window scale it offered in its SYN (both sides
/// must offer the option, RFC 7323 §2.2), where the kernel uses the largest window actually advertised;</item>
/// <item>connections whose handshake was not seen in both directions (picked up mid-stream, or still in SYN_SENT) are
/// not checked, as the kernel marks a picked-up connection IP_CT_TCP_FLAG_BE_LIBERAL (tcp_new);</item>
/// <item>only RSTs are checked: other out-of-window segments are forwarded as before (kube-proxy's INVALID rule would
/// drop them too; they do not change the entry's state here beyond td_end).</item>
/// </list>
/// A random RST thus gets through with probability about 3 · 64 KiB / 4 GiB without window scaling (1 in 21 845).
/// </para>
/// </summary>
public static class TcpWindow
{
    const int OptionWindowScale = 3; // RFC 7323 §2.2
    const int MaxWindowScale = 14;

    /// <summary>Records this packet's end of sequence and, on a SYN, the window scale it offers. Writer holds the seqlock.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Track(ref PacketContext ctx, ref CtEntry e)
    {
        // Parsed frames always hold the TCP header; a context built without a frame (a stage benchmark) tracks nothing.
        if ((uint)ctx.Frame.Length < (uint)ctx.L4Offset + L4.TcpMinLength) return;
        ReadOnlySpan<byte> tcp = ctx.Frame.Slice(ctx.L4Offset);
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(tcp.Slice(L4.TcpSeqOffset));
        int dataOffset = (tcp[L4.TcpDataOffsetOffset] >> 4) * 4;
        byte flags = ctx.TcpFlags;
        uint end = seq + (uint)Math.Max(ctx.L4Length - dataOffset, 0) + (uint)(flags & L4.TcpFin) + ((uint)(flags & L4.TcpSyn) >> 1);
        ushort hi = (ushort)(end >> 16);
        bool original = ctx.Direction == CtDirection.Original;
        ref ushort td = ref original ? ref e.TcpEndOriginal : ref e.TcpEndReply;
        if ((flags & L4.TcpSyn) != 0)
        {
            td = hi;
            int scale = WindowScaleOption(tcp.Slice(0, Math.Min(dataOffset, ctx.L4Length)));
            e.TcpWindowScales = original
                ? (byte)((e.TcpWindowScales & 0xF0) | (scale + 1))
                : (byte)((e.TcpWindowScales & 0x0F) | ((scale + 1) << 4));
        }
        else if ((short)(hi - td) > 0) td = hi;
    }

    /// <summary>
    /// Whether an RST in <paramref name="dir"/> lies within the window (or the connection is not window-tracked).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static bool RstInWindow(ref PacketContext ctx, in CtEntry e, CtDirection dir)
    {
        if ((e.TcpFlagsOriginal & e.TcpFlagsReply & L4.TcpSyn) == 0) return true; // handshake not seen both ways: liberal
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(ctx.Frame.Slice(ctx.L4Offset + L4.TcpSeqOffset));
        bool original = dir == CtDirection.Original;
        ushort td = original ? e.TcpEndOriginal : e.TcpEndReply;
        int so = e.TcpWindowScales & 0x0F, sr = e.TcpWindowScales >> 4;
        int receiverScale = so == 0 || sr == 0 ? 0 : (original ? sr : so) - 1;
        int bound = (int)((65535u << receiverScale) >> 16) + 1; // the receiver's largest window, in 64 KiB units, + slack
        int diff = (short)((ushort)(seq >> 16) - td);
        return diff >= -bound && diff <= bound;
    }

    /// <summary>The window-scale option of a SYN (kind 3, length 3), clamped to 14 as RFC 7323 requires; -1 when absent.</summary>
    static int WindowScaleOption(ReadOnlySpan<byte> header)
    {
        for (int i = L4.TcpMinLength; i < header.Length;)
        {
            byte kind = header[i];
            if (kind == 0) break;           // end of options
            if (kind == 1) { i++; continue; } // NOP
            if (i + 1 >= header.Length) break;
            int len = header[i + 1];
            if (len < 2 || i + len > header.Length) break;
            if (kind == OptionWindowScale && len == 3) return Math.Min((int)header[i + 2], MaxWindowScale);
            i += len;
        }
        return -1;
    }
}
