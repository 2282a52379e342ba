using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

namespace DataPlane.Benchmarks;

/// <summary>How the floor probe's tables are backed: advised into transparent huge pages, or kept on 4 KB pages.</summary>
public enum FloorPages
{
    /// <summary>madvise(MADV_HUGEPAGE) before first touch: 2 MB pages where the kernel grants them (PinnedTable does this).</summary>
    Huge,

    /// <summary>madvise(MADV_NOHUGEPAGE) before first touch: 4 KB pages, so every random line is also a likely TLB miss.</summary>
    Small,
}

/// <summary>
/// The floor: what this machine's memory costs per read, so the packet-path figures can be read as multiples of it
/// (bench/RESULTS.md, "The floor"). The table is the size of 1 M conntrack flows: 2^20 entries of 64 B (64 MB, one
/// cache line each, as <see cref="DataPlane.Maps.CtEntry"/>), plus an index of 4 slots x 8 B per entry (32 MB) shaped like
/// <see cref="DataPlane.Maps.ConntrackMap"/>'s. Both are far larger than any last-level cache this runs on, and every
/// read goes to a line chosen by a seeded random cyclic permutation (Sattolo's algorithm: one cycle through every
/// entry), so a read only hits a cache when its line was touched a whole table ago.
/// <list type="bullet">
/// <item><b>DependentRead</b> (baseline): pointer chasing, the address of each read is the value of the previous one:
/// the full DRAM (+ TLB) latency, nothing overlaps. This is "one miss" and "1 in flight".</item>
/// <item><b>Independent(inFlight)</b>: N chases interleaved, each started 1/N of the cycle apart so none walks lines
/// another walked recently; the N loads of a round are independent, so the core overlaps up to N misses. ns/read falls
/// until N reaches what the core can keep outstanding (its L1 miss buffers) or the memory bandwidth: the gain the
/// prefetching batch loops (DPDK rte_hash_lookup_bulk, VPP's dual/quad loops, PacketPipeline.Prefetch) can hope for.</item>
/// <item><b>IndexThenEntry</b>: today's conntrack lookup shape, an index slot (8 B in the 32 MB index) whose value names
/// the entry, then that entry (64 B in the 64 MB table), whose value names the next lookup's slot: two dependent
/// misses per lookup, reported per lookup. Against DependentRead (one miss per lookup) it says what a one-miss layout
/// would save: the entry itself in the slot the hash selects (open addressing over the entries, a tag compared first),
/// rather than a slot that points at it. DPDK's rte_hash and VPP's bihash are two-read designs too (a bucket, then the
/// key or key-value page), and hide the second read by prefetching in bulk rather than by layout.</item>
/// </list>
/// Every case runs on huge pages and on 4 KB pages (<see cref="FloorPages"/>); GlobalSetup prints whether THP is
/// available (/sys/kernel/mm/transparent_hugepage/enabled) and how much of each table the kernel actually backed with
/// huge pages (AnonHugePages in /proc/self/smaps): MADV_HUGEPAGE is a request, not a guarantee
/// (Documentation/admin-guide/mm/transhuge.rst).
/// Results are ns per read (per lookup for IndexThenEntry) through OperationsPerInvoke; 0 B allocated. The dry job
/// (CI) uses 2^16 entries so it stays quick; its timings mean nothing.
/// </summary>
[MemoryDiagnoser]
public unsafe class MemoryFloorBenchmarks : IDisposable
{
    /// <summary>Reads per invocation: enough that loop overhead is nothing next to a ~100 ns miss, few enough for BDN's pilot to tune.</summary>
    const int Reads = 4096;
    const int MaxInFlight = 32;
    const int IndexSlotsPerEntry = 4; // ConntrackMap: two tuples per connection at load factor 0.5

    [Params(FloorPages.Huge, FloorPages.Small)]
    public FloorPages Pages;

    /// <summary>Entries in the table: 2^20 (1 M flows, 64 MB), or 2^16 in the dry job.</summary>
    public static int Entries => Scale.Pick(1 << 20, 1 << 16);

    FloorLine* _lines;
    ulong* _index;
    long _linesBytes, _indexBytes;
    int _dependent;
    int _indexCursor;
    // Cursors of the interleaved chases, for each in-flight count: spaced evenly along the cycle.
    readonly Dictionary<int, int[]> _cursors = [];

