using System.Text;

namespace DataPlane.IO.Report;

public static partial class HtmlReport
{
    // Geometry shared by the charts, in SVG user units (the page scales the whole drawing to its width).
    const double Width = 960, Left = 70, Right = 20, Top = 44, TimeHeight = 300, Bottom = 46;
    const double PlotWidth = Width - Left - Right, TimePlotHeight = TimeHeight - Top - Bottom;

    /// <summary>The x scale every time chart shares: 0 .. the end of the last bucket (at least one bucket).</summary>
    static double TimeEnd(ReportData d) => Math.Max(1, d.Buckets.Count) * (double)Math.Max(1, d.BucketWidthNs);

    static double TimeX(ReportData d, double ns) => Left + PlotWidth * Math.Clamp(ns / TimeEnd(d), 0, 1);

    static void OpenSvg(StringBuilder sb, double height, string label) =>
        sb.Append("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ").Append(Svg.C(Width)).Append(' ').Append(Svg.C(height))
          .Append("\" role=\"img\" aria-label=\"").Append(Svg.Esc(label)).Append("\">\n");

    /// <summary>The time axis (ticks in s, ms or µs past the first frame) and a count axis with grid lines, for a chart of <paramref name="yTop"/>.</summary>
    static void TimeAxes(StringBuilder sb, ReportData d, double yTop, string yLabel)
    {
        double bottom = Top + TimePlotHeight;
        double yStep = Svg.NiceStep(yTop);
        sb.Append("<g class=\"grid\">");
        for (double y = yStep; y <= yTop + 1e-9; y += yStep)
            sb.Append("<line x1=\"").Append(Svg.C(Left)).Append("\" x2=\"").Append(Svg.C(Left + PlotWidth)).Append("\" y1=\"").Append(Svg.C(CountY(y, yTop)))
              .Append("\" y2=\"").Append(Svg.C(CountY(y, yTop))).Append("\"/>");
        sb.Append("</g>\n<g class=\"axis y-axis\"><line x1=\"").Append(Svg.C(Left)).Append("\" x2=\"").Append(Svg.C(Left)).Append("\" y1=\"").Append(Svg.C(Top))
          .Append("\" y2=\"").Append(Svg.C(bottom)).Append("\"/>");
        for (double y = 0; y <= yTop + 1e-9; y += yStep)
            sb.Append("<text x=\"").Append(Svg.C(Left - 6)).Append("\" y=\"").Append(Svg.C(CountY(y, yTop) + 4)).Append("\" text-anchor=\"end\">").Append(Svg.Tick(y, yStep)).Append("</text>");
        sb.Append("<text class=\"axis-label\" transform=\"translate(14 ").Append(Svg.C(Top + TimePlotHeight / 2)).Append(") rotate(-90)\" text-anchor=\"middle\">")
          .Append(Svg.Esc(yLabel)).Append("</text></g>\n");
        double end = TimeEnd(d);
        var (unit, scale) = Svg.TimeUnit(end);
        double xStep = Svg.NiceStep(end / scale, 8);
        sb.Append("<g class=\"axis x-axis\"><line x1=\"").Append(Svg.C(Left)).Append("\" x2=\"").Append(Svg.C(Left + PlotWidth)).Append("\" y1=\"").Append(Svg.C(bottom))
          .Append("\" y2=\"").Append(Svg.C(bottom)).Append("\"/>");
        for (double t = 0; t <= end / scale + 1e-9; t += xStep)
        {
            double x = TimeX(d, t * scale);
            sb.Append("<line x1=\"").Append(Svg.C(x)).Append("\" x2=\"").Append(Svg.C(x)).Append("\" y1=\"").Append(Svg.C(bottom)).Append("\" y2=\"").Append(Svg.C(bottom + 4))
              .Append("\"/><text x=\"").Append(Svg.C(x)).Append("\" y=\"").Append(Svg.C(bottom + 16)).Append("\" text-anchor=\"middle\">").Append(Svg.Tick(t, xStep)).Append("</text>");
        }
        sb.Append("<text class=\"axis-label\" x=\"").Append(Svg.C(Left + PlotWidth / 2)).Append("\" y=\"").Append(Svg.C(bottom + 36)).Append("\" text-anchor=\"middle\">")
          .Append(unit switch { "s" => "seconds", "ms" => "milliseconds", _ => "microseconds" }).Append(" since the capture's first frame</text></g>\n");
    }

