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
    }

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
            s = new NameState { Wire = DnsName.ToWire(n) };
            _names.Add(n, s);
            _order.Add(n);
        }
        return s;
    }

    public bool Contains(string name) => _names.ContainsKey(Normalize(name));

    /// <summary>Makes <paramref name="name"/> exist (NODATA rather than NXDOMAIN when it has no records).</summary>
    public void AddName(string name, byte flags = 0) => State(name).Flags |= flags;

    void Add(string name, ushort type, uint ttl, byte[] data, string? target = null)
    {
        NameState s = State(name);
        foreach (Pending p in s.Records)
            if (p.Type == type && p.Data.AsSpan().SequenceEqual(data)) return;
        s.Records.Add(new Pending { Type = type, Ttl = ttl, Data = data, Target = target is null ? null : Normalize(target) });
    }

    public void AddA(string name, uint ip, uint? ttl = null)
    {
        var d = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(d, ip);
        Add(name, DnsType.A, ttl ?? Ttl, d);
    }

    public void AddCname(string name, string target) => Add(name, DnsType.CNAME, Ttl, DnsName.ToWire(target), target);
    public void AddPtr(string name, string target) => Add(name, DnsType.PTR, Ttl, DnsName.ToWire(target));
    public void AddNs(string name, string target) => Add(name, DnsType.NS, Ttl, DnsName.ToWire(target), target);

    public void AddSrv(string name, ushort priority, ushort weight, ushort port, string target)
    {
        byte[] t = DnsName.ToWire(target);
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
        var names = new List<byte>();
        var data = new List<byte>();
        var records = new List<DnsRecord>();
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
            // Grouped by type, in order of first appearance: a type's records are one contiguous run.
            foreach (Pending p in s.Records.GroupBy(p => p.Type).SelectMany(g => g))
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
        return new DnsZone([.. names], [.. data], recs, entries, settings, DnsName.ToWire(Zone), soa, Ttl);
    }
}
