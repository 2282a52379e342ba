namespace DataPlane.IO.Pcap;

/// <summary>
/// What a pcapng Interface Description Block (draft-ietf-opsawg-pcapng section 4.2) says about the packets that refer
/// to it: link type, snaplen, and how to turn its timestamp units into nanoseconds.
/// </summary>
internal readonly struct PcapNgInterface
{
    /// <summary>LinkType field of the IDB.</summary>
    public readonly LinkType LinkType;

    /// <summary>SnapLen field of the IDB; 0 means no limit. Bounds the data of Simple Packet Blocks (section 4.4).</summary>
    public readonly uint SnapLength;

    /// <summary>ns per timestamp unit when if_tsresol is 10^-n with n &lt;= 9 (1000 for the default 10^-6).</summary>
    private readonly ulong _multiplier;

    /// <summary>Timestamp units per ns when if_tsresol is 10^-n with n &gt; 9; 0 otherwise.</summary>
    private readonly ulong _divisor;

    /// <summary>n when if_tsresol is 2^-n (most significant bit set, section 4.2); -1 for decimal resolutions.</summary>
    private readonly int _binaryShift;

    /// <summary>if_tsoffset (section 4.2): seconds to add to every timestamp, converted to ns.</summary>
    private readonly long _offsetNs;

    private PcapNgInterface(LinkType linkType, uint snapLength, ulong multiplier, ulong divisor, int binaryShift, long offsetNs)
    {
        LinkType = linkType;
        SnapLength = snapLength;
        _multiplier = multiplier;
        _divisor = divisor;
        _binaryShift = binaryShift;
        _offsetNs = offsetNs;
    }

    /// <summary>
    /// Builds the interface from its IDB fields. Returns false when if_tsresol cannot be represented (10^-n with
    /// n &gt; 28 or 2^-n with n &gt; 63): no real capture uses those, and the arithmetic would overflow.
    /// </summary>
    public static bool TryCreate(LinkType linkType, uint snapLength, byte tsresol, long tsoffsetSeconds, out PcapNgInterface result)
    {
        ulong multiplier = 0, divisor = 0;
        int shift = -1;
        int exponent = tsresol & 0x7F;
        if ((tsresol & 0x80) != 0)
        {
            if (exponent > 63)
            {
                result = default;
                return false;
            }

            shift = exponent;
        }
        else if (exponent <= 9)
        {
            multiplier = Pow10(9 - exponent);
        }
        else if (exponent <= 28)
        {
            divisor = Pow10(exponent - 9);
        }
        else
        {
            result = default;
            return false;
        }

        result = new PcapNgInterface(linkType, snapLength, multiplier, divisor, shift, unchecked(tsoffsetSeconds * 1_000_000_000L));
        return true;
    }

    /// <summary>Converts a 64-bit EPB/OPB timestamp (units since 1970 per if_tsresol) to ns since the Unix epoch.</summary>
    public long ToNanoseconds(ulong units)
    {
        ulong ns;
        if (_binaryShift >= 0)
        {
            // units * 1e9 / 2^n without losing the high bits: 128-bit product, then shift (le_test902.pcapng uses 2^-8).
            ns = (ulong)(((UInt128)units * 1_000_000_000UL) >> _binaryShift);
        }
        else if (_divisor != 0)
        {
            ns = units / _divisor;
        }
        else
        {
            ns = unchecked(units * _multiplier);
        }

        // Garbage timestamps wrap rather than throw: the frame is still delivered, the file is not "malformed" by it.
        return unchecked((long)ns + _offsetNs);
    }

    private static ulong Pow10(int exponent)
    {
        ulong value = 1;
        for (int i = 0; i < exponent; i++)
        {
            value *= 10;
        }

        return value;
    }
}
