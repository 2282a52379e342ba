using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using DataPlane.IO.Report;
using DataPlane.IO.Verify;

namespace DataPlane.IO.Text;

/// <summary>
/// <c>verify</c>'s listing: one line per connection (<c>agrees</c>, <c>diverges: field …</c>, <c>incomplete: …</c>) and
/// a summary; or, with <c>--json</c>, one object per connection and a last <c>{"summary":…}</c> line. Both read the
/// same <see cref="VerifyReport"/>.
/// </summary>
public static class VerifyText
{
    static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(TextWriter w, VerifyReport report, bool quiet = false)
    {
        // Divergent connections first: they are what the reader came for; quiet leaves out those that agree.
        foreach (VerifyConnection c in report.Connections.OrderBy(c => c.Status switch { "diverges" => 0, "incomplete" => 1, _ => 2 }))
            if (!quiet || c.Status != "agrees") w.WriteLine(Line(c));
        w.WriteLine(Summary(report));
    }

    /// <summary><c>tcp 203.0.113.7:40001 → 192.168.0.2:30080 (default/web:http): diverges: src at frame 12: expected …, seen … — why</c>.</summary>
    public static string Line(VerifyConnection c)
    {
        string flow = $"{c.Proto} {c.Src} → {c.Dst}{(c.Service is null ? "" : $" ({c.Service})")}";
        return c.Status switch
        {
            "diverges" => $"{flow}: diverges: {string.Join("; ", c.Diffs.Take(3).Select(d => $"{d.Field} at frame {d.Frame}: expected {d.Expected}, seen {d.Seen}"))}" +
                          $"{(c.Diffs.Count > 3 ? $" (+{c.Diffs.Count - 3} more)" : "")} — {c.Why}",
            "incomplete" => $"{flow}: incomplete: {c.Why}",
            _ => $"{flow}: agrees{(c.Why.Length > 0 ? $" — {c.Why}" : "")}",
        };
    }

    public static string Summary(VerifyReport r)
    {
        var ci = CultureInfo.InvariantCulture;
        return $"verify: {r.Connections.Count} connection{(r.Connections.Count == 1 ? "" : "s")}: {r.Agrees} agree, {r.Diverges} diverge, {r.Incomplete} incomplete " +
               $"({r.Frames.ToString("N0", ci)} frames: {r.Received.ToString("N0", ci)} received, {r.Sent.ToString("N0", ci)} sent " +
               $"({r.NodeOwn.ToString("N0", ci)} of them the node's own), {r.Duplicates.ToString("N0", ci)} seen twice, {r.Other.ToString("N0", ci)} not IPv4)";
    }

    public static void WriteJson(TextWriter w, VerifyReport report)
    {
        foreach (ReportConnection c in VerifySession.ReportRows(report)) w.WriteLine(Json(j => ReportJson.Connection(j, c)));
        w.WriteLine(Json(j =>
        {
            j.WriteStartObject();
            j.WriteStartObject("summary");
            j.WriteNumber("flows", report.Connections.Count);
            j.WriteNumber("agrees", report.Agrees);
            j.WriteNumber("diverges", report.Diverges);
            j.WriteNumber("incomplete", report.Incomplete);
            j.WriteEndObject();
            j.WriteEndObject();
        }));
    }

    /// <summary>One JSON line: what <paramref name="body"/> writes (a whole value).</summary>
    static string Json(Action<Utf8JsonWriter> body)
    {
        using var ms = new MemoryStream();
        using (var j = new Utf8JsonWriter(ms, JsonOptions))
            body(j);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }
}
