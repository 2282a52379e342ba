using System.Buffers.Binary;

namespace DataPlane.Dns;

/// <summary>
/// Collects a zone's names and records (control plane and tests), then lays them out as a <see cref="DnsZone"/>.
/// Identical records at one name are merged (CoreDNS merges duplicate SRV targets); records of a name keep their
/// insertion order within each type. Not thread-safe; allocation is fine here, off the packet path.
/// </summary>
public sealed class DnsZoneBuilder
{
    sealed class Pending
    {
        public ushort Type;
        public uint Ttl;
        public byte[] Data = [];
        public string? Target; // SRV/NS/CNAME: whose A records go in the additional section (or are chased)
    }

    sealed class NameState
    {
        public byte[] Wire = [];
        public byte Flags;
        public List<Pending> Records = [];
        // The records' (type, rdata) once a name has more than a few: the duplicate check stays O(1) per record, so a
        // headless service's name with 60 000 A and SRV records builds in linear time (a scan per record was quadratic).
        public HashSet<Pending>? Seen;
    }

    /// <summary>Equality of two records by type and rdata (what makes them duplicates).</summary>
    sealed class SameRecord : IEqualityComparer<Pending>
    {
        public static readonly SameRecord Instance = new();
        public bool Equals(Pending? x, Pending? y) => x!.Type == y!.Type && x.Data.AsSpan().SequenceEqual(y.Data);
        public int GetHashCode(Pending p)
        {
            var h = new HashCode();
            h.Add(p.Type);
            h.AddBytes(p.Data);
            return h.ToHashCode();
        }
    }

    /// <summary>Up to this many records a name's duplicate check is a scan (no set allocated for the common small name).</summary>
    const int ScanLimit = 8;

    readonly Dictionary<string, NameState> _names = [];
    readonly List<string> _order = [];

    public DnsZoneBuilder(string zone, uint ttl)
    {
        Zone = Normalize(zone);
        Ttl = ttl;
    }

    /// <summary>The zone (cluster domain), lower case, no trailing dot.</summary>
    public string Zone { get; }
    public uint Ttl { get; }

    static string Normalize(string name) => name.TrimEnd('.').ToLowerInvariant();

    NameState State(string name)
    {
        string n = Normalize(name);
        if (!_names.TryGetValue(n, out NameState? s))
        {
            s = new NameState { Wire = Encode(n) };
            _names.Add(n, s);
            _order.Add(n);
        }
        return s;
    }

    /// <summary>
    /// <see cref="DnsName.ToWire"/> of an already normalized name (lower case, no trailing dot) in one pass and one
    /// allocation: every name of a zone goes through here, 180 000 of them for a 60 000-endpoint headless service, and
    /// the general encoder's split and per-label strings were most of the build. Anything unusual (non-ASCII, an empty
    /// or long label, a long name) goes to the general encoder, which gives the same bytes or the same error.
    /// </summary>
    static byte[] Encode(string n)
    {
        if (n.Length == 0 || n.Length > DnsParser.MaxNameLength) return DnsName.ToWire(n);
        Span<byte> buf = stackalloc byte[DnsParser.MaxNameLength + 2];
        int pos = 0, start = 0;
        for (int i = 0; i <= n.Length; i++)
        {
            if (i < n.Length && n[i] != '.')
            {
                if (n[i] > 0x7F) return DnsName.ToWire(n);
                continue;
            }
            int length = i - start;
            if (length is 0 or > 63) return DnsName.ToWire(n);
            buf[pos++] = (byte)length;
            for (int k = start; k < i; k++) buf[pos++] = (byte)n[k];
            start = i + 1;
        }
        buf[pos++] = 0;
        return pos > DnsParser.MaxNameLength ? DnsName.ToWire(n) : buf[..pos].ToArray();
    }

    public bool Contains(string name) => _names.ContainsKey(Normalize(name));

    /// <summary>Makes <paramref name="name"/> exist (NODATA rather than NXDOMAIN when it has no records).</summary>
    public void AddName(string name, byte flags = 0) => State(name).Flags |= flags;

    void Add(string name, ushort type, uint ttl, byte[] data, string? target = null)
    {
        NameState s = State(name);
        var record = new Pending { Type = type, Ttl = ttl, Data = data, Target = target is null ? null : Normalize(target) };
        if (s.Seen is null)
        {
            foreach (Pending p in s.Records)
                if (p.Type == type && p.Data.AsSpan().SequenceEqual(data)) return;
            if (s.Records.Count >= ScanLimit) s.Seen = new HashSet<Pending>(s.Records, SameRecord.Instance);
        }
        if (s.Seen is not null && !s.Seen.Add(record)) return;
        s.Records.Add(record);
    }

    public void AddA(string name, uint ip, uint? ttl = null)
    {
        var d = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(d, ip);
        Add(name, DnsType.A, ttl ?? Ttl, d);
    }

    /// <summary>An AAAA record (RFC 3596 §2.2): the 16 address bytes in network order; <paramref name="ip"/> in host order.</summary>
    public void AddAaaa(string name, UInt128 ip, uint? ttl = null)
    {
        var d = new byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(d, ip);
        Add(name, DnsType.AAAA, ttl ?? Ttl, d);
    }

