using System.Diagnostics;

namespace DataPlane.IO.Live;

/// <summary>
/// The live pipeline's packet clock: monotonic nanoseconds (Stopwatch is CLOCK_MONOTONIC on Linux, frequency 1 GHz),
/// the clock bpf_ktime_get_ns gives cilium's conntrack. Never jumps with wall-clock changes, so timeouts neither fire
/// early nor stretch when NTP steps the time. Conntrack expiries and the 'ct list' seconds-left share it.
/// </summary>
public static class LiveClock
{
    static readonly long s_frequency = Stopwatch.Frequency;

    public static long NowNs()
    {
        long t = Stopwatch.GetTimestamp();
        // A static readonly the JIT folds: on Linux this is the timestamp itself.
        return s_frequency == 1_000_000_000 ? t : (long)((Int128)t * 1_000_000_000 / s_frequency);
    }
}
