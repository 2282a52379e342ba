using System.Buffers.Binary;
using DataPlane.Pipeline;

namespace DataPlane.Dns;

/// <summary>
/// Answers one query from a compiled <see cref="DnsZone"/> the way CoreDNS's kubernetes plugin does
/// (plugin/kubernetes/handler.go, plugin/backend_lookup.go): authoritative answers, the zone SOA in the authority
/// section of negative answers (NXDOMAIN for names that do not exist, NODATA for names without the asked type), SRV
/// and NS targets' addresses in the additional section, an ExternalName CNAME followed inside the zone. Names outside
/// the served zones (the cluster domain and, through the Corefile's <c>in-addr.arpa</c>, the PTRs we hold) get the
/// configured upstream code: we do no recursion. Writes the response into <c>response</c>; allocates nothing.
/// <para>
/// The default Corefile's <c>loadbalance</c> plugin (CoreDNS plugin/loadbalance/loadbalance.go, policy round_robin)
/// rewrites every NOERROR response that is not a zone transfer: in the answer, authority and additional sections alike,
/// CNAMEs first, then the other records in their order, then the A/AAAA records in a random order — two swapped with
/// even odds, more by a Fisher–Yates pass — so clients that take the first address spread over the endpoints. The same
/// happens here with the draws keyed by the query (<see cref="Respond"/>'s <c>shuffle</c> key and the query id) instead
/// of a running generator, so an answer depends on its query and the seed only. One difference: the OPT record stays
/// last in the additional section, where the plugin's reordering would put it before the addresses (its place there
/// carries no meaning, RFC 6891 §6.1.1).
/// </para>
/// </summary>
public static class DnsResponder
{
    const ushort FlagQr = 0x8000, FlagAa = 0x0400, FlagTc = 0x0200, FlagRd = 0x0100;
    const int OptLength = 11;
    const int KnownNames = 48;

    /// <summary>
    /// Writes the response to <paramref name="query"/> (a DNS message without the TCP length prefix) and returns its
    /// length, or 0 when the message gets no answer at all (<see cref="DnsParseStatus.Ignore"/>). The response never
    /// exceeds <paramref name="maxLength"/>, nor over UDP 512 bytes or the query's EDNS0 size (RFC 6891 §6.2.5): what
    /// does not fit is left out with TC set (the additional section is dropped silently first, RFC 2181 §9).
    /// </summary>
    /// <param name="shuffle">Key of the address records' order (the packet's draw); the query id is mixed in.</param>
    public static int Respond(DnsZone zone, ReadOnlySpan<byte> query, Span<byte> response, int maxLength, bool tcp, ulong shuffle = 0)
    {
        Span<byte> name = stackalloc byte[DnsParser.MaxNameLength];
        DnsParseStatus st = DnsParser.ParseQuery(query, name, out DnsQuery q);
        if (st == DnsParseStatus.Ignore || response.Length < DnsParser.HeaderLength || maxLength < DnsParser.HeaderLength) return 0;
        ushort flags = (ushort)(FlagQr | (q.Flags & 0x7800) | (q.Flags & FlagRd));
        if (st != DnsParseStatus.Ok)
            return Header(response, q.Id, (ushort)(flags | (st == DnsParseStatus.FormErr ? DnsRcode.FormErr : DnsRcode.NotImp)), 0, 0, 0, 0);

        int limit = Math.Min(maxLength, tcp ? 65535 : q.HasEdns ? q.EdnsSize : 512);
        Span<ushort> known = stackalloc ushort[KnownNames];
        var w = new DnsWriter(response, limit, known) { Position = DnsParser.HeaderLength };
        ReadOnlySpan<byte> qname = name[..q.NameLength];
        bool fits = q.NameCompressed
            ? w.Bytes(qname) && w.U16(q.QType) && w.U16(q.QClass)
            : w.Bytes(query[q.QuestionStart..q.QuestionEnd]); // the question as sent: owner names echo its spelling
        if (!fits) return Header(response, q.Id, (ushort)(flags | DnsRcode.ServFail), 0, 0, 0, 0);
        w.Remember(DnsParser.HeaderLength, qname);
        if (q.HasEdns) w.Limit -= OptLength;

        int an = 0, ns = 0, ar = 0, rcode = DnsRcode.NoError;
        bool tc = false, aa = true;
        if (q.HasEdns && q.EdnsVersion != 0)
        {
            rcode = DnsRcode.BadVers; // RFC 6891 §6.1.3: we implement version 0 only
            aa = false;
        }
        else if (q.QClass is not (DnsType.ClassIN or 255) || q.QType is DnsType.AXFR or 251)
        {
            rcode = DnsRcode.Refused; // zone transfers are the transfer plugin's, not the kubernetes plugin's
            aa = false;
        }
        else
        {
            int e = zone.Find(qname);
            var rng = DeterministicRandom.Keyed(shuffle, DeterministicRandom.DnsShuffleDraw, q.Id, 0, 0);
            if (e >= 0) Positive(zone, e, q.QType, ref w, ref an, ref ns, ref ar, ref tc, ref rng);
            else if (DnsParser.IsAtOrBelow(qname, zone.ZoneName))
            {
                if (PodAddress(zone, qname, out uint ip))
                {
                    if (q.QType is DnsType.A or DnsType.ANY)
                    {
                        if (WritePodA(ref w, zone.Ttl, ip)) an++; else tc = true;
                    }
                    else if (WriteSoa(zone, ref w)) ns++;
                }
                else
                {
                    rcode = DnsRcode.NXDomain;
                    if (WriteSoa(zone, ref w)) ns++;
                }
            }
            else
            {
                rcode = zone.Settings.UpstreamRcode;
                aa = false;
            }
        }

        if (q.HasEdns)
        {
            w.Limit += OptLength;
            // OPT: root owner, CLASS = our UDP payload size, TTL = extended rcode | version | flags (RFC 6891 §6.1.3).
            w.Bytes([0]); w.U16(DnsType.OPT); w.U16(zone.Settings.EdnsUdpSize);
            w.U32((uint)(rcode >> 4) << 24); w.U16(0);
            ar++;
        }
        flags |= (ushort)(rcode & 0xF);
        if (aa) flags |= FlagAa;
        if (tc) flags |= FlagTc;
        Header(response, q.Id, flags, 1, an, ns, ar);
        return w.Position;
    }