    static double CountY(double v, double yTop) => Top + TimePlotHeight * (1 - Math.Clamp(v / yTop, 0, 1));

    /// <summary>Every <c>--apply-at</c> reload as a dashed line across the chart, its label at the top (staggered so neighbours stay readable).</summary>
    static void ReloadMarkers(StringBuilder sb, ReportData d)
    {
        for (int i = 0; i < d.Reloads.Count; i++)
        {
            ReportReload r = d.Reloads[i];
            double x = TimeX(d, r.AtNs);
            string label = r.Label.Length > 40 ? r.Label[..39] + "…" : r.Label;
            bool right = x < Left + PlotWidth * 0.75;
            sb.Append("<g class=\"reload\" data-at-ns=\"").Append(Svg.N(r.AtNs)).Append("\" data-frame=\"").Append(Svg.N(r.Frame)).Append("\" data-label=\"").Append(Svg.Esc(r.Label))
              .Append("\"><title>").Append(Svg.Esc(r.Outcome)).Append("</title><line x1=\"").Append(Svg.C(x)).Append("\" x2=\"").Append(Svg.C(x)).Append("\" y1=\"").Append(Svg.C(Top - 4))
              .Append("\" y2=\"").Append(Svg.C(Top + TimePlotHeight)).Append("\"/><text x=\"").Append(Svg.C(x + (right ? 4 : -4))).Append("\" y=\"").Append(Svg.C(Top + 10 + 12 * (i % 3)))
              .Append("\" text-anchor=\"").Append(right ? "start" : "end").Append("\">").Append(Svg.Esc(label)).Append("</text></g>\n");
        }
    }

    /// <summary>
    /// A legend in the title row, right-aligned: a swatch and a label per entry. Text is not measured in SVG without a
    /// script, so labels are spaced at 6.5 units per character, a little above the 11-unit sans-serif's average.
    /// </summary>
    static void Legend(StringBuilder sb, List<(string Text, string Colour)> entries)
    {
        double x = Left + PlotWidth;
        sb.Append("<g class=\"legend\">");
        for (int i = entries.Count - 1; i >= 0; i--)
        {
            var (text, colour) = entries[i];
            x -= 18 + 6.5 * text.Length;
            sb.Append("<rect x=\"").Append(Svg.C(x)).Append("\" y=\"7\" width=\"10\" height=\"10\" fill=\"").Append(colour).Append("\"/><text x=\"")
              .Append(Svg.C(x + 13)).Append("\" y=\"16\">").Append(Svg.Esc(text)).Append("</text>");
        }
        sb.Append("</g>\n");
    }

    static void Title(StringBuilder sb, string title) =>
        sb.Append("<text class=\"title\" x=\"").Append(Svg.C(Left)).Append("\" y=\"16\">").Append(Svg.Esc(title)).Append("</text>\n");

    static void Message(StringBuilder sb, double y, string text) =>
        sb.Append("<text class=\"empty\" x=\"").Append(Svg.C(Left + PlotWidth / 2)).Append("\" y=\"").Append(Svg.C(y)).Append("\" text-anchor=\"middle\">").Append(Svg.Esc(text)).Append("</text>\n");