    [GlobalSetup]
    public void Setup()
    {
        int n = Entries;
        _linesBytes = (long)n * sizeof(FloorLine);
        _indexBytes = (long)n * IndexSlotsPerEntry * sizeof(ulong);
        _lines = (FloorLine*)FloorMemory.Allocate(_linesBytes, Pages);
        _index = (ulong*)FloorMemory.Allocate(_indexBytes, Pages);

        var rng = new Random(42);
        int[] next = Sattolo(n, rng);
        for (int i = 0; i < n; i++) _lines[i].Next = next[i];
        // Each entry gets a distinct random index slot (a hash table's scatter); the slot of entry e holds e, and entry
        // e names the slot of the entry after it on another cycle: slot -> entry -> slot -> ...
        int[] slots = Enumerable.Range(0, n * IndexSlotsPerEntry).ToArray();
        rng.Shuffle(slots);
        int[] order = Sattolo(n, rng);
        for (int e = 0; e < n; e++)
        {
            _index[slots[e]] = (uint)e | 0x8000_0000_0000_0000ul; // a tag in the high bits, as ConntrackMap's slot has
            _lines[e].NextSlot = slots[order[e]];
        }
        _indexCursor = slots[0];

        // One walk of the whole cycle: checks it is one cycle of n, and records evenly spaced starting points.
        var spaced = new int[MaxInFlight];
        int c = 0;
        for (int step = 0; step < n; step++)
        {
            if (step % (n / MaxInFlight) == 0 && step / (n / MaxInFlight) < MaxInFlight) spaced[step / (n / MaxInFlight)] = c;
            c = _lines[c].Next;
            if (c == 0 && step != n - 1) throw new InvalidOperationException($"permutation is not one cycle (back at 0 after {step + 1} of {n})");
        }
        if (c != 0) throw new InvalidOperationException("permutation is not one cycle");
        foreach (int k in new[] { 4, 8, 16, 32 })
            _cursors[k] = Enumerable.Range(0, k).Select(j => spaced[j * (MaxInFlight / k)]).ToArray();

        Notes.Write("floor", $"{Pages} pages: {n} entries x {sizeof(FloorLine)} B ({_linesBytes >> 20} MB) + index {_indexBytes >> 20} MB; " +
            $"THP setting [{FloorMemory.ThpSetting()}]; huge pages backing the table: {FloorMemory.HugeBytes(_lines, _linesBytes) >> 20} of {_linesBytes >> 20} MB, " +
            $"the index: {FloorMemory.HugeBytes(_index, _indexBytes) >> 20} of {_indexBytes >> 20} MB");
    }

    /// <summary>A random cyclic permutation of 0..n-1 (Sattolo): following next[] from any entry visits all n.</summary>
    static int[] Sattolo(int n, Random rng)
    {
        int[] a = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = rng.Next(i);
            (a[i], a[j]) = (a[j], a[i]);
        }
        return a;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        FloorMemory.Free(_lines, _linesBytes);
        FloorMemory.Free(_index, _indexBytes);
        _lines = null;
        _index = null;
        GC.SuppressFinalize(this);
    }

    /// <summary>One read at a time, each address the value of the one before: DRAM latency (+ a page walk on 4 KB pages).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Reads)]
    public int DependentRead()
    {
        FloorLine* lines = _lines;
        int c = _dependent, start = c;
        for (int i = 0; i < Reads; i++) c = lines[c].Next;
        _dependent = c;
        return c != start ? c : throw new InvalidOperationException("the chase did not move");
    }

    /// <summary><paramref name="inFlight"/> chases interleaved: per read, with up to that many misses outstanding.</summary>
    [Benchmark(OperationsPerInvoke = Reads)]
    [Arguments(4)]
    [Arguments(8)]
    [Arguments(16)]
    [Arguments(32)]
    public int Independent(int inFlight)
    {
        FloorLine* lines = _lines;
        int[] cursors = _cursors[inFlight];
        ref int c0 = ref MemoryMarshal.GetArrayDataReference(cursors);
        int start = c0;
        for (int round = 0; round < Reads / inFlight; round++)
            for (int k = 0; k < inFlight; k++)
            {
                ref int c = ref Unsafe.Add(ref c0, k);
                c = lines[c].Next;
            }
        return c0 != start ? c0 : throw new InvalidOperationException("the chases did not move");
    }

    /// <summary>Conntrack's shape: index slot, then the entry it names, then the next slot: two dependent misses per lookup.</summary>
    [Benchmark(OperationsPerInvoke = Reads)]
    public int IndexThenEntry()
    {
        FloorLine* lines = _lines;
        ulong* index = _index;
        int s = _indexCursor, start = s;
        for (int i = 0; i < Reads; i++)
        {
            ulong slot = index[s];
            s = lines[(int)(uint)slot].NextSlot;
        }
        _indexCursor = s;
        return s != start ? s : throw new InvalidOperationException("the chase did not move");
    }
}

/// <summary>One table entry: a cache line, as a conntrack entry is; the two links are all the probe reads.</summary>
[StructLayout(LayoutKind.Sequential, Size = 64)]
struct FloorLine
{
    /// <summary>The next entry of the dependent / interleaved chases.</summary>
    public int Next;

    /// <summary>The index slot of the next IndexThenEntry lookup.</summary>
    public int NextSlot;
}