    static int Header(Span<byte> r, ushort id, ushort flags, int qd, int an, int ns, int ar)
    {
        BinaryPrimitives.WriteUInt16BigEndian(r, id);
        BinaryPrimitives.WriteUInt16BigEndian(r[2..], flags);
        BinaryPrimitives.WriteUInt16BigEndian(r[4..], (ushort)qd);
        BinaryPrimitives.WriteUInt16BigEndian(r[6..], (ushort)an);
        BinaryPrimitives.WriteUInt16BigEndian(r[8..], (ushort)ns);
        BinaryPrimitives.WriteUInt16BigEndian(r[10..], (ushort)ar);
        return DnsParser.HeaderLength;
    }

    static void Positive(DnsZone zone, int e, ushort qtype, ref DnsWriter w, ref int an, ref int ns, ref int ar, ref bool tc, ref DeterministicRandom rng)
    {
        ref DnsZone.Entry en = ref zone.Entries[e];
        int start = en.RecordStart, end = start + en.RecordCount;
        int from = start, to = start;
        if (qtype != DnsType.ANY)
        {
            from = end;
            for (int i = start; i < end; i++)
                if (zone.Records[i].Type == qtype) { from = i; break; }
            to = from;
            while (to < end && zone.Records[to].Type == qtype) to++;
        }
        else to = end;

        bool chase = false;
        if (from == to && qtype is DnsType.A or DnsType.AAAA)
        {
            // An ExternalName: the CNAME answers A and AAAA (RFC 1034 §3.6.2), followed by the target's addresses
            // when the target is inside the zone (CoreDNS resolves it internally; outside, we do no recursion).
            for (int i = start; i < end; i++)
                if (zone.Records[i].Type == DnsType.CNAME) { from = i; to = i + 1; chase = qtype == DnsType.A; break; }
        }
        if (from == to)
        {
            if (WriteSoa(zone, ref w)) ns++; // NODATA: the name exists, not with this type (RFC 2308 §2.2)
            return;
        }
        if (chase)
        {
            // The CNAME, then the target's addresses: already loadbalance's order, CNAMEs first.
            if (!WriteRecord(zone, ref w, in zone.Records[from], ownerIsQuestion: true)) { tc = true; return; }
            an++;
            ref DnsRecord c = ref zone.Records[from];
            if (!WriteBalanced(zone, ref w, c.ExtraStart, c.ExtraStart + c.ExtraCount, ownerIsQuestion: false, ref an, ref rng)) tc = true;
            return;
        }
        if (!WriteBalanced(zone, ref w, from, to, ownerIsQuestion: true, ref an, ref rng)) { tc = true; return; }
        // Additional section: the targets' addresses, each target once, in one shuffled order (the plugin shuffles the
        // section as a whole); what does not fit is simply left out.
        Span<int> done = stackalloc int[16];
        int doneCount = 0, extras = 0;
        for (int i = from; i < to; i++)
        {
            ref DnsRecord r = ref zone.Records[i];
            if (r.Type is not (DnsType.SRV or DnsType.NS) || r.ExtraCount == 0) continue;
            if (done[..doneCount].Contains(r.ExtraStart)) continue;
            if (doneCount < done.Length) done[doneCount++] = r.ExtraStart;
            extras += r.ExtraCount;
        }
        if (extras == 0) return;
        Span<int> additional = stackalloc int[Math.Min(extras, MaxShuffled)];
        int n = 0;
        doneCount = 0;
        for (int i = from; i < to && n < additional.Length; i++)
        {
            ref DnsRecord r = ref zone.Records[i];
            if (r.Type is not (DnsType.SRV or DnsType.NS) || r.ExtraCount == 0) continue;
            if (done[..doneCount].Contains(r.ExtraStart)) continue;
            if (doneCount < done.Length) done[doneCount++] = r.ExtraStart;
            for (int x = r.ExtraStart; x < r.ExtraStart + r.ExtraCount && n < additional.Length; x++) additional[n++] = x;
        }
        Balance(zone, additional[..n], ref rng);
        foreach (int x in additional[..n])
        {
            if (!WriteRecord(zone, ref w, in zone.Records[x], ownerIsQuestion: false)) return;
            ar++;
        }
    }

