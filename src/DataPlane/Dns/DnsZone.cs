using System.Runtime.CompilerServices;

namespace DataPlane.Dns;

/// <summary>
/// A cluster DNS zone compiled for the packet path: every name that exists (with its records, or none: an empty
/// non-terminal such as <c>&lt;ns&gt;.svc.&lt;zone&gt;</c>) in an open-addressing table keyed by the lower-case wire
/// name, records grouped by type, rdata in one byte arena. Built once per generation by the control plane
/// (<see cref="DnsZoneBuilder"/>), published with the <see cref="Maps.MapSet"/>, never written afterwards: answering a
/// query is a hash, a probe, a byte compare and copies.
/// </summary>
public sealed class DnsZone
{
    internal readonly byte[] Names;
    internal readonly byte[] Data;
    internal readonly DnsRecord[] Records;
    internal readonly Entry[] Entries;
    readonly int[] _buckets; // entry index + 1; 0 = empty
    readonly int _mask;

    internal struct Entry
    {
        public int Name;
        public byte NameLength;
        public byte Flags;
        public uint Hash;
        public int RecordStart;
        /// <summary>
        /// Records at the name. An int, not a ushort: a headless service's name holds one A per endpoint and one bare-name
        /// SRV per endpoint and port, and 256 endpoints × 255 named ports (a 25 KB manifest) already make 65 536.
        /// </summary>
        public int RecordCount;
    }

    /// <summary>Entry flag: <c>&lt;ns&gt;.pod.&lt;zone&gt;</c> of an existing namespace (pods insecure answers below it).</summary>
    public const byte PodNamespaceFlag = 1;

    internal DnsZone(byte[] names, byte[] data, DnsRecord[] records, Entry[] entries, DnsZoneSettings settings, byte[] zoneName, int soaRecord, uint ttl)
    {
        Ttl = ttl;
        Names = names;
        Data = data;
        Records = records;
        Entries = entries;
        Settings = settings;
        ZoneName = zoneName;
        SoaRecord = soaRecord;
        int size = 16;
        while (size < entries.Length * 2) size <<= 1;
        _buckets = new int[size];
        _mask = size - 1;
        for (int i = 0; i < entries.Length; i++)
        {
            int b = (int)(entries[i].Hash & (uint)_mask);
            while (_buckets[b] != 0) b = (b + 1) & _mask;
            _buckets[b] = i + 1;
        }
    }

    public DnsZoneSettings Settings { get; }
    /// <summary>The records' TTL (<c>--dns-ttl</c>): also the TTL of synthesized pod records.</summary>
    public uint Ttl { get; }
    /// <summary>The cluster DNS address this zone is served on.</summary>
    public uint Address => Settings.Address;
    public DnsMode Mode => Settings.Mode;
    /// <summary>The cluster domain in wire form, lower case.</summary>
    public byte[] ZoneName { get; }
    /// <summary>Index of the apex SOA in <see cref="Records"/> (authority of negative answers).</summary>
    public int SoaRecord { get; }
    public int NameCount => Entries.Length;
    public int RecordCount => Records.Length;

    /// <summary>FNV-1a over the wire bytes (already lower-case).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Hash(ReadOnlySpan<byte> name)
    {
        uint h = 2166136261;
        foreach (byte b in name) h = (h ^ b) * 16777619;
        return h;
    }

    /// <summary>The entry holding lower-case wire name <paramref name="name"/>, or -1.</summary>
    public int Find(ReadOnlySpan<byte> name)
    {
        uint h = Hash(name);
        int b = (int)(h & (uint)_mask);
        while (true)
        {
            int e = _buckets[b] - 1;
            if (e < 0) return -1;
            ref Entry en = ref Entries[e];
            if (en.Hash == h && en.NameLength == name.Length && Names.AsSpan(en.Name, en.NameLength).SequenceEqual(name)) return e;
            b = (b + 1) & _mask;
        }
    }

    /// <summary>
    /// The A records of <paramref name="name"/> as the zone holds them (not the packet path: trace resolves pod and
    /// endpoint names here, so it reaches what cluster DNS would answer); empty when the name has none.
    /// </summary>
    public IReadOnlyList<uint> AddressesOf(string name)
    {
        if (!DnsName.TryToWire(name, out byte[] wire, out _)) return [];
        int e = Find(wire);
        if (e < 0) return [];
        var result = new List<uint>();
        ref Entry en = ref Entries[e];
        for (int i = en.RecordStart; i < en.RecordStart + en.RecordCount; i++)
            if (Records[i].Type == DnsType.A && Records[i].DataLength == 4)
                result.Add(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(Data.AsSpan(Records[i].Data, 4)));
        return result;
    }

    internal ReadOnlySpan<byte> NameOf(int entry) => Names.AsSpan(Entries[entry].Name, Entries[entry].NameLength);
    internal ReadOnlySpan<byte> OwnerOf(DnsRecord r) => Names.AsSpan(r.Owner, r.OwnerLength);
    internal ReadOnlySpan<byte> DataOf(DnsRecord r) => Data.AsSpan(r.Data, r.DataLength);
}