    public void AddCname(string name, string target) => Add(name, DnsType.CNAME, Ttl, WireOf(target), target);
    public void AddPtr(string name, string target) => Add(name, DnsType.PTR, Ttl, WireOf(target));
    public void AddNs(string name, string target) => Add(name, DnsType.NS, Ttl, WireOf(target), target);

    /// <summary>
    /// A target's wire form: the one already made for it when it is a name of the zone (an endpoint's name is the
    /// target of its PTR and of every SRV record naming it), else encoded now. Never written to, so sharing is safe.
    /// </summary>
    byte[] WireOf(string target) => _names.TryGetValue(Normalize(target), out NameState? s) ? s.Wire : DnsName.ToWire(target);

    public void AddSrv(string name, ushort priority, ushort weight, ushort port, string target)
    {
        byte[] t = WireOf(target);
        var d = new byte[6 + t.Length];
        BinaryPrimitives.WriteUInt16BigEndian(d, priority);
        BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(2), weight);
        BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(4), port);
        t.CopyTo(d, 6);
        Add(name, DnsType.SRV, Ttl, d, target);
    }

    /// <summary>One character-string (RFC 1035 §3.3.14; at most 255 bytes).</summary>
    public void AddTxt(string name, string text, uint? ttl = null)
    {
        byte[] t = System.Text.Encoding.ASCII.GetBytes(text);
        if (t.Length > 255) throw new ArgumentException("TXT string longer than 255 bytes");
        Add(name, DnsType.TXT, ttl ?? Ttl, [(byte)t.Length, .. t]);
    }

    public void AddSoa(string name, string mname, string rname, uint serial, uint refresh, uint retry, uint expire, uint minimum, uint ttl)
    {
        byte[] m = DnsName.ToWire(mname), r = DnsName.ToWire(rname);
        var d = new byte[m.Length + r.Length + 20];
        m.CopyTo(d, 0);
        r.CopyTo(d, m.Length);
        Span<byte> f = d.AsSpan(m.Length + r.Length);
        BinaryPrimitives.WriteUInt32BigEndian(f, serial);
        BinaryPrimitives.WriteUInt32BigEndian(f[4..], refresh);
        BinaryPrimitives.WriteUInt32BigEndian(f[8..], retry);
        BinaryPrimitives.WriteUInt32BigEndian(f[12..], expire);
        BinaryPrimitives.WriteUInt32BigEndian(f[16..], minimum);
        Add(name, DnsType.SOA, ttl, d);
    }

    public DnsZone Build(DnsZoneSettings settings)
    {
        // Sized up front: a 300 000-record zone grown by doubling allocated (and zeroed) its large arrays again and
        // again, which was most of the build's time under a profiler (page faults and memset).
        int nameBytes = 0, dataBytes = 0, recordTotal = 0;
        foreach (NameState st in _names.Values)
        {
            nameBytes += st.Wire.Length;
            recordTotal += st.Records.Count;
            foreach (Pending p in st.Records) dataBytes += p.Data.Length;
        }
        var names = new List<byte>(nameBytes);
        var data = new List<byte>(dataBytes);
        var records = new List<DnsRecord>(recordTotal);
        var entries = new DnsZone.Entry[_order.Count];
        var firstA = new Dictionary<string, (int Start, int Count)>();
        var pendingOf = new List<(int Record, string Target)>();
        for (int i = 0; i < _order.Count; i++)
        {
            NameState s = _names[_order[i]];
            int nameAt = names.Count;
            names.AddRange(s.Wire);
            entries[i] = new DnsZone.Entry
            {
                Name = nameAt, NameLength = (byte)s.Wire.Length, Flags = s.Flags, Hash = DnsZone.Hash(s.Wire),
                RecordStart = records.Count, RecordCount = s.Records.Count,
            };
            // Grouped by type, in order of first appearance: a type's records are one contiguous run (already so when
            // the name has one type, the common case, which skips the grouping's allocations).
            foreach (Pending p in OneType(s.Records) ? s.Records : s.Records.GroupBy(p => p.Type).SelectMany(g => g))
            {
                if (p.Type == DnsType.A && !firstA.ContainsKey(_order[i]))
                    firstA[_order[i]] = (records.Count, s.Records.Count(x => x.Type == DnsType.A));
                if (p.Target is not null) pendingOf.Add((records.Count, p.Target));
                records.Add(new DnsRecord
                {
                    Type = p.Type, Ttl = p.Ttl, Data = data.Count, DataLength = (ushort)p.Data.Length,
                    Owner = nameAt, OwnerLength = (byte)s.Wire.Length,
                });
                data.AddRange(p.Data);
            }
        }
        DnsRecord[] recs = [.. records];
        foreach (var (r, target) in pendingOf)
            if (firstA.TryGetValue(target, out var a)) { recs[r].ExtraStart = a.Start; recs[r].ExtraCount = a.Count; }
        int soa = Array.FindIndex(recs, r => r.Type == DnsType.SOA);
        static bool OneType(List<Pending> records)
        {
            for (int i = 1; i < records.Count; i++)
                if (records[i].Type != records[0].Type) return false;
            return true;
        }
        return new DnsZone([.. names], [.. data], recs, entries, settings, DnsName.ToWire(Zone), soa, Ttl);
    }
}