    /// <summary>Frames per bucket, stacked by verdict.</summary>
    static void VerdictChart(StringBuilder sb, ReportData d)
    {
        long most = 1;
        foreach (ReportBucket b in d.Buckets) most = Math.Max(most, b.Frames.Sum());
        double yTop = Svg.NiceTop(most);
        sb.Append("<figure id=\"fig-verdicts\" class=\"time-chart\" data-buckets=\"").Append(Svg.N(d.Buckets.Count)).Append("\" data-bucket-width-ns=\"").Append(Svg.N(d.BucketWidthNs)).Append("\">\n");
        OpenSvg(sb, TimeHeight, "Verdicts over time");
        Title(sb, "Verdicts per bucket of " + Svg.Duration(d.BucketWidthNs));
        TimeAxes(sb, d, yTop, "frames per bucket");
        double barWidth = PlotWidth / Math.Max(1, d.Buckets.Count);
        double gap = barWidth > 4 ? 1 : 0;
        sb.Append("<g class=\"bars\">\n");
        for (int i = 0; i < d.Buckets.Count; i++)
        {
            ReportBucket b = d.Buckets[i];
            double x = TimeX(d, b.StartNs), below = 0;
            for (int v = 0; v < d.VerdictNames.Count; v++)
            {
                long n = b.Frames[v];
                if (n == 0) continue;
                double y0 = CountY(below, yTop), y1 = CountY(below + n, yTop);
                sb.Append("<rect data-bucket=\"").Append(i).Append("\" data-verdict=\"").Append(d.VerdictNames[v]).Append("\" data-frames=\"").Append(Svg.N(n))
                  .Append("\" x=\"").Append(Svg.C(x)).Append("\" y=\"").Append(Svg.C(y1)).Append("\" width=\"").Append(Svg.C(Math.Max(1.5, barWidth - gap)))
                  .Append("\" height=\"").Append(Svg.C(y0 - y1)).Append("\" fill=\"").Append(Colour(d.VerdictNames[v])).Append("\"><title>")
                  .Append(Svg.Esc($"{d.VerdictNames[v]} {n} from {Svg.Duration(b.StartNs)}")).Append("</title></rect>\n");
                below += n;
            }
        }
        sb.Append("</g>\n");
        ReloadMarkers(sb, d);
        // The legend names what is drawn, with the totals the header's table gives.
        var entries = new List<(string, string)>();
        for (int v = 0; v < d.VerdictNames.Count; v++)
            if (d.VerdictTotals[v] > 0) entries.Add(($"{d.VerdictNames[v]} {d.VerdictTotals[v]}", Colour(d.VerdictNames[v])));
        Legend(sb, entries);
        if (d.Frames == 0) Message(sb, Top + TimePlotHeight / 2, "the capture holds no frame");
        sb.Append("</svg>\n<figcaption>Frames per verdict in each bucket of the capture clock. Dashed lines: <code>--apply-at</code> reloads.</figcaption>\n</figure>\n");
    }

    /// <summary>
    /// An occupancy series against its capacity. The axis goes up to the capacity when the series comes within half of
    /// it; otherwise to the series' own top, with the capacity written out (a million-entry table would flatten a
    /// replay's few hundred entries into the axis).
    /// </summary>
    static void OccupancyChart(StringBuilder sb, ReportData d, string id, string title, string yLabel, long capacity,
        IReadOnlyList<(long StartNs, long Value, long? Second)> points, string valueName, string? secondName, string empty, string caption)
    {
        long held = 0;
        foreach (var p in points) held = Math.Max(held, Math.Max(p.Value, p.Second ?? 0));
        long most = Math.Max(1, held);
        bool capacityShown = capacity > 0 && capacity <= 2 * most;
        double yTop = capacityShown ? capacity : Svg.NiceTop(most);
        sb.Append("<figure id=\"").Append(id).Append("\" class=\"time-chart\" data-capacity=\"").Append(Svg.N(capacity)).Append("\" data-points=\"").Append(Svg.N(points.Count)).Append("\">\n");
        OpenSvg(sb, TimeHeight, title);
        Title(sb, title);
        TimeAxes(sb, d, yTop, yLabel);
        sb.Append("<g class=\"capacity\" data-capacity=\"").Append(Svg.N(capacity)).Append("\">");
        if (capacityShown)
            sb.Append("<line x1=\"").Append(Svg.C(Left)).Append("\" x2=\"").Append(Svg.C(Left + PlotWidth)).Append("\" y1=\"").Append(Svg.C(CountY(capacity, yTop)))
              .Append("\" y2=\"").Append(Svg.C(CountY(capacity, yTop))).Append("\"/><text x=\"").Append(Svg.C(Left + PlotWidth - 4)).Append("\" y=\"").Append(Svg.C(CountY(capacity, yTop) + 14))
              .Append("\" text-anchor=\"end\">capacity ").Append(Svg.N(capacity)).Append("</text>");
        else if (capacity > 0)
            sb.Append("<text x=\"").Append(Svg.C(Left + PlotWidth)).Append("\" y=\"").Append(Svg.C(Top - 12)).Append("\" text-anchor=\"end\">capacity ").Append(Svg.N(capacity))
              .Append(", far above this scale (the most held was ").Append(Svg.N(held)).Append(", ").Append(Svg.Pct((double)held / capacity)).Append(")</text>");
        sb.Append("</g>\n");
        // The second series first, so the main one is drawn over it where they coincide.
        if (secondName is not null) Series(sb, d, points.Select(p => (p.StartNs, p.Second)).ToList(), yTop, "series-second", "#9e9e9e", secondName);
        Series(sb, d, points.Select(p => (p.StartNs, (long?)p.Value)).ToList(), yTop, "series-main", "#1565c0", valueName);
        ReloadMarkers(sb, d);
        Legend(sb, secondName is null ? [(valueName, "#1565c0")] : [(valueName, "#1565c0"), (secondName, "#9e9e9e")]);
        if (points.Count == 0) Message(sb, Top + TimePlotHeight / 2, empty);
        sb.Append("</svg>\n<figcaption>").Append(caption).Append("</figcaption>\n</figure>\n");
    }

