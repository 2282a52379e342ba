using System.Globalization;
using System.Text;

namespace DataPlane.IO.Report;

/// <summary>
/// Writes a report as one self-contained HTML page: the charts are inline SVG drawn here (no chart library: the IO
/// layer takes no third-party package, and a dozen rectangles and lines need none), the styles are inline, nothing is
/// fetched and no script runs, so the page reads the same offline, in a mail attachment or under a strict content
/// security policy. The data behind it is embedded as JSON in a <c>&lt;script type="application/json"
/// id="report-data"&gt;</c> block, which browsers never execute (HTML's data block), for anyone who wants to plot it
/// again.
/// <para>
/// Every figure carries its numbers in <c>data-*</c> attributes and its text labels print the same numbers, so a test
/// (or a person with the inspector) can check the page against the JSON. The output is deterministic: the same data
/// gives the same bytes (invariant culture, no timestamps of its own, fixed ordering).
/// </para>
/// </summary>
public static partial class HtmlReport
{
    /// <summary>Service ports charted (the busiest); the JSON keeps them all.</summary>
    public const int ChartedServices = 12;
    /// <summary>Verify's connections listed (and embedded), divergent first; the counts cover all of them.</summary>
    public const int ListedConnections = 2000;

    /// <summary>The verdict colours (fixed, so two reports compare at a glance), in <see cref="ReplayReport.VerdictOrder"/>.</summary>
    static readonly Dictionary<string, string> s_colours = new()
    {
        ["forward"] = "#2e7d32",
        ["reject"] = "#ef6c00",
        ["pass"] = "#1565c0",
        ["drop"] = "#c62828",
        ["local"] = "#6a1b9a",
        ["answer"] = "#00838f",
        ["reassembled"] = "#9e9e9e",
    };

    static string Colour(string verdict) => s_colours.GetValueOrDefault(verdict, "#616161");

    /// <summary>Writes the page to <paramref name="path"/> (UTF-8, no byte order mark).</summary>
    public static void Write(string path, ReportData d)
    {
        using var w = new StreamWriter(path, append: false, new UTF8Encoding(false));
        Write(w, d);
    }

    public static void Write(TextWriter w, ReportData d)
    {
        var sb = new StringBuilder(64 * 1024);
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        sb.Append("<meta name=\"generator\" content=\"dataplane ").Append(Svg.Esc(d.Command)).Append("\">\n");
        sb.Append("<title>dataplane ").Append(Svg.Esc(d.Command)).Append(": ").Append(Svg.Esc(d.Title)).Append("</title>\n");
        sb.Append("<style>\n").Append(Style).Append("</style>\n</head>\n<body>\n");
        Header(sb, d);
        // verify: the connections that diverge are what the reader came for, so they come first.
        if (d.Connections is not null) Divergences(sb, d.Connections);
        sb.Append("<section id=\"time\">\n<h2>Over the capture's time</h2>\n");
        VerdictChart(sb, d);
        ConntrackChart(sb, d);
        SnatChart(sb, d);
        sb.Append("</section>\n");
        sb.Append("<section id=\"reasons\">\n<h2>Drops and rejects by reason</h2>\n");
        ReasonChart(sb, d);
        sb.Append("</section>\n");
        Backends(sb, d);
        Conversations(sb, d);
        Notes(sb, d);
        sb.Append("<script type=\"application/json\" id=\"report-data\">").Append(ReportJson.ToJson(d)).Append("</script>\n");
        sb.Append("</body>\n</html>\n");
        w.Write(sb.ToString());
    }

