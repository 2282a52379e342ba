using System.Buffers.Binary;
using System.Net;

namespace DataPlane.FixtureBuilder.Verify;

/// <summary>
/// A <c>tcpdump -i any</c> capture of a node (tests/kernel-captures/make.sh), read with nothing of DataPlane's: a classic
/// pcap file of LINUX_SLL (113) or LINUX_SLL2 (276) frames, each an IPv4 packet. It pairs every packet the node received
/// with the copy it sent on (same IP ID, total length and L4 payload, TTL one less), and from those pairs tells each
/// connection's client tuple, the backend the kernel chose and the frames that belong to it. The altered copies and the
/// fixture tests both read captures through this, so neither depends on the code under test.
/// </summary>
public sealed class KernelCapture
{
    /// <summary>LINKTYPE_LINUX_SLL: a 16-byte cooked header, packet type at 0, protocol at 14.</summary>
    public const uint LinkSll = 113;

    /// <summary>LINKTYPE_LINUX_SLL2: a 20-byte cooked header, protocol at 0, interface index at 4, packet type at 10.</summary>
    public const uint LinkSll2 = 276;

    /// <summary>PACKET_OUTGOING in the cooked header's packet type: a packet the node sent.</summary>
    public const int PacketOutgoing = 4;

    KernelCapture(byte[] header, uint linkType, List<Frame> frames)
    {
        FileHeader = header;
        LinkType = linkType;
        Frames = frames;
        var pairs = PairTranslations(frames);
        Pairs = pairs;
        Connections = GroupConnections(frames, pairs);
    }

    /// <summary>The pcap global header, written back unchanged.</summary>
    public byte[] FileHeader { get; }

    public uint LinkType { get; }

    /// <summary>Every record, in file order (<see cref="Frame.Number"/> is 1-based, as Wireshark counts).</summary>
    public IReadOnlyList<Frame> Frames { get; }

    /// <summary>Each received packet and the copy the node sent on: (received frame, sent frame).</summary>
    public IReadOnlyList<(Frame In, Frame Out)> Pairs { get; }

    /// <summary>Connections by their client tuple, in order of first frame.</summary>
    public IReadOnlyList<Connection> Connections { get; }

    /// <summary>Offset of the IPv4 header in a record's data.</summary>
    public int L3Offset => LinkType == LinkSll2 ? 20 : 16;

    public static KernelCapture Read(string path) => Parse(File.ReadAllBytes(path));

