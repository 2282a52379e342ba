using System.Globalization;
using System.Text;

namespace DataPlane.IO.Report;

/// <summary>
/// The little the report's hand-written SVG needs: escaping, coordinates in invariant culture (a comma decimal
/// separator would break every path), and "nice" axis steps (1, 2 or 5 times a power of ten, as plotting libraries
/// choose them: Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990).
/// </summary>
static class Svg
{
    /// <summary>Text or an attribute value, escaped for HTML and SVG alike (the five XML specials).</summary>
    public static string Esc(string s)
    {
        if (s.AsSpan().IndexOfAny("&<>\"'") < 0) return s;
        var sb = new StringBuilder(s.Length + 16);
        foreach (char c in s)
            sb.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => c.ToString(),
            });
        return sb.ToString();
    }

    /// <summary>A coordinate: one decimal is a tenth of a pixel, finer than any screen shows.</summary>
    public static string C(double v) => Math.Round(v, 1).ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>A count as the page prints it (digits only, so a test can compare it with the JSON as it stands).</summary>
    public static string N(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>A fraction the way JSON carries it (shortest round trip), for data attributes.</summary>
    public static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A percentage for people: one decimal.</summary>
    public static string Pct(double fraction) => (fraction * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    /// <summary>The nice step that divides [0, <paramref name="max"/>] into about <paramref name="ticks"/> parts.</summary>
    public static double NiceStep(double max, int ticks = 5)
    {
        if (!(max > 0)) return 1;
        double raw = max / ticks, mag = Math.Pow(10, Math.Floor(Math.Log10(raw))), f = raw / mag;
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
    }

    /// <summary>A count axis' top: <paramref name="max"/> rounded up to a whole step (at least one step).</summary>
    public static double NiceTop(double max, int ticks = 5)
    {
        double step = NiceStep(max, ticks);
        return Math.Max(step, Math.Ceiling(max / step - 1e-9) * step);
    }

    /// <summary>A tick value with no more digits than its step needs ("0.25", "5", "1200").</summary>
    public static string Tick(double v, double step)
    {
        int decimals = step >= 1 ? 0 : Math.Min(9, (int)Math.Ceiling(-Math.Log10(step) - 1e-9));
        return Math.Round(v, decimals).ToString("F" + decimals, CultureInfo.InvariantCulture);
    }

    /// <summary>A time axis' unit for a span of <paramref name="spanNs"/>: the largest of s, ms and µs that keeps ticks above 1.</summary>
    public static (string Unit, double Ns) TimeUnit(double spanNs) =>
        spanNs >= 2e9 ? ("s", 1e9) : spanNs >= 2e6 ? ("ms", 1e6) : ("µs", 1e3);

    /// <summary>Seconds with Wireshark's six decimals ("0.000123"), for the conversations table.</summary>
    public static string Seconds(long ns) => (ns / 1e9).ToString("0.000000", CultureInfo.InvariantCulture);

    /// <summary>A duration for people: "1.5 s", "250 ms", "64 µs".</summary>
    public static string Duration(long ns)
    {
        var (unit, scale) = ns >= 1_000_000_000 ? ("s", 1e9) : ns >= 1_000_000 ? ("ms", 1e6) : ns >= 1_000 ? ("µs", 1e3) : ("ns", 1.0);
        return (ns / scale).ToString("0.###", CultureInfo.InvariantCulture) + " " + unit;
    }
}
