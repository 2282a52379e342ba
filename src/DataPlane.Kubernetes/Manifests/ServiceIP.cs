using System.Net;
using System.Net.Sockets;
using DataPlane.Packets;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>
/// A service address of either family, as the control plane keeps it: the data plane is IPv4-only (its addresses are
/// <c>uint</c>), but the API server's rules (spec.clusterIPs, one per family) need both. <see cref="Value"/> is the address
/// as a number in host order: the low 32 bits for IPv4 (the <c>uint</c> of <see cref="Ip4"/>), all 128 for IPv6.
/// </summary>
public readonly record struct ServiceIP(IPFamily Family, UInt128 Value)
{
    public static ServiceIP V4(uint address) => new(IPFamily.IPv4, address);

    public static ServiceIP V6(UInt128 address) => new(IPFamily.IPv6, address);

    public bool IsIPv4 => Family == IPFamily.IPv4;

    /// <summary>The IPv4 address; only meaningful when <see cref="IsIPv4"/>.</summary>
    public uint IPv4 => (uint)Value;

    /// <summary>
    /// Dotted quad, or the RFC 5952 text the API server stores for an allocated IPv6 address (Go's <c>net.IP.String</c>:
    /// lowercase, longest zero run compressed); .NET's IPv6 formatting is the same canonical form.
    /// </summary>
    public override string ToString() => IsIPv4 ? Ip4.Format(IPv4) : FormatV6(Value);

    public static string FormatV6(UInt128 address)
    {
        Span<byte> bytes = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, address);
        return new IPAddress(bytes).ToString();
    }

    /// <summary>
    /// An IPv4 address in the strict dotted form the API accepts (no leading zeros), or an IPv6 address without a zone.
    /// (An IPv4-mapped "::ffff:a.b.c.d" counts as IPv6 here; Go's <c>netutils.IsIPv6String</c> calls it IPv4. No
    /// cluster writes one as a cluster IP.)
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out ServiceIP ip)
    {
        ip = default;
        if (Ip4.TryParse(text, out uint v4))
        {
            ip = V4(v4);
            return true;
        }
        if (TryParseV6(text, out UInt128 v6))
        {
            ip = V6(v6);
            return true;
        }
        return false;
    }

    /// <summary>A syntactically valid IPv6 address without a zone (the API's IsValidIP refuses "%zone").</summary>
    public static bool TryParseV6(ReadOnlySpan<char> text, out UInt128 address)
    {
        address = 0;
        if (!text.Contains(':') || text.Contains('%') || !IPAddress.TryParse(text, out IPAddress? parsed) || parsed.AddressFamily != AddressFamily.InterNetworkV6)
            return false;
        Span<byte> bytes = stackalloc byte[16];
        parsed.TryWriteBytes(bytes, out _);
        address = System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes);
        return true;
    }
}