    /// <summary>A line through the buckets' samples (each at its bucket's middle), with a dot per sample carrying its figures.</summary>
    static void Series(StringBuilder sb, ReportData d, List<(long StartNs, long? Value)> points, double yTop, string cls, string colour, string name)
    {
        double half = Math.Max(1, d.BucketWidthNs) / 2.0;
        var path = new StringBuilder();
        sb.Append("<g class=\"").Append(cls).Append("\">");
        foreach (var (start, value) in points)
        {
            if (value is not long v) continue;
            double x = TimeX(d, start + half), y = CountY(v, yTop);
            path.Append(path.Length == 0 ? "M" : " L").Append(Svg.C(x)).Append(' ').Append(Svg.C(y));
            sb.Append("<circle data-start-ns=\"").Append(Svg.N(start)).Append("\" data-value=\"").Append(Svg.N(v)).Append("\" cx=\"").Append(Svg.C(x)).Append("\" cy=\"").Append(Svg.C(y))
              .Append("\" r=\"2.5\" fill=\"").Append(colour).Append("\"><title>").Append(Svg.Esc($"{name}: {v} at {Svg.Duration(start)}")).Append("</title></circle>");
        }
        if (path.Length > 0) sb.Append("<path d=\"").Append(path).Append("\" fill=\"none\" stroke=\"").Append(colour).Append("\" stroke-width=\"2\"/>");
        sb.Append("</g>\n");
    }

    static void ConntrackChart(StringBuilder sb, ReportData d) =>
        OccupancyChart(sb, d, "fig-conntrack", "Conntrack entries held", "entries", d.CtCapacity,
            [.. d.Occupancy.Select(o => (o.StartNs, o.CtEntries, (long?)null))], "conntrack entries", null, "no occupancy was measured",
            "Conntrack entries in the node's tables (all workers), the most seen in each bucket, against the table's capacity (<code>--ct-max</code>). Expired entries hold their slot until the GC reaches them, so they count.");

    static void SnatChart(StringBuilder sb, ReportData d)
    {
        var points = d.Occupancy.Where(o => o.SnatBusiest is not null).Select(o => (o.StartNs, o.SnatBusiest!.Value, o.SnatBindings)).ToList();
        OccupancyChart(sb, d, "fig-snat", "Masquerade (SNAT) ports held", "ports", d.SnatCapacity, points,
            "busiest destination", "all masqueraded connections", "no connection was masqueraded: no SNAT port held",
            "Ports held towards the busiest destination (node address, backend address and port, protocol), which runs out first since each destination has the whole port range (<code>--snat-port-range</code>), and all masqueraded connections. Measured at most once per bucket.");
    }

