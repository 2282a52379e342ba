using System.Text;
using DataPlane.IO.Verdicts;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.IO.Report;

/// <summary>
/// The busiest conversations of a capture in bounded memory: Metwally, Agrawal and El Abbadi's space-saving counters
/// ("Efficient computation of frequent and top-k elements in data streams", ICDT 2005). The table keeps
/// <see cref="Capacity"/> rows; a conversation not in it, once it is full, takes the row of the least counted one and
/// inherits its count as an overestimate. Every conversation with more than frames/<see cref="Capacity"/> frames is
/// guaranteed a row, and a row's count is at most its <see cref="ReportConversation.Uncertainty"/> above the truth. A
/// capture with fewer conversations than rows is counted exactly (the report's usual case); a capture of millions of
/// flows still gets its heavy hitters, in memory that depends on the table, never on the capture
/// (the text summary's FlowReport keeps the first rows instead: it lists flows in the order they began).
/// <para>
/// Conversations: a conntrack flow (its flow id: both directions, before and after NAT, as one), or for frames outside
/// any tracked flow their address and port pair, either way round (Wireshark's conversation). Frames without an IPv4
/// 5-tuple (not IPv4, bad headers) belong to no conversation; the verdict and drop charts count them.
/// </para>
/// <para>
/// The least counted row is found through a min-heap on (count, row age), so a frame costs a dictionary lookup and a
/// sift of the row it counted (O(log rows), usually no move at all): the report must not slow the replay down.
/// </para>
/// </summary>
public sealed class ConversationTable
{
    /// <summary>As many rows as the text summary's flow report keeps (about 200 bytes each).</summary>
    public const int DefaultCapacity = 1000;

    readonly record struct Key(uint FlowId, byte Proto, ulong Low, ulong High);

    sealed class Row
    {
        public Key Key;
        /// <summary>Frames counted since the row was taken, plus <see cref="Error"/>: the space-saving estimate.</summary>
        public long Count;
        public long Error;
        /// <summary>When the row was taken (a tie-break that keeps the heap's order, and so the output, deterministic).</summary>
        public long Age;
        public int HeapIndex;
        public byte Proto;
        public bool Ports;
        public uint IpA, IpB;
        public ushort PortA, PortB;
        public long PacketsAB, BytesAB, PacketsBA, BytesBA;
        public long FirstNs, LastNs, FirstFrame;
        public string? Service;
        public bool HasBackend;
        public uint BackendIp;
        public ushort BackendPort;
        public readonly long[] Verdicts = new long[Counters.VerdictSlots];
        public DropReason FirstReason;
        /// <summary>The verdict that came with <see cref="FirstReason"/> (a drop's or a reject's).</summary>
        public Verdict FirstReasonVerdict;
    }

    readonly Dictionary<Key, Row> _rows;
    readonly Row[] _heap;
    int _count;
    long _age;

    public ConversationTable(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _rows = new Dictionary<Key, Row>(capacity);
        _heap = new Row[capacity];
    }

    public int Capacity { get; }

    /// <summary>Rows held.</summary>
    public int Count => _count;

    /// <summary>Rows handed to a new conversation once the table was full (0: every conversation has its own row).</summary>
    public long Replaced { get; private set; }

    /// <summary>
    /// Counts frame <paramref name="frame"/> (<paramref name="bytes"/> long, stamped <paramref name="sinceFirstNs"/>
    /// past the capture's first frame) in its conversation.
    /// </summary>
    public void Add(long frame, long sinceFirstNs, in PacketResult r, MapSet maps, int bytes)
    {
        if (!r.HasTuple) return;
        bool ports = r.Proto is IpProto.Tcp or IpProto.Udp or IpProto.Sctp;
        uint flow = r.Verdict == Verdict.Forward ? r.FlowId : 0;
        Key key;
        if (flow != 0) key = new Key(flow, r.Proto, 0, 0);
        else
        {
            ulong s = Endpoint(r.InSrcIp, ports ? r.InSrcPort : (ushort)0), d = Endpoint(r.InDstIp, ports ? r.InDstPort : (ushort)0);
            key = new Key(0, r.Proto, Math.Min(s, d), Math.Max(s, d));
        }
        if (!_rows.TryGetValue(key, out Row? row)) row = Take(key, frame, sinceFirstNs, in r, ports);
        bool aToB = flow != 0 ? r.Direction == CtDirection.Original
            : r.InSrcIp == row.IpA && (!ports || r.InSrcPort == row.PortA);
        if (aToB) { row.PacketsAB++; row.BytesAB += bytes; }
        else { row.PacketsBA++; row.BytesBA += bytes; }
        row.LastNs = Math.Max(row.LastNs, sinceFirstNs);
        row.Verdicts[(int)r.Verdict & (Counters.VerdictSlots - 1)]++;
        if (row.FirstReason == DropReason.None && r.Verdict is Verdict.Drop or Verdict.Reject && r.Reason != DropReason.None)
        {
            row.FirstReason = r.Reason;
            row.FirstReasonVerdict = r.Verdict;
        }
        row.Service ??= VerdictWriter.ServiceName(r, maps);
        if (!row.HasBackend && r.Verdict == Verdict.Forward && r.RevNatIndex != 0)
        {
            row.HasBackend = true;
            row.BackendIp = r.Backend.Address;
            row.BackendPort = r.Backend.Port;
        }
        row.Count++;
        SiftDown(row.HeapIndex);
    }