/// <summary>
/// Native memory with an explicit page-size request, and what the kernel made of it. Each table is its own anonymous
/// mmap, not malloc'd: glibc may serve a block from memory an earlier case freed (its mmap threshold grows after a free),
/// whose pages were already faulted in with the other page size. The mapping is over-allocated by 2 MB and used from a
/// 2 MB boundary (a huge page can only back an aligned 2 MB range) and advised before the first touch: the page fault
/// that first touches a range is where the kernel picks its page size (Documentation/admin-guide/mm/transhuge.rst);
/// khugepaged may collapse small pages later, which MADV_NOHUGEPAGE forbids too.
/// </summary>
static unsafe class FloorMemory
{
    const nuint HugePage = 2 * 1024 * 1024;
    const int MadvHugepage = 14, MadvNohugepage = 15; // <asm-generic/mman-common.h>
    const int ProtReadWrite = 0x1 | 0x2, MapPrivateAnonymous = 0x02 | 0x20; // <asm-generic/mman.h>, x86-64 and arm64 alike

    [DllImport("libc", EntryPoint = "madvise", SetLastError = true)]
    static extern int Madvise(void* address, nuint length, int advice);

    [DllImport("libc", EntryPoint = "mmap", SetLastError = true)]
    static extern void* Mmap(void* address, nuint length, int prot, int flags, int fd, nint offset);

    [DllImport("libc", EntryPoint = "munmap", SetLastError = true)]
    static extern int Munmap(void* address, nuint length);

    // Aligned address -> the mapping it came from, for Free.
    static readonly Dictionary<nint, (nint Base, nuint Length)> Mappings = [];

    public static void* Allocate(long bytes, FloorPages pages)
    {
        if (!OperatingSystem.IsLinux())
        {
            void* plain = NativeMemory.AlignedAlloc((nuint)bytes, HugePage);
            NativeMemory.Clear(plain, (nuint)bytes);
            return plain;
        }
        nuint length = (nuint)bytes + HugePage;
        void* map = Mmap(null, length, ProtReadWrite, MapPrivateAnonymous, -1, 0);
        if (map == (void*)-1) throw new InvalidOperationException($"mmap of {length} bytes failed, errno {Marshal.GetLastPInvokeError()}");
        void* p = (void*)(((nuint)map + HugePage - 1) & ~(HugePage - 1));
        lock (Mappings) Mappings[(nint)p] = ((nint)map, length);
        if (Madvise(p, (nuint)bytes, pages == FloorPages.Huge ? MadvHugepage : MadvNohugepage) != 0)
            Console.WriteLine($"// floor: madvise({pages}) refused, errno {Marshal.GetLastPInvokeError()}: the kernel's default page size applies");
        NativeMemory.Clear(p, (nuint)bytes); // the first touch: faults every page in now, not during the measurement
        return p;
    }

    public static void Free(void* p, long bytes)
    {
        if (p == null) return;
        if (!OperatingSystem.IsLinux()) { NativeMemory.AlignedFree(p); return; }
        (nint Base, nuint Length) m;
        lock (Mappings)
            if (!Mappings.Remove((nint)p, out m)) throw new InvalidOperationException($"not a floor mapping ({bytes} bytes)");
        _ = Munmap((void*)m.Base, m.Length);
    }

    /// <summary>The THP mode in force: the bracketed word of /sys/kernel/mm/transparent_hugepage/enabled ("always", "madvise", "never"), or "unknown".</summary>
    public static string ThpSetting()
    {
        const string path = "/sys/kernel/mm/transparent_hugepage/enabled";
        if (!File.Exists(path)) return "unknown: no " + path;
        string text = File.ReadAllText(path);
        int open = text.IndexOf('['), close = text.IndexOf(']');
        return open >= 0 && close > open ? text[(open + 1)..close] : text.Trim();
    }

    /// <summary>Bytes of [p, p + bytes) the kernel backs with huge pages now: AnonHugePages of the mappings overlapping it in /proc/self/smaps (-1 where there is none).</summary>
    public static long HugeBytes(void* p, long bytes)
    {
        const string path = "/proc/self/smaps";
        if (!File.Exists(path)) return -1;
        ulong from = (ulong)p, to = from + (ulong)bytes;
        long huge = 0;
        bool inside = false;
        foreach (string line in File.ReadLines(path))
        {
            int dash = line.IndexOf('-');
            int space = line.IndexOf(' ');
            if (dash > 0 && space > dash && ulong.TryParse(line.AsSpan(0, dash), System.Globalization.NumberStyles.HexNumber, null, out ulong start)
                && ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), System.Globalization.NumberStyles.HexNumber, null, out ulong end))
            {
                inside = start < to && end > from;
                continue;
            }
            if (inside && line.StartsWith("AnonHugePages:", StringComparison.Ordinal))
                huge += long.Parse(line.AsSpan(14).Trim().TrimEnd("kB").Trim()) * 1024;
        }
        return huge;
    }
}