    /// <summary>Drops and rejects by reason, one bar each, longest scale shared so their sizes compare.</summary>
    static void ReasonChart(StringBuilder sb, ReportData d)
    {
        var rows = d.Drops.Select(r => ("drop", r)).Concat(d.Rejects.Select(r => ("reject", r))).ToList();
        const double row = 24, labelWidth = 230;
        double height = Top + Math.Max(1, rows.Count) * row + Bottom;
        long most = Math.Max(1, rows.Count == 0 ? 1 : rows.Max(r => r.r.Frames));
        double xTop = Svg.NiceTop(most), xStep = Svg.NiceStep(most);
        double x0 = Left + labelWidth, w = PlotWidth - labelWidth - 60;
        sb.Append("<figure id=\"fig-drops\" data-drops=\"").Append(Svg.N(d.Drops.Sum(r => r.Frames))).Append("\" data-rejects=\"").Append(Svg.N(d.Rejects.Sum(r => r.Frames))).Append("\">\n");
        OpenSvg(sb, height, "Drops and rejects by reason");
        Title(sb, "Frames dropped (red) and rejected (orange) by reason");
        double bottom = Top + Math.Max(1, rows.Count) * row;
        if (rows.Count > 0) ReasonAxis(sb, x0, w, bottom, xTop, xStep);
        for (int i = 0; i < rows.Count; i++)
        {
            var (kind, r) = rows[i];
            double y = Top + i * row;
            string colour = kind == "drop" ? Colour("drop") : Colour("reject");
            sb.Append("<g class=\"bar\" data-kind=\"").Append(kind).Append("\" data-reason=\"").Append(Svg.Esc(r.Reason)).Append("\" data-code=\"").Append(r.Code).Append("\" data-frames=\"").Append(Svg.N(r.Frames)).Append("\">")
              .Append("<text x=\"").Append(Svg.C(x0 - 6)).Append("\" y=\"").Append(Svg.C(y + 15)).Append("\" text-anchor=\"end\" class=\"reason\">").Append(Svg.Esc(r.Reason)).Append(" (").Append(r.Code).Append(")</text>")
              .Append("<rect x=\"").Append(Svg.C(x0)).Append("\" y=\"").Append(Svg.C(y + 4)).Append("\" width=\"").Append(Svg.C(Math.Max(1, w * r.Frames / xTop))).Append("\" height=\"").Append(Svg.C(row - 8))
              .Append("\" fill=\"").Append(colour).Append("\"/><text class=\"count\" x=\"").Append(Svg.C(x0 + w * r.Frames / xTop + 5)).Append("\" y=\"").Append(Svg.C(y + 15)).Append("\">").Append(Svg.N(r.Frames)).Append("</text></g>\n");
        }
        if (rows.Count == 0) Message(sb, Top + row / 2 + 4, "no frame was dropped or rejected with a reason");
        sb.Append("</svg>\n<figcaption>The summary's drop reasons and reject reasons, by the reason's fixed number.");
        if (d.OutgoingCopies > 0)
            sb.Append(" Not shown: <span id=\"outgoing-copies\" data-frames=\"").Append(Svg.N(d.OutgoingCopies)).Append("\">").Append(Svg.N(d.OutgoingCopies))
              .Append("</span> outgoing copies, frames the node itself sent (Linux cooked capture), passed untouched.");
        sb.Append("</figcaption>\n</figure>\n");
    }

