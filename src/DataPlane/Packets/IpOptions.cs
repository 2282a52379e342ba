using System.Buffers.Binary;

namespace DataPlane.Packets;

/// <summary>
/// What a forwarding node does to the IPv4 Record Route and Timestamp options (RFC 791; Linux's ip_options_compile on
/// receive, then ip_forward_options): while the option has room, the node writes its address (and, for timestamps,
/// milliseconds since midnight UT) into the next slot and advances the pointer; a full timestamp option gets its
/// overflow counter incremented instead. Which address: the kernel first records the receiving interface's address and
/// ip_forward_options overwrites it with the source address of the outgoing route — the node's address on the egress
/// side, which the caller passes. The header checksum is then recomputed in full: options are rare, this is the
/// out-of-line path. Other options (NOP, EOL, security, source routes...) are left as they are.
/// </summary>
public static class IpOptions
{
    public const byte End = 0;
    public const byte Nop = 1;
    public const byte RecordRoute = 7;
    public const byte Timestamp = 68;
    public const int PointerOffset = 2;          // within an option: type, length, pointer
    public const int TimestampFlagsOffset = 3;   // overflow (high nibble) and flag (low nibble)
    public const byte TsOnly = 0, TsAndAddress = 1, TsPrespecified = 3;

    /// <summary>
    /// Updates the options of the IPv4 header <paramref name="ip"/> (IHL &gt; 5) as a forwarding node.
    /// <paramref name="localAddresses"/> decides whether a prespecified timestamp slot names this node. Returns false for
    /// options the kernel rejects (ip_options_compile's parameter problem: bad length, pointer out of range, a repeated
    /// record-route or timestamp option, an overflow counter at 15); the header is then left unchanged.
    /// </summary>
    public static bool Forward(Span<byte> ip, uint egressAddress, uint msSinceMidnight, ReadOnlySpan<uint> localAddresses)
    {
        int ihl = (ip[0] & 0x0F) * 4;
        if (ihl <= Ipv4Header.MinLength) return true;
        Span<byte> header = stackalloc byte[60];
        ip.Slice(0, ihl).CopyTo(header);                 // work on a copy: a rejected header stays untouched
        Span<byte> opts = header.Slice(Ipv4Header.MinLength, ihl - Ipv4Header.MinLength);
        bool changed = false, seenRr = false, seenTs = false;
        for (int i = 0; i < opts.Length;)
        {
            byte type = opts[i];
            if (type == End) break;
            if (type == Nop) { i++; continue; }
            if (i + 1 >= opts.Length) return false;
            int len = opts[i + 1];
            if (len < 2 || i + len > opts.Length) return false;
            Span<byte> o = opts.Slice(i, len);
            if (type == RecordRoute)
            {
                if (seenRr || len < 3) return false;
                seenRr = true;
                int ptr = o[PointerOffset];
                if (ptr < 4) return false;
                if (ptr <= len)
                {
                    if (ptr + 3 > len) return false;
                    BinaryPrimitives.WriteUInt32BigEndian(o.Slice(ptr - 1), egressAddress);
                    o[PointerOffset] = (byte)(ptr + 4);
                    changed = true;
                }
            }
            else if (type == Timestamp)
            {
                if (seenTs || len < 4) return false;
                seenTs = true;
                int ptr = o[PointerOffset];
                if (ptr < 5) return false;
                int flag = o[TimestampFlagsOffset] & 0x0F;
                if (ptr <= len)
                {
                    if (ptr + 3 > len) return false;
                    switch (flag)
                    {
                        case TsOnly:
                            BinaryPrimitives.WriteUInt32BigEndian(o.Slice(ptr - 1), msSinceMidnight);
                            o[PointerOffset] = (byte)(ptr + 4);
                            changed = true;
                            break;
                        case TsAndAddress:
                            if (ptr + 7 > len) return false;
                            BinaryPrimitives.WriteUInt32BigEndian(o.Slice(ptr - 1), egressAddress);
                            BinaryPrimitives.WriteUInt32BigEndian(o.Slice(ptr + 3), msSinceMidnight);
                            o[PointerOffset] = (byte)(ptr + 8);
                            changed = true;
                            break;
                        case TsPrespecified:
                            if (ptr + 7 > len) return false;
                            // Only the node a slot names stamps it (and moves the pointer); others pass it on as it is.
                            uint named = BinaryPrimitives.ReadUInt32BigEndian(o.Slice(ptr - 1));
                            if (!localAddresses.Contains(named)) break;
                            BinaryPrimitives.WriteUInt32BigEndian(o.Slice(ptr + 3), msSinceMidnight);
                            o[PointerOffset] = (byte)(ptr + 8);
                            changed = true;
                            break;
                        default:
                            break; // unknown flag: left alone (the kernel refuses it only from unprivileged senders)
                    }
                }
                else if (flag != TsPrespecified)
                {
                    int overflow = o[TimestampFlagsOffset] >> 4;
                    if (overflow == 15) return false;
                    o[TimestampFlagsOffset] = (byte)((o[TimestampFlagsOffset] & 0x0F) | ((overflow + 1) << 4));
                    changed = true;
                }
            }
            i += len;
        }
        if (!changed) return true;
        header[Ipv4Header.ChecksumOffset] = header[Ipv4Header.ChecksumOffset + 1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(header.Slice(Ipv4Header.ChecksumOffset), Checksum.Compute(header.Slice(0, ihl)));
        header.Slice(0, ihl).CopyTo(ip);
        return true;
    }

    /// <summary>RFC 791's timestamp: milliseconds since midnight UT of a Unix-epoch clock in ns (inet_current_timestamp).</summary>
    public static uint MillisecondsSinceMidnight(long unixNs) => (uint)((ulong)(unixNs / 1_000_000) % 86_400_000UL);
}
