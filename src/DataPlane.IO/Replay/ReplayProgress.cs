using System.Diagnostics;
using System.Globalization;

namespace DataPlane.IO.Replay;

/// <summary>How a long replay shows its progress (<c>--progress</c>).</summary>
public enum ProgressMode
{
    /// <summary>A live line on stderr when it is a terminal; a plain line every <see cref="ReplayProgress.PlainEvery"/> when it is not.</summary>
    Auto,
    /// <summary>The live line even when stderr is not a terminal (a pager, a multiplexer's log).</summary>
    Always,
    Never,
}

/// <summary>
/// The progress of a replay on stderr, never on stdout (which holds the summary): frames so far, frames per second,
/// how far through the file and the time left at that rate, drops so far. The replay calls <see cref="Batch"/> once
/// per batch of frames (up to 16 384), so the packet path pays nothing for it; the live line is redrawn at most
/// every <see cref="LiveEvery"/> and erased when the replay ends, a plain line (for a log) is written every
/// <see cref="PlainEvery"/>, as <c>rsync --info=progress2</c> and <c>dd status=progress</c> do it for a terminal and
/// systemd-style daemons for a journal.
/// </summary>
public sealed class ReplayProgress
{
    public static readonly TimeSpan LiveEvery = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan PlainEvery = TimeSpan.FromSeconds(10);

    readonly TextWriter _err;

    /// <summary>The command the line names ("replay", "verify").</summary>
    public string Label { get; init; } = "replay";
    readonly bool _live;
    readonly TimeSpan _every;
    readonly long _start = Stopwatch.GetTimestamp();
    long _last;
    int _drawn;

    /// <param name="err">Where the progress goes (stderr).</param>
    /// <param name="live">Redraw one line in place (a terminal) rather than append plain lines.</param>
    /// <param name="every">How often; null: <see cref="LiveEvery"/> for a live line, <see cref="PlainEvery"/> for plain ones.</param>
    public ReplayProgress(TextWriter err, bool live, TimeSpan? every = null)
    {
        _err = err;
        _live = live;
        _every = every ?? (live ? LiveEvery : PlainEvery);
        _last = _start;
    }

    /// <summary>The reporter <paramref name="mode"/> asks for on this process's stderr, or null for none.</summary>
    public static ReplayProgress? For(ProgressMode mode, TextWriter err, string label = "replay") => mode switch
    {
        ProgressMode.Never => null,
        ProgressMode.Always => new ReplayProgress(err, live: true) { Label = label },
        _ => new ReplayProgress(err, live: !Console.IsErrorRedirected) { Label = label },
    };

    /// <summary>After a batch: <paramref name="frames"/> read so far, <paramref name="offset"/> of <paramref name="length"/> bytes of the file (-1: unknown), <paramref name="dropped"/> so far.</summary>
    public void Batch(long frames, long offset, long length, long dropped)
    {
        long now = Stopwatch.GetTimestamp();
        if (Stopwatch.GetElapsedTime(_last, now) < _every) return;
        _last = now;
        string line = Line(frames, offset, length, dropped, Stopwatch.GetElapsedTime(_start, now), Label);
        if (_live)
        {
            _err.Write('\r' + line.PadRight(_drawn)); // a shorter line covers what the longest left
            _drawn = Math.Max(_drawn, line.Length);
        }
        else _err.WriteLine(line);
        _err.Flush();
    }

    /// <summary>The replay is over: the live line is erased, so the terminal holds only the summary (on stdout).</summary>
    public void Done()
    {
        if (!_live || _drawn == 0) return;
        _err.Write('\r' + new string(' ', _drawn) + '\r');
        _err.Flush();
        _drawn = 0;
    }

    /// <summary><c>replay: 1 234 567 frames, 45%, 2.1 M frames/s, ETA 0:12, 1 234 dropped</c>.</summary>
    public static string Line(long frames, long offset, long length, long dropped, TimeSpan elapsed, string label = "replay")
    {
        var c = CultureInfo.InvariantCulture;
        double seconds = Math.Max(elapsed.TotalSeconds, 1e-6);
        string text = $"{label}: {frames.ToString("N0", c)} frames";
        if (length > 0 && offset >= 0)
        {
            double done = Math.Min(1.0, (double)offset / length);
            text += $", {Math.Floor(done * 100).ToString(c)}%";
            text += $", {Rate(frames / seconds)} frames/s";
            if (done > 0) text += $", ETA {Clock(TimeSpan.FromSeconds(seconds * (1 - done) / done))}";
        }
        else text += $", {Rate(frames / seconds)} frames/s";
        return text + $", {dropped.ToString("N0", c)} dropped";
    }

    static string Rate(double perSecond) => perSecond switch
    {
        >= 1e6 => (perSecond / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + " M",
        >= 1e3 => (perSecond / 1e3).ToString("0.0", CultureInfo.InvariantCulture) + " k",
        _ => perSecond.ToString("0", CultureInfo.InvariantCulture),
    };

    static string Clock(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}" : $"{t.Minutes}:{t.Seconds:00}";
}