    static void ReasonAxis(StringBuilder sb, double x0, double w, double bottom, double xTop, double xStep)
    {
        sb.Append("<g class=\"axis x-axis\"><line x1=\"").Append(Svg.C(x0)).Append("\" x2=\"").Append(Svg.C(x0 + w)).Append("\" y1=\"").Append(Svg.C(bottom)).Append("\" y2=\"").Append(Svg.C(bottom)).Append("\"/>");
        for (double t = 0; t <= xTop + 1e-9; t += xStep)
        {
            double x = x0 + w * t / xTop;
            sb.Append("<line x1=\"").Append(Svg.C(x)).Append("\" x2=\"").Append(Svg.C(x)).Append("\" y1=\"").Append(Svg.C(bottom)).Append("\" y2=\"").Append(Svg.C(bottom + 4))
              .Append("\"/><text x=\"").Append(Svg.C(x)).Append("\" y=\"").Append(Svg.C(bottom + 16)).Append("\" text-anchor=\"middle\">").Append(Svg.Tick(t, xStep)).Append("</text>");
        }
        sb.Append("<text class=\"axis-label\" x=\"").Append(Svg.C(x0 + w / 2)).Append("\" y=\"").Append(Svg.C(bottom + 34)).Append("\" text-anchor=\"middle\">frames</text></g>\n");
    }

    /// <summary>One Service port's backends: each one's share of the new connections against its promised share.</summary>
    static void BackendChart(StringBuilder sb, ReportService s, int index)
    {
        const double row = 26, labelWidth = 170;
        double height = Top + Math.Max(1, s.Backends.Count) * row + Bottom;
        double x0 = Left + labelWidth - 50, w = PlotWidth - labelWidth - 170;
        double most = 0.01;
        foreach (ReportBackend b in s.Backends)
        {
            double n = Math.Max(1, s.Connections);
            most = Math.Max(most, Math.Max(b.Connections / n, (b.ExpectedConnections + 2 * b.ExpectedSd) / n));
        }
        double xTop = Math.Min(1, Svg.NiceTop(most)), xStep = Svg.NiceStep(xTop);
        string what = s.Algorithm == "maglev" ? "Maglev table share" : $"random, 1/N";
        sb.Append("<figure id=\"fig-backends-").Append(index).Append("\" class=\"backend-chart\" data-service=\"").Append(Svg.Esc(s.Service)).Append("\" data-algorithm=\"").Append(s.Algorithm)
          .Append("\" data-connections=\"").Append(Svg.N(s.Connections)).Append("\">\n");
        OpenSvg(sb, height, "Backends of " + s.Service);
        Title(sb, $"{s.Service}: {s.Connections} new connections ({what}{(s.Affinity ? ", sessionAffinity ClientIP" : "")})");
        double bottom = Top + Math.Max(1, s.Backends.Count) * row;
        sb.Append("<g class=\"axis x-axis\"><line x1=\"").Append(Svg.C(x0)).Append("\" x2=\"").Append(Svg.C(x0 + w)).Append("\" y1=\"").Append(Svg.C(bottom)).Append("\" y2=\"").Append(Svg.C(bottom)).Append("\"/>");
        for (double t = 0; t <= xTop + 1e-9; t += xStep)
        {
            double x = x0 + w * t / xTop;
            sb.Append("<line x1=\"").Append(Svg.C(x)).Append("\" x2=\"").Append(Svg.C(x)).Append("\" y1=\"").Append(Svg.C(Top)).Append("\" y2=\"").Append(Svg.C(bottom + 4))
              .Append("\" stroke=\"#eee\"/><text x=\"").Append(Svg.C(x)).Append("\" y=\"").Append(Svg.C(bottom + 16)).Append("\" text-anchor=\"middle\">").Append(Svg.Pct(t)).Append("</text>");
        }
        sb.Append("<text class=\"axis-label\" x=\"").Append(Svg.C(x0 + w / 2)).Append("\" y=\"").Append(Svg.C(bottom + 34)).Append("\" text-anchor=\"middle\">share of the service's new connections</text></g>\n");
        for (int i = 0; i < s.Backends.Count; i++)
        {
            ReportBackend b = s.Backends[i];
            double n = Math.Max(1, s.Connections), y = Top + i * row;
            double seen = b.Connections / n, promised = b.PromisedShare, sd = b.ExpectedSd / n;
            double X(double share) => x0 + w * Math.Clamp(share / xTop, 0, 1);
            sb.Append("<g class=\"backend\" data-backend=\"").Append(Svg.Esc(b.Backend)).Append("\" data-connections=\"").Append(Svg.N(b.Connections))
              .Append("\" data-promised-share=\"").Append(Svg.R(b.PromisedShare)).Append("\" data-expected=\"").Append(Svg.R(b.ExpectedConnections)).Append("\">")
              .Append("<text x=\"").Append(Svg.C(x0 - 6)).Append("\" y=\"").Append(Svg.C(y + 16)).Append("\" text-anchor=\"end\">").Append(Svg.Esc(b.Backend)).Append("</text>")
              .Append("<rect x=\"").Append(Svg.C(x0)).Append("\" y=\"").Append(Svg.C(y + 5)).Append("\" width=\"").Append(Svg.C(Math.Max(0.5, X(seen) - x0))).Append("\" height=\"").Append(Svg.C(row - 10))
              .Append("\" fill=\"#64b5f6\"/>")
              .Append("<line class=\"whisker\" x1=\"").Append(Svg.C(X(promised - 2 * sd))).Append("\" x2=\"").Append(Svg.C(X(promised + 2 * sd))).Append("\" y1=\"").Append(Svg.C(y + row / 2))
              .Append("\" y2=\"").Append(Svg.C(y + row / 2)).Append("\" stroke=\"#212121\"/>")
              .Append("<line class=\"promise\" x1=\"").Append(Svg.C(X(promised))).Append("\" x2=\"").Append(Svg.C(X(promised))).Append("\" y1=\"").Append(Svg.C(y + 2)).Append("\" y2=\"").Append(Svg.C(y + row - 2))
              .Append("\" stroke=\"#212121\" stroke-width=\"2.5\"/>")
              .Append("<text class=\"figures\" x=\"").Append(Svg.C(x0 + w + 8)).Append("\" y=\"").Append(Svg.C(y + 16)).Append("\">").Append(Svg.N(b.Connections)).Append(" (").Append(Svg.Pct(seen))
              .Append("), promised ").Append(Svg.Pct(promised)).Append("</text></g>\n");
        }
        if (s.Backends.Count == 0) Message(sb, Top + row / 2 + 4, "no backend");
        sb.Append("</svg>\n<figcaption>").Append(Svg.Esc(s.Service)).Append(": bars are each backend's share of the ").Append(Svg.N(s.Connections))
          .Append(" new connections; the black tick is the promised share, the whisker ±2 standard deviations.")
          .Append(s.Affinity ? " With sessionAffinity ClientIP a client's later connections follow its first, so only first connections follow the promise." : "")
          .Append("</figcaption>\n</figure>\n");
    }