    const string Style = """
        body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 14px; color: #212121; margin: 24px auto; max-width: 1240px; padding: 0 16px; }
        h1 { font-size: 22px; margin: 0 0 6px; word-break: break-all; }
        h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
        p.facts { color: #555; margin: 4px 0 12px; }
        figure { margin: 12px 0 20px; }
        figcaption { font-size: 13px; color: #444; margin-top: 4px; }
        svg { display: block; width: 100%; height: auto; font-family: inherit; }
        svg text { font-size: 11px; fill: #333; }
        svg .title { font-size: 13px; font-weight: bold; fill: #212121; }
        svg .axis line, svg .axis path { stroke: #888; }
        svg .grid line { stroke: #eee; }
        svg .reload line { stroke: #6d4c41; stroke-width: 1.5; stroke-dasharray: 5 3; }
        svg .reload text { fill: #6d4c41; }
        svg .capacity line { stroke: #b71c1c; stroke-dasharray: 8 4; }
        svg .capacity text { fill: #b71c1c; }
        table { border-collapse: collapse; font-size: 11px; margin: 8px 0; }
        figure.time-chart, figure.backend-chart, figure#fig-drops, figure#fig-divergences { max-width: 1000px; }
        th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top; }
        th { background: #f5f5f5; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: baseline; }
        tr.diverges td { background: #ffebee; }
        tr.incomplete td { background: #fff8e1; }
        .note { color: #555; font-size: 13px; }
        .wide { overflow-x: auto; }

        """;

    static void Header(StringBuilder sb, ReportData d)
    {
        sb.Append("<header>\n<h1>dataplane ").Append(Svg.Esc(d.Command)).Append(": ").Append(Svg.Esc(d.Title)).Append("</h1>\n");
        string first = d.FirstTimestampNs == 0 ? "" :
            $", from {DateTimeOffset.UnixEpoch.AddTicks(d.FirstTimestampNs / 100).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)} UTC";
        sb.Append("<p class=\"facts\" id=\"facts\" data-frames=\"").Append(Svg.N(d.Frames)).Append("\">")
          .Append(Svg.N(d.Frames)).Append(d.Frames == 1 ? " frame" : " frames").Append(" over ").Append(Svg.Duration(d.SpanNs)).Append(Svg.Esc(first))
          .Append("; time charts in buckets of ").Append(Svg.Duration(d.BucketWidthNs)).Append(".</p>\n");
        sb.Append("<table id=\"verdict-totals\">\n<tr><th>verdict</th><th class=\"num\">frames</th></tr>\n");
        for (int i = 0; i < d.VerdictNames.Count; i++)
        {
            if (d.VerdictTotals[i] == 0) continue;
            string v = d.VerdictNames[i];
            sb.Append("<tr data-verdict=\"").Append(v).Append("\" data-frames=\"").Append(Svg.N(d.VerdictTotals[i])).Append("\"><td><span class=\"swatch\" style=\"background:")
              .Append(Colour(v)).Append("\"></span>").Append(v).Append("</td><td class=\"num\">").Append(Svg.N(d.VerdictTotals[i])).Append("</td></tr>\n");
        }
        sb.Append("</table>\n</header>\n");
    }

    static void Backends(StringBuilder sb, ReportData d)
    {
        sb.Append("<section id=\"backends\">\n<h2>Backends per Service port</h2>\n");
        sb.Append("<p class=\"note\">New connections per backend (bars) against the share the balancing promised (black tick, with a whisker of two standard deviations of the binomial spread): 1/N of the usable endpoints for the random pick, the backend's share of the Maglev table for maglev. A connection is weighed by the endpoints it could have reached, so endpoint changes during the capture are taken into account.");
        if (d.BackendsFollowed) sb.Append(" <strong>This replay followed the capture's backends (<code>--backends follow</code>): the bars show the real node's picks, which the promise need not describe.</strong>");
        sb.Append("</p>\n");
        if (d.Services.Count == 0)
            sb.Append("<p class=\"note\" id=\"no-backends\">No new connection was balanced to a Service backend.</p>\n");
        for (int i = 0; i < Math.Min(ChartedServices, d.Services.Count); i++) BackendChart(sb, d.Services[i], i);
        if (d.Services.Count > ChartedServices)
            sb.Append("<p class=\"note\">").Append(Svg.N(d.Services.Count - ChartedServices)).Append(" more Service ports are in the embedded data.</p>\n");
        if (d.UnlistedServiceConnections > 0)
            sb.Append("<p class=\"note\">").Append(Svg.N(d.UnlistedServiceConnections)).Append(" connections to Service ports past the first ").Append(Svg.N(BackendShares.MaxServices)).Append(" are not broken down.</p>\n");
        sb.Append("</section>\n");
    }

