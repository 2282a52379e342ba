using System.Runtime.InteropServices;

namespace DataPlane.Maps;

/// <summary>
/// Preallocated, zeroed, unmovable memory for the big tables (conntrack entries and index), the way a BPF map is one
/// vmalloc'd area: aligned to 64 bytes so a 64-byte entry is exactly one cache line (a managed array's data starts 16
/// bytes into the object, which made every conntrack entry straddle two lines), and on Linux advised into transparent
/// huge pages (madvise MADV_HUGEPAGE), so a lookup into 100 MB of table does not also miss the TLB on 4 KB pages.
/// The hint is best effort: where it is refused the memory is ordinary pages.
/// </summary>
public static unsafe class PinnedTable
{
    const nuint HugePage = 2 * 1024 * 1024;
    const int MadvHugepage = 14;

    [DllImport("libc", EntryPoint = "madvise", SetLastError = false)]
    static extern int Madvise(void* address, nuint length, int advice);

    /// <summary>Allocates <paramref name="count"/> zeroed <typeparamref name="T"/>; free with <see cref="Free"/>.</summary>
    public static T* Allocate<T>(long count) where T : unmanaged
    {
        nuint bytes = (nuint)(count * sizeof(T));
        bool huge = bytes >= HugePage;
        void* p = NativeMemory.AlignedAlloc(bytes == 0 ? 1 : bytes, huge ? HugePage : 64);
        if (huge && OperatingSystem.IsLinux())
        {
            try { _ = Madvise(p, bytes, MadvHugepage); } // advice only: if refused, the table keeps small pages
            catch (DllNotFoundException) { } // not glibc/musl: keep small pages
            catch (EntryPointNotFoundException) { }
        }
        NativeMemory.Clear(p, bytes);
        GC.AddMemoryPressure((long)bytes);
        return (T*)p;
    }

    public static void Free<T>(T* p, long count) where T : unmanaged
    {
        if (p == null) return;
        NativeMemory.AlignedFree(p);
        GC.RemoveMemoryPressure(count * sizeof(T));
    }
}
