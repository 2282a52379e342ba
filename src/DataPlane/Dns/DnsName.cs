using System.Text;

namespace DataPlane.Dns;

/// <summary>Text ↔ wire conversions of domain names, for the control plane, the CLI and tests (these allocate).</summary>
public static class DnsName
{
    /// <summary>
    /// "web.default.svc.cluster.local" (trailing dot optional) → lower-case uncompressed wire form; throws
    /// <see cref="ArgumentException"/> for an empty label, a label over 63 bytes or a name over 255 (RFC 1035 §2.3.4).
    /// </summary>
    public static byte[] ToWire(string name)
    {
        if (!TryToWire(name, out byte[] wire, out string? error)) throw new ArgumentException($"'{name}': {error}");
        return wire;
    }

    public static bool TryToWire(string name, out byte[] wire, out string? error)
    {
        wire = [];
        error = null;
        string n = name.EndsWith('.') ? name[..^1] : name;
        var buf = new List<byte>(n.Length + 2);
        if (n.Length > 0)
            foreach (string label in n.Split('.'))
            {
                if (label.Length == 0) { error = "empty label"; return false; }
                byte[] bytes = Encoding.ASCII.GetBytes(label.ToLowerInvariant());
                if (bytes.Length > 63) { error = $"label '{label}' is longer than 63 bytes"; return false; }
                buf.Add((byte)bytes.Length);
                buf.AddRange(bytes);
            }
        buf.Add(0);
        if (buf.Count > DnsParser.MaxNameLength) { error = "name longer than 255 bytes"; return false; }
        wire = [.. buf];
        return true;
    }

    /// <summary>Uncompressed wire name → absolute text ("a.b." ; the root is ".").</summary>
    public static string ToText(ReadOnlySpan<byte> wire)
    {
        var sb = new StringBuilder();
        int pos = 0;
        while (pos < wire.Length && wire[pos] != 0)
        {
            int n = wire[pos];
            for (int i = 1; i <= n && pos + i < wire.Length; i++)
            {
                byte c = wire[pos + i];
                if (c is (byte)'.' or (byte)'\\') sb.Append('\\').Append((char)c);
                else if (c is < 0x21 or > 0x7E) sb.Append('\\').Append(c.ToString("D3"));
                else sb.Append((char)c);
            }
            sb.Append('.');
            pos += 1 + n;
        }
        return sb.Length == 0 ? "." : sb.ToString();
    }

    /// <summary>"10.96.0.10" as a reverse name: "10.0.96.10.in-addr.arpa" (RFC 1035 §3.5).</summary>
    public static string ReverseName(uint ip) => $"{ip & 0xFF}.{(ip >> 8) & 0xFF}.{(ip >> 16) & 0xFF}.{ip >> 24}.in-addr.arpa";

    /// <summary>
    /// An IPv6 address (host order: the first group in the high bits) as a reverse name: its 32 nibbles, least
    /// significant first, under ip6.arpa (RFC 3596 §2.5): fd00:10:96::a is "a.0.0.0. … .0.0.d.f.ip6.arpa".
    /// </summary>
    public static string ReverseName6(UInt128 ip)
    {
        Span<char> s = stackalloc char[32 * 2 + 8];
        int n = 0;
        for (int i = 0; i < 32; i++)
        {
            s[n++] = "0123456789abcdef"[(int)(ip >> (4 * i)) & 0xF];
            s[n++] = '.';
        }
        "ip6.arpa".CopyTo(s[n..]);
        return new string(s[..(n + 8)]);
    }
}