    static ulong Endpoint(uint ip, ushort port) => ((ulong)ip << 16) | port;

    /// <summary>A row for a conversation not in the table: a free one, or the least counted one's (space-saving).</summary>
    Row Take(Key key, long frame, long sinceFirstNs, in PacketResult r, bool ports)
    {
        Row row;
        long inherited = 0;
        if (_count < Capacity)
        {
            row = new Row { HeapIndex = _count };
            _heap[_count++] = row;
        }
        else
        {
            row = _heap[0];
            _rows.Remove(row.Key);
            inherited = row.Count;
            Replaced++;
            Array.Clear(row.Verdicts);
            row.PacketsAB = row.BytesAB = row.PacketsBA = row.BytesBA = 0;
            row.Service = null;
            row.HasBackend = false;
            row.FirstReason = DropReason.None;
        }
        row.Key = key;
        row.Count = inherited;
        row.Error = inherited;
        row.Age = _age++;
        row.Proto = r.Proto;
        row.Ports = ports;
        // A tracked flow first seen in the reply direction (cannot happen today: a flow starts with its original
        // direction) would otherwise be listed backwards: A is the side that opened it.
        bool original = key.FlowId == 0 || r.Direction == CtDirection.Original;
        (row.IpA, row.PortA, row.IpB, row.PortB) = original ? (r.InSrcIp, r.InSrcPort, r.InDstIp, r.InDstPort) : (r.InDstIp, r.InDstPort, r.InSrcIp, r.InSrcPort);
        row.FirstNs = row.LastNs = sinceFirstNs;
        row.FirstFrame = frame;
        _rows.Add(key, row);
        SiftUp(row.HeapIndex);
        return row;
    }

    static bool Less(Row a, Row b) => a.Count != b.Count ? a.Count < b.Count : a.Age < b.Age;

    void SiftUp(int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!Less(_heap[i], _heap[parent])) break;
            Swap(i, parent);
            i = parent;
        }
    }

    void SiftDown(int i)
    {
        while (true)
        {
            int l = 2 * i + 1, r = l + 1, least = i;
            if (l < _count && Less(_heap[l], _heap[least])) least = l;
            if (r < _count && Less(_heap[r], _heap[least])) least = r;
            if (least == i) return;
            Swap(i, least);
            i = least;
        }
    }

    void Swap(int i, int j)
    {
        (_heap[i], _heap[j]) = (_heap[j], _heap[i]);
        _heap[i].HeapIndex = i;
        _heap[j].HeapIndex = j;
    }

    /// <summary>The <paramref name="n"/> most counted conversations, busiest first (ties: the earlier first frame first).</summary>
    public IReadOnlyList<ReportConversation> Top(int n)
    {
        var rows = new List<Row>(_count);
        for (int i = 0; i < _count; i++) rows.Add(_heap[i]);
        rows.Sort((a, b) => a.Count != b.Count ? b.Count.CompareTo(a.Count) : a.FirstFrame.CompareTo(b.FirstFrame));
        var top = new List<ReportConversation>(Math.Min(n, rows.Count));
        foreach (Row row in rows.Take(n))
            top.Add(new ReportConversation(IpProto.Name(row.Proto), Ip4.Format(row.IpA), row.Ports ? row.PortA : null,
                Ip4.Format(row.IpB), row.Ports ? row.PortB : null,
                row.PacketsAB + row.PacketsBA, row.BytesAB + row.BytesBA, row.PacketsAB, row.BytesAB, row.PacketsBA, row.BytesBA,
                row.FirstNs, row.LastNs - row.FirstNs, row.Service,
                row.HasBackend ? Ip4.Format(row.BackendIp, row.BackendPort) : null, Verdicts(row), row.FirstFrame, row.Error));
        return top;
    }

    /// <summary>"forward 12, drop 2 (ct-invalid)": each verdict the conversation's frames got, in the summary's order.</summary>
    static string Verdicts(Row row)
    {
        var sb = new StringBuilder();
        foreach (Verdict v in ReplayReport.VerdictOrder)
        {
            long c = row.Verdicts[(int)v];
            if (c == 0) continue;
            if (sb.Length > 0) sb.Append(", ");
            sb.Append(v.Name()).Append(' ').Append(c);
            if (v == row.FirstReasonVerdict && row.FirstReason != DropReason.None) sb.Append(" (").Append(row.FirstReason.Name()).Append(')');
        }
        return sb.ToString();
    }
}