    /// <summary>Verify's connections by status, as one bar split in three.</summary>
    static void DivergenceChart(StringBuilder sb, long agrees, long diverges, long incomplete)
    {
        const double height = 90;
        long total = Math.Max(1, agrees + diverges + incomplete);
        sb.Append("<figure id=\"fig-divergences\" data-agrees=\"").Append(Svg.N(agrees)).Append("\" data-diverges=\"").Append(Svg.N(diverges)).Append("\" data-incomplete=\"").Append(Svg.N(incomplete)).Append("\">\n");
        OpenSvg(sb, height, "Connections by verdict of verify");
        Title(sb, "Connections: agree (green), diverge (red), incomplete (amber)");
        double x = Left;
        foreach (var (status, n, colour) in new[] { (ReportConnection.Agrees, agrees, "#2e7d32"), (ReportConnection.Diverges, diverges, "#c62828"), (ReportConnection.Incomplete, incomplete, "#f9a825") })
        {
            double w = PlotWidth * n / total;
            sb.Append("<g class=\"status\" data-status=\"").Append(status).Append("\" data-connections=\"").Append(Svg.N(n)).Append("\"><rect x=\"").Append(Svg.C(x)).Append("\" y=\"28\" width=\"")
              .Append(Svg.C(w)).Append("\" height=\"26\" fill=\"").Append(colour).Append("\"/>");
            if (n > 0) sb.Append("<text x=\"").Append(Svg.C(x + 4)).Append("\" y=\"72\">").Append(status).Append(' ').Append(Svg.N(n)).Append("</text>");
            sb.Append("</g>\n");
            x += w;
        }
        sb.Append("</svg>\n</figure>\n");
    }
}