    static void Conversations(StringBuilder sb, ReportData d)
    {
        sb.Append("<section id=\"conversations\">\n<h2>Top conversations</h2>\n");
        sb.Append("<p class=\"note\">Wireshark's Conversations columns, busiest first, plus what the data plane made of each: a conntrack flow is one conversation in both directions and across NAT (A is its client, B what the client asked for); other frames pair by address and port. Bytes are of the frames as the pipeline saw them, Ethernet framed.");
        if (d.ConversationsReplaced > 0)
            sb.Append(" More conversations than the table's ").Append(Svg.N(d.ConversationRows)).Append(" rows: the busiest are kept (space-saving), and a row's packets may include up to its <em>±</em> figure from conversations it replaced.");
        sb.Append("</p>\n<div class=\"wide\">\n<table id=\"tbl-conversations\">\n<tr><th>Protocol</th><th>Address A</th><th class=\"num\">Port A</th><th>Address B</th><th class=\"num\">Port B</th>")
          .Append("<th class=\"num\">Packets</th><th class=\"num\">Bytes</th><th class=\"num\">Packets A → B</th><th class=\"num\">Bytes A → B</th>")
          .Append("<th class=\"num\">Packets B → A</th><th class=\"num\">Bytes B → A</th><th class=\"num\">Rel Start</th><th class=\"num\">Duration</th>")
          .Append("<th>Service</th><th>Backend</th><th>Verdict</th><th class=\"num\">First frame</th>");
        if (d.ConversationsReplaced > 0) sb.Append("<th class=\"num\">±</th>");
        sb.Append("</tr>\n");
        foreach (ReportConversation c in d.Conversations)
        {
            sb.Append("<tr data-packets=\"").Append(Svg.N(c.Packets)).Append("\" data-first-frame=\"").Append(Svg.N(c.FirstFrame)).Append("\">");
            Cell(sb, c.Proto);
            Cell(sb, c.AddressA);
            Cell(sb, c.PortA?.ToString(CultureInfo.InvariantCulture) ?? "", num: true);
            Cell(sb, c.AddressB);
            Cell(sb, c.PortB?.ToString(CultureInfo.InvariantCulture) ?? "", num: true);
            foreach (long n in new[] { c.Packets, c.Bytes, c.PacketsAToB, c.BytesAToB, c.PacketsBToA, c.BytesBToA }) Cell(sb, Svg.N(n), num: true);
            Cell(sb, Svg.Seconds(c.RelStartNs), num: true);
            Cell(sb, Svg.Seconds(c.DurationNs), num: true);
            Cell(sb, c.Service ?? "");
            Cell(sb, c.Backend ?? "");
            Cell(sb, c.Verdict);
            Cell(sb, Svg.N(c.FirstFrame), num: true);
            if (d.ConversationsReplaced > 0) Cell(sb, Svg.N(c.Uncertainty), num: true);
            sb.Append("</tr>\n");
        }
        sb.Append("</table>\n</div>\n");
        if (d.Conversations.Count == 0) sb.Append("<p class=\"note\">No frame carried an IPv4 address pair.</p>\n");
        sb.Append("</section>\n");
    }

    static void Cell(StringBuilder sb, string text, bool num = false) =>
        sb.Append(num ? "<td class=\"num\">" : "<td>").Append(Svg.Esc(text)).Append("</td>");

    /// <summary>Verify's connections as listed: divergent first, then incomplete, then those that agree, each in the order given.</summary>
    public static IEnumerable<ReportConnection> ConnectionsInOrder(IReadOnlyList<ReportConnection> connections) =>
        connections.OrderBy(c => c.Status switch { ReportConnection.Diverges => 0, ReportConnection.Incomplete => 1, _ => 2 });