    /// <summary>
    /// At most this many records of one section are reordered: more A records than fit in a 64 KB message (16 bytes
    /// each) are never all written anyway.
    /// </summary>
    const int MaxShuffled = 4096;

    /// <summary>
    /// Writes <c>Records[from..to)</c> in loadbalance's order (CNAMEs, then the rest, then the addresses shuffled);
    /// false when one did not fit (the caller sets TC).
    /// </summary>
    static bool WriteBalanced(DnsZone zone, ref DnsWriter w, int from, int to, bool ownerIsQuestion, ref int count, ref DeterministicRandom rng)
    {
        int total = to - from;
        Span<int> order = stackalloc int[Math.Min(total, MaxShuffled)];
        // More records than any message holds: CoreDNS shuffles them all and the message keeps what fits, a random
        // subset of the whole set. Here the window of MaxShuffled consecutive records starts at a drawn record (wrapping),
        // so every record can be answered, then the window is shuffled as usual.
        int first = total > order.Length ? (int)rng.Next((uint)total) : 0;
        for (int i = 0; i < order.Length; i++) order[i] = from + (first + i) % total;
        Balance(zone, order, ref rng);
        foreach (int i in order)
        {
            if (!WriteRecord(zone, ref w, in zone.Records[i], ownerIsQuestion)) return false;
            count++;
        }
        // Records outside the window were left out: the answer is incomplete, so TC (RFC 2181 §9), never a silent subset.
        return order.Length == total;
    }

    /// <summary>
    /// loadbalance's roundRobin over record indices, in place: CNAMEs first, then the other types in their order, then
    /// the A and AAAA records in random order. Two addresses swap with even odds; more go through a Fisher–Yates pass
    /// (the plugin draws with <c>dns.Id() % (l - j)</c>; the draw here is unbiased).
    /// </summary>
    static void Balance(DnsZone zone, Span<int> records, ref DeterministicRandom rng)
    {
        int addresses = 0;
        for (int i = 0; i < records.Length; i++)
            if (IsAddress(zone, records[i])) addresses++;
        if (addresses == 0) return;
        if (addresses < records.Length)
        {
            // A stable partition, rarely needed (ANY at a name, an answer with a CNAME): CNAMEs, rest, addresses.
            Span<int> sorted = stackalloc int[records.Length];
            int k = 0;
            foreach (int r in records) if (zone.Records[r].Type == DnsType.CNAME) sorted[k++] = r;
            foreach (int r in records) if (zone.Records[r].Type != DnsType.CNAME && !IsAddress(zone, r)) sorted[k++] = r;
            foreach (int r in records) if (IsAddress(zone, r)) sorted[k++] = r;
            sorted.CopyTo(records);
        }
        Span<int> a = records[(records.Length - addresses)..];
        int l = a.Length;
        if (l == 2)
        {
            if ((rng.NextU64() & 1) == 0) (a[0], a[1]) = (a[1], a[0]);
            return;
        }
        for (int j = 0; j < l - 1; j++)
        {
            int p = j + (int)rng.Next((uint)(l - j));
            if (p != j) (a[j], a[p]) = (a[p], a[j]);
        }
    }