    public static KernelCapture Parse(byte[] file)
    {
        if (file.Length < 24) throw new InvalidDataException("not a pcap file: shorter than its header");
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(file);
        // tcpdump writes in the host's order (little-endian here); microsecond (a1b2c3d4) or nanosecond (a1b23c4d).
        if (magic is not (0xa1b2c3d4 or 0xa1b23c4d)) throw new InvalidDataException($"not a little-endian pcap file (magic {magic:x8})");
        uint link = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(20)) & 0x0fffffff;
        if (link is not (LinkSll or LinkSll2)) throw new InvalidDataException($"link type {link}: not a tcpdump -i any capture (113 or 276)");
        int l3 = link == LinkSll2 ? 20 : 16;
        var frames = new List<Frame>();
        int at = 24;
        while (at + 16 <= file.Length)
        {
            uint caplen = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 8));
            if (at + 16 + caplen > file.Length) throw new InvalidDataException($"record {frames.Count + 1} runs past the end of the file");
            byte[] record = file.AsSpan(at, 16 + (int)caplen).ToArray();
            frames.Add(new Frame(frames.Count + 1, record, link, l3));
            at += 16 + (int)caplen;
        }
        return new KernelCapture(file.AsSpan(0, 24).ToArray(), link, frames);
    }

    /// <summary>The file with its records as they are now (after <see cref="Frame"/> edits).</summary>
    public byte[] ToBytes()
    {
        var ms = new MemoryStream();
        ms.Write(FileHeader);
        foreach (Frame f in Frames) ms.Write(f.Record);
        return ms.ToArray();
    }

    static List<(Frame In, Frame Out)> PairTranslations(List<Frame> frames)
    {
        var pairs = new List<(Frame In, Frame Out)>();
        var used = new HashSet<int>();
        foreach (Frame i in frames)
        {
            if (i.Outgoing || !i.IsTcpOrUdp) continue;
            // The kernel sends the forwarded copy right after it received the packet; a few frames of other connections
            // may come between (the capture interleaves both interfaces).
            for (int k = i.Number; k < Math.Min(frames.Count, i.Number + 12); k++)
            {
                Frame o = frames[k];
                if (!o.Outgoing || used.Contains(o.Number) || !o.IsTcpOrUdp) continue;
                if (o.Protocol != i.Protocol || o.IpId != i.IpId || o.TotalLength != i.TotalLength || o.Ttl + 1 != i.Ttl) continue;
                if (!o.L4Payload.SequenceEqual(i.L4Payload)) continue;
                if (i.Protocol == 6 && (o.TcpSeq != i.TcpSeq || o.TcpAck != i.TcpAck || o.TcpFlags != i.TcpFlags)) continue;
                pairs.Add((i, o));
                used.Add(o.Number);
                break;
            }
        }
        return pairs;
    }

    static List<Connection> GroupConnections(List<Frame> frames, List<(Frame In, Frame Out)> pairs)
    {
        var byKey = new Dictionary<string, Connection>();
        var order = new List<Connection>();
        Connection Get(string proto, string client, string frontend)
        {
            string key = $"{proto} {client} {frontend}";
            if (!byKey.TryGetValue(key, out Connection? c))
            {
                c = new Connection(proto, client, frontend);
                byKey[key] = c;
                order.Add(c);
            }
            return c;
        }

        // In file order: a pair whose received packet comes from a connection's backend side (backend -> the source the
        // node sent with) is a reply of that connection; any other is the client's (the first packet of a connection is
        // always the client's). Both directions may change both addresses (DNAT and masquerade, their reverses).
        var backendSide = new Dictionary<string, Connection>();
        foreach (var (i, o) in pairs)
        {
            if (backendSide.TryGetValue($"{i.Proto} {i.Src} {i.Dst}", out Connection? r))
            {
                r.Replies.Add((i, o));
                continue;
            }
            if (i.Src == o.Src && i.Dst == o.Dst) continue; // forwarded untranslated: no service's
            Connection c = Get(i.Proto, i.Src, i.Dst);
            c.Backend ??= o.Dst;
            c.SentSource ??= o.Src;
            c.Forward.Add((i, o));
            backendSide[$"{o.Proto} {o.Dst} {o.Src}"] = c;
        }
        // Received packets nobody forwarded: the REJECTed ones (answered by an ICMP error quoting them).
        var paired = new HashSet<int>(pairs.Select(p => p.In.Number));
        foreach (Frame i in frames)
        {
            if (i.Outgoing || !i.IsTcpOrUdp || paired.Contains(i.Number)) continue;
            if (backendSide.ContainsKey($"{i.Proto} {i.Src} {i.Dst}")) continue;
            Connection c = Get(i.Proto, i.Src, i.Dst);
            c.Unforwarded.Add(i);
        }
        foreach (Frame o in frames)
        {
            if (!o.Outgoing || o.Protocol != 1 || !o.TryQuotedTuple(out string proto, out string src, out string dst)) continue;
            if (byKey.TryGetValue($"{proto} {src} {dst}", out Connection? c)) c.IcmpErrors.Add(o);
        }
        return order;
    }

    /// <summary>One record: the 16-byte pcap record header, the cooked header, the IPv4 packet.</summary>
    public sealed class Frame
    {
        readonly int _l3;
        readonly uint _link;

        internal Frame(int number, byte[] record, uint link, int l3)
        {
            Number = number;
            Record = record;
            _link = link;
            _l3 = 16 + l3;
        }

        public int Number { get; }

        /// <summary>The record header and data; edits write through to the file <see cref="ToBytes"/> makes.</summary>
        public byte[] Record { get; }

        Span<byte> Ip => Record.AsSpan(_l3);

        public int PacketType => _link == LinkSll2 ? Record[16 + 10] : BinaryPrimitives.ReadUInt16BigEndian(Record.AsSpan(16));

        public bool Outgoing => PacketType == PacketOutgoing;

        public int IhlBytes => (Ip[0] & 0x0f) * 4;
        public int TotalLength => BinaryPrimitives.ReadUInt16BigEndian(Ip[2..]);
        public ushort IpId => BinaryPrimitives.ReadUInt16BigEndian(Ip[4..]);
        public int Ttl { get => Ip[8]; set => Ip[8] = (byte)value; }
        public int Protocol => Ip[9];
        public string Proto => Protocol switch { 6 => "tcp", 17 => "udp", 1 => "icmp", var p => p.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        public bool IsTcpOrUdp => Protocol is 6 or 17;
        public bool IsFragment => (BinaryPrimitives.ReadUInt16BigEndian(Ip[6..]) & 0x3fff) != 0;

        public IPAddress SrcIp { get => new(Ip.Slice(12, 4)); set => value.TryWriteBytes(Ip.Slice(12, 4), out _); }
        public IPAddress DstIp { get => new(Ip.Slice(16, 4)); set => value.TryWriteBytes(Ip.Slice(16, 4), out _); }
        Span<byte> L4 => Ip[IhlBytes..TotalLength];
        public int SrcPort { get => BinaryPrimitives.ReadUInt16BigEndian(L4); set => BinaryPrimitives.WriteUInt16BigEndian(L4, (ushort)value); }
        public int DstPort { get => BinaryPrimitives.ReadUInt16BigEndian(L4[2..]); set => BinaryPrimitives.WriteUInt16BigEndian(L4[2..], (ushort)value); }

        /// <summary>"ip:port" of the source / destination.</summary>
        public string Src => $"{SrcIp}:{SrcPort}";
        public string Dst => $"{DstIp}:{DstPort}";

        public uint TcpSeq => BinaryPrimitives.ReadUInt32BigEndian(L4[4..]);
        public uint TcpAck => BinaryPrimitives.ReadUInt32BigEndian(L4[8..]);
        public byte TcpFlags => L4[13];
        int L4HeaderBytes => Protocol == 6 ? (L4[12] >> 4) * 4 : 8;
        public byte[] L4Payload => L4[L4HeaderBytes..].ToArray();
        int L4ChecksumOffset => Protocol == 6 ? 16 : 6;

        public ushort L4Checksum
        {
            get => BinaryPrimitives.ReadUInt16BigEndian(L4[L4ChecksumOffset..]);
            set => BinaryPrimitives.WriteUInt16BigEndian(L4[L4ChecksumOffset..], value);
        }

        /// <summary>Recomputes the IPv4 header checksum (RFC 791) and the TCP/UDP checksum over the pseudo-header (RFC 793,
        /// RFC 768; a UDP checksum of 0, "none", stays 0).</summary>
        public void RecomputeChecksums()
        {
            Span<byte> ip = Ip;
            ip[10] = 0; ip[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Fold(Checksum.Sum(ip[..IhlBytes], 0)));
            if (!IsTcpOrUdp || IsFragment) return;
            if (Protocol == 17 && L4Checksum == 0) return;
            L4Checksum = 0;
            L4Checksum = ComputedL4Checksum();
        }

        /// <summary>The TCP/UDP checksum this packet should carry.</summary>
        public ushort ComputedL4Checksum()
        {
            Span<byte> l4 = L4;
            ushort saved = L4Checksum;
            L4Checksum = 0;
            Span<byte> pseudo = stackalloc byte[12];
            Ip.Slice(12, 8).CopyTo(pseudo);
            pseudo[8] = 0;
            pseudo[9] = (byte)Protocol;
            BinaryPrimitives.WriteUInt16BigEndian(pseudo[10..], (ushort)l4.Length);
            ushort sum = Checksum.Fold(Checksum.Sum(l4, Checksum.Sum(pseudo, 0)));
            L4Checksum = saved;
            if (Protocol == 17 && sum == 0) sum = 0xffff; // RFC 768: a computed 0 is sent as all ones
            return sum;
        }

        public bool IpChecksumValid => Checksum.Fold(Checksum.Sum(Ip[..IhlBytes], 0)) == 0;

        public bool L4ChecksumValid => (Protocol == 17 && L4Checksum == 0) || ComputedL4Checksum() == L4Checksum;

        /// <summary>For an ICMP error: the tuple of the packet it quotes.</summary>
        public bool TryQuotedTuple(out string proto, out string src, out string dst)
        {
            proto = src = dst = "";
            Span<byte> icmp = Ip[IhlBytes..TotalLength];
            if (icmp.Length < 8 + 20 + 4 || icmp[0] is not (3 or 11)) return false;
            Span<byte> q = icmp[8..];
            int qihl = (q[0] & 0x0f) * 4;
            if (q.Length < qihl + 4 || q[9] is not (6 or 17)) return false;
            proto = q[9] == 6 ? "tcp" : "udp";
            src = $"{new IPAddress(q.Slice(12, 4))}:{BinaryPrimitives.ReadUInt16BigEndian(q[qihl..])}";
            dst = $"{new IPAddress(q.Slice(16, 4))}:{BinaryPrimitives.ReadUInt16BigEndian(q[(qihl + 2)..])}";
            return true;
        }

        public (int Type, int Code) Icmp => (Ip[IhlBytes], Ip[IhlBytes + 1]);

        public override string ToString() => $"#{Number} {(Outgoing ? "out" : "in ")} {Proto} {(IsTcpOrUdp ? $"{Src} -> {Dst}" : $"{SrcIp} -> {DstIp}")} ttl {Ttl}";
    }

    /// <summary>One client connection (TCP) or exchange (UDP): what the client sent to <see cref="Frontend"/>.</summary>
    public sealed class Connection(string proto, string client, string frontend)
    {
        public string Proto { get; } = proto;

        /// <summary>The client's "ip:port" as the node received it.</summary>
        public string Client { get; } = client;

        /// <summary>The "ip:port" the client sent to: a ClusterIP:port or node IP:nodePort.</summary>
        public string Frontend { get; } = frontend;

        /// <summary>The destination after DNAT ("ip:port"), null when nothing was forwarded.</summary>
        public string? Backend { get; set; }

        /// <summary>The source the forwarded packets carried (the client, or the masquerade address and port).</summary>
        public string? SentSource { get; set; }

        public List<(Frame In, Frame Out)> Forward { get; } = [];
        public List<(Frame In, Frame Out)> Replies { get; } = [];
        public List<Frame> Unforwarded { get; } = [];
        public List<Frame> IcmpErrors { get; } = [];

        public string BackendIp => Backend is null ? "" : Backend[..Backend.LastIndexOf(':')];

        public override string ToString() => $"{Proto} {Client} -> {Frontend} backend {Backend ?? "-"} as {SentSource ?? "-"}";
    }
}