    static void Divergences(StringBuilder sb, IReadOnlyList<ReportConnection> connections)
    {
        long agrees = connections.Count(c => c.Status == ReportConnection.Agrees);
        long diverges = connections.Count(c => c.Status == ReportConnection.Diverges);
        long incomplete = connections.Count(c => c.Status == ReportConnection.Incomplete);
        sb.Append("<section id=\"divergences\">\n<h2>Connections: what the node did against the Service semantics</h2>\n");
        sb.Append("<p id=\"connection-counts\" data-connections=\"").Append(Svg.N(connections.Count)).Append("\" data-agrees=\"").Append(Svg.N(agrees))
          .Append("\" data-diverges=\"").Append(Svg.N(diverges)).Append("\" data-incomplete=\"").Append(Svg.N(incomplete)).Append("\">")
          .Append(Svg.N(connections.Count)).Append(" connections: ").Append(Svg.N(agrees)).Append(" agree, ").Append(Svg.N(diverges)).Append(" diverge, ")
          .Append(Svg.N(incomplete)).Append(" incomplete (the capture lacks their other side).</p>\n");
        DivergenceChart(sb, agrees, diverges, incomplete);
        sb.Append("<div class=\"wide\">\n<table id=\"tbl-divergences\">\n<tr><th>Status</th><th>Protocol</th><th>Source</th><th>Destination</th><th>Service</th><th>Frames</th><th>Fields (expected / seen)</th><th>Why</th></tr>\n");
        foreach (ReportConnection c in ConnectionsInOrder(connections).Take(ListedConnections))
        {
            sb.Append("<tr class=\"").Append(Svg.Esc(c.Status)).Append("\" data-status=\"").Append(Svg.Esc(c.Status)).Append("\" data-diffs=\"").Append(Svg.N(c.Diffs.Count)).Append("\">");
            Cell(sb, c.Status);
            Cell(sb, c.Proto);
            Cell(sb, c.Src);
            Cell(sb, c.Dst);
            Cell(sb, c.Service ?? "");
            // A long connection lists its first frames; the JSON holds them all.
            string frames = string.Join(", ", c.Frames.Take(12).Select(f => f.ToString(CultureInfo.InvariantCulture))) + (c.Frames.Count > 12 ? $", … ({c.Frames.Count} frames)" : "");
            Cell(sb, frames);
            sb.Append("<td>");
            foreach (ReportDiff diff in c.Diffs)
                sb.Append("<div class=\"diff\" data-frame=\"").Append(Svg.N(diff.Frame)).Append("\" data-field=\"").Append(Svg.Esc(diff.Field)).Append("\">frame ")
                  .Append(Svg.N(diff.Frame)).Append(' ').Append(Svg.Esc(diff.Field)).Append(": expected <b>").Append(Svg.Esc(diff.Expected))
                  .Append("</b>, seen <b>").Append(Svg.Esc(diff.Seen)).Append("</b></div>");
            sb.Append("</td>");
            Cell(sb, c.Why);
            sb.Append("</tr>\n");
        }
        sb.Append("</table>\n</div>\n");
        if (connections.Count > ListedConnections)
            sb.Append("<p class=\"note\">The first ").Append(Svg.N(ListedConnections)).Append(" are listed; the counts above cover all.</p>\n");
        sb.Append("</section>\n");
    }

    static void Notes(StringBuilder sb, ReportData d)
    {
        bool any = d.Notes.Count > 0 || d.Reloads.Count > 0;
        if (!any) return;
        sb.Append("<section id=\"notes\">\n<h2>Notes</h2>\n<ul>\n");
        foreach (ReportReload r in d.Reloads)
            sb.Append("<li class=\"reload-note\">").Append(Svg.Esc(r.Outcome)).Append("</li>\n");
        foreach (string n in d.Notes) sb.Append("<li>").Append(Svg.Esc(n)).Append("</li>\n");
        sb.Append("</ul>\n</section>\n");
    }
}