    static bool IsAddress(DnsZone zone, int record) => zone.Records[record].Type is DnsType.A or DnsType.AAAA;

    static bool WriteSoa(DnsZone zone, ref DnsWriter w) =>
        zone.SoaRecord >= 0 && WriteRecord(zone, ref w, in zone.Records[zone.SoaRecord], ownerIsQuestion: false);

    static bool WritePodA(ref DnsWriter w, uint ttl, uint ip)
    {
        var mark = w.Mark;
        if (w.U16(0xC000 | DnsParser.HeaderLength) && w.U16(DnsType.A) && w.U16(DnsType.ClassIN) && w.U32(ttl) && w.U16(4) && w.U32(ip))
            return true;
        w.Reset(mark);
        return false;
    }

    static bool WriteRecord(DnsZone zone, ref DnsWriter w, in DnsRecord r, bool ownerIsQuestion)
    {
        var mark = w.Mark;
        bool ok = (ownerIsQuestion ? w.U16(0xC000 | DnsParser.HeaderLength) : w.Name(zone.OwnerOf(r)))
            && w.U16(r.Type) && w.U16(DnsType.ClassIN) && w.U32(r.Ttl) && w.U16(0);
        if (ok)
        {
            int rdStart = w.Position;
            ReadOnlySpan<byte> d = zone.DataOf(r);
            switch (r.Type)
            {
                case DnsType.CNAME or DnsType.PTR or DnsType.NS:
                    ok = w.Name(d);
                    break;
                case DnsType.SRV:
                    ok = w.Bytes(d[..6]) && w.Name(d[6..]);
                    break;
                case DnsType.SOA:
                    int m = NameLength(d), rn = NameLength(d[m..]);
                    ok = w.Name(d[..m]) && w.Name(d[m..(m + rn)]) && w.Bytes(d[(m + rn)..]);
                    break;
                default:
                    ok = w.Bytes(d);
                    break;
            }
            if (ok) BinaryPrimitives.WriteUInt16BigEndian(w.Buffer[(rdStart - 2)..], (ushort)(w.Position - rdStart));
        }
        if (!ok) w.Reset(mark);
        return ok;
    }

    static int NameLength(ReadOnlySpan<byte> wire)
    {
        int i = 0;
        while (wire[i] != 0) i += 1 + wire[i];
        return i + 1;
    }

    /// <summary>
    /// <c>a-b-c-d.&lt;ns&gt;.pod.&lt;zone&gt;</c> under an existing namespace, with <c>pods insecure</c>: the address
    /// written in the name, unchecked (CoreDNS kubernetes.go findPods). In <c>verified</c> mode the control plane
    /// compiled the names of the pods that exist instead, and in <c>disabled</c> mode nothing exists below the namespace.
    /// </summary>
    static bool PodAddress(DnsZone zone, ReadOnlySpan<byte> qname, out uint ip)
    {
        ip = 0;
        if (zone.Settings.Pods != DnsPodsMode.Insecure || qname[0] == 0) return false;
        int rest = 1 + qname[0];
        int e = zone.Find(qname[rest..]);
        if (e < 0 || (zone.Entries[e].Flags & DnsZone.PodNamespaceFlag) == 0) return false;
        return TryDashedIp(qname[1..rest], out ip);
    }

    /// <summary>"10-244-1-5" → 10.244.1.5: four decimal octets, nothing else.</summary>
    public static bool TryDashedIp(ReadOnlySpan<byte> label, out uint ip)
    {
        ip = 0;
        int octets = 0, value = 0, digits = 0;
        for (int i = 0; i <= label.Length; i++)
        {
            if (i == label.Length || label[i] == (byte)'-')
            {
                if (digits == 0 || value > 255 || octets == 4) return false;
                ip = (ip << 8) | (uint)value;
                octets++;
                value = digits = 0;
                continue;
            }
            byte c = label[i];
            if (c is < (byte)'0' or > (byte)'9' || ++digits > 3) return false;
            // CoreDNS parses the dotted form with Go's net.ParseIP, which refuses an octet with a leading zero (Go 1.17,
            // CVE-2021-29923: "010" could mean octal): 010-244-001-005 is NXDOMAIN there, so it is here.
            if (digits == 2 && value == 0) return false;
            value = value * 10 + (c - '0');
        }
        return octets == 4;
    }
}
