using System.Buffers.Binary;
using System.Text;

namespace DataPlane.Dns;

/// <summary>A decoded response in zone-file text form (what <c>dig</c> prints), for the CLI and tests.</summary>
public sealed record DnsMessage(ushort Id, ushort Flags, int Rcode, string? QuestionName, ushort QuestionType,
    IReadOnlyList<string> Answer, IReadOnlyList<string> Authority, IReadOnlyList<string> Additional, int? EdnsUdpSize)
{
    public bool Truncated => (Flags & 0x0200) != 0;
    public bool Authoritative => (Flags & 0x0400) != 0;
    public string RcodeName => DnsRcode.Name(Rcode);

    /// <summary>A query message: one question, RD set as stub resolvers send it, optionally an OPT with a UDP size.</summary>
    public static byte[] BuildQuery(string name, ushort type, ushort id, ushort? ednsUdpSize = null)
    {
        byte[] wire = DnsName.ToWire(name);
        var m = new byte[12 + wire.Length + 4 + (ednsUdpSize is null ? 0 : 11)];
        BinaryPrimitives.WriteUInt16BigEndian(m, id);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), 0x0100);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(10), (ushort)(ednsUdpSize is null ? 0 : 1));
        // The name as given (spelling kept: servers echo it); ToWire lower-cases, so copy the labels by hand.
        string n = name.TrimEnd('.');
        int p = 12;
        if (n.Length > 0)
            foreach (string label in n.Split('.'))
            {
                m[p++] = (byte)label.Length;
                p += Encoding.ASCII.GetBytes(label, m.AsSpan(p));
            }
        m[p++] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(p), type);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(p + 2), DnsType.ClassIN);
        p += 4;
        if (ednsUdpSize is ushort size)
        {
            m[p] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(p + 1), DnsType.OPT);
            BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(p + 3), size);
        }
        return m;
    }

    /// <summary>Decodes a response; null when it is malformed.</summary>
    public static DnsMessage? Decode(ReadOnlySpan<byte> msg)
    {
        if (msg.Length < 12) return null;
        ushort id = BinaryPrimitives.ReadUInt16BigEndian(msg);
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(msg[2..]);
        int qd = BinaryPrimitives.ReadUInt16BigEndian(msg[4..]), an = BinaryPrimitives.ReadUInt16BigEndian(msg[6..]);
        int ns = BinaryPrimitives.ReadUInt16BigEndian(msg[8..]), ar = BinaryPrimitives.ReadUInt16BigEndian(msg[10..]);
        Span<byte> name = stackalloc byte[DnsParser.MaxNameLength];
        int pos = 12;
        string? qname = null;
        ushort qtype = 0;
        for (int i = 0; i < qd; i++)
        {
            int len = DnsParser.ReadName(msg, pos, name, out pos, out _, out _);
            if (len < 0 || pos + 4 > msg.Length) return null;
            qname = DnsName.ToText(name[..len]);
            qtype = BinaryPrimitives.ReadUInt16BigEndian(msg[pos..]);
            pos += 4;
        }
        int rcode = flags & 0xF;
        int? edns = null;
        var sections = new List<string>[] { [], [], [] };
        int[] counts = [an, ns, ar];
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < counts[s]; i++)
            {
                int len = DnsParser.ReadName(msg, pos, name, out pos, out _, out _);
                if (len < 0 || pos + 10 > msg.Length) return null;
                string owner = DnsName.ToText(name[..len]);
                ushort type = BinaryPrimitives.ReadUInt16BigEndian(msg[pos..]);
                ushort cls = BinaryPrimitives.ReadUInt16BigEndian(msg[(pos + 2)..]);
                uint ttl = BinaryPrimitives.ReadUInt32BigEndian(msg[(pos + 4)..]);
                int rdlen = BinaryPrimitives.ReadUInt16BigEndian(msg[(pos + 8)..]);
                int rd = pos + 10;
                pos = rd + rdlen;
                if (pos > msg.Length) return null;
                if (type == DnsType.OPT)
                {
                    edns = cls;
                    rcode |= (int)(ttl >> 24) << 4;
                    continue;
                }
                string? data = RdataText(msg, rd, rdlen, type);
                if (data is null) return null;
                sections[s].Add($"{owner} {ttl} {(cls == DnsType.ClassIN ? "IN" : "CLASS" + cls)} {DnsType.Name(type)} {data}");
            }
        return new DnsMessage(id, flags, rcode, qname, qtype, sections[0], sections[1], sections[2], edns);
    }

    static string? RdataText(ReadOnlySpan<byte> msg, int at, int len, ushort type)
    {
        ReadOnlySpan<byte> d = msg.Slice(at, len);
        Span<byte> n1 = stackalloc byte[DnsParser.MaxNameLength];
        Span<byte> n2 = stackalloc byte[DnsParser.MaxNameLength];
        switch (type)
        {
            case DnsType.A when len == 4:
                return $"{d[0]}.{d[1]}.{d[2]}.{d[3]}";
            case DnsType.AAAA when len == 16:
                return new System.Net.IPAddress(d).ToString();
            case DnsType.CNAME or DnsType.PTR or DnsType.NS:
            {
                int l = DnsParser.ReadName(msg, at, n1, out int end, out _, out _);
                return l < 0 || end != at + len ? null : DnsName.ToText(n1[..l]);
            }
            case DnsType.SRV when len >= 7:
            {
                int l = DnsParser.ReadName(msg, at + 6, n1, out int end, out _, out _);
                if (l < 0 || end != at + len) return null;
                return $"{BinaryPrimitives.ReadUInt16BigEndian(d)} {BinaryPrimitives.ReadUInt16BigEndian(d[2..])} {BinaryPrimitives.ReadUInt16BigEndian(d[4..])} {DnsName.ToText(n1[..l])}";
            }
            case DnsType.SOA:
            {
                int l1 = DnsParser.ReadName(msg, at, n1, out int p, out _, out _);
                if (l1 < 0) return null;
                int l2 = DnsParser.ReadName(msg, p, n2, out p, out _, out _);
                if (l2 < 0 || p + 20 != at + len) return null;
                ReadOnlySpan<byte> f = msg.Slice(p, 20);
                return $"{DnsName.ToText(n1[..l1])} {DnsName.ToText(n2[..l2])} {BinaryPrimitives.ReadUInt32BigEndian(f)} {BinaryPrimitives.ReadUInt32BigEndian(f[4..])} {BinaryPrimitives.ReadUInt32BigEndian(f[8..])} {BinaryPrimitives.ReadUInt32BigEndian(f[12..])} {BinaryPrimitives.ReadUInt32BigEndian(f[16..])}";
            }
            case DnsType.TXT:
            {
                var sb = new StringBuilder();
                for (int i = 0; i < d.Length;)
                {
                    int l = d[i];
                    if (i + 1 + l > d.Length) return null;
                    if (sb.Length > 0) sb.Append(' ');
                    sb.Append('"').Append(Encoding.ASCII.GetString(d.Slice(i + 1, l)).Replace("\\", "\\\\").Replace("\"", "\\\"")).Append('"');
                    i += 1 + l;
                }
                return sb.ToString();
            }
            default:
                return $"\\# {len} {Convert.ToHexString(d)}";
        }
    }
}
