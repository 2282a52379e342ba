using System.Globalization;
using System.Text.Json.Nodes;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using DataPlane.FixtureBuilder;
using DataPlane.IO.Report;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Report;

/// <summary>
/// The report page as a browser shows it: Debian's headless Chromium opens it with the network off and the test reads
/// the DOM it built: every chart is there with its SVG, the figures it draws equal the embedded JSON, the JSON equals
/// the replay's summary, reloads are marked on every time chart, and nothing outside the file is referenced. A
/// screenshot is kept for people: <c>tests/DataPlane.Tests/bin/&lt;Config&gt;/net10.0/artifacts/report-015.png</c> (with
/// the page beside it). Skipped only when Chromium is not installed (<c>.ci/setup-tests.sh</c> installs it).
/// </summary>
public sealed class ReportBrowserTests : IDisposable
{
    readonly TempDir _tmp = new("report-browser");

    public void Dispose() => _tmp.Dispose();

    static string Artifacts
    {
        get
        {
            string dir = System.IO.Path.Combine(AppContext.BaseDirectory, "artifacts");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    static IDocument Parse(string html) => new HtmlParser().ParseDocument(html);

    static long Long(IElement e, string attribute) => long.Parse(e.GetAttribute(attribute)!, CultureInfo.InvariantCulture);

    /// <summary>Writes the report of <paramref name="run"/>, opens it in Chromium, and checks the page against its JSON and the summary.</summary>
    (IDocument Dom, JsonObject Json) OpenAndCheck(ReportRun.Result run, string name)
    {
        string html = System.IO.Path.Combine(Artifacts, name + ".html");
        HtmlReport.Write(html, run.Data);
        IDocument dom = Parse(Chromium.DumpDom(html, _tmp));

        // The embedded data, as the browser holds it (a data block: never executed, text kept as written).
        IElement data = dom.QuerySelector("script#report-data") ?? throw new Xunit.Sdk.XunitException("no #report-data block in the DOM");
        Assert.Equal("application/json", data.GetAttribute("type"));
        JsonObject json = JsonNode.Parse(data.TextContent)!.AsObject();
        ReplayReportTests.AssertCountsEqualSummary(json, run.Summary);

        // Self-contained: no other script, nothing loaded from anywhere.
        Assert.Single(dom.QuerySelectorAll("script"));
        Assert.Empty(dom.QuerySelectorAll("[src], link[href], iframe, object, embed"));

        // Every chart is present and drawn.
        foreach (string id in new[] { "fig-verdicts", "fig-conntrack", "fig-snat", "fig-drops" })
            Assert.True(dom.QuerySelector($"figure#{id} > svg") is not null, $"figure #{id} has no svg");
        int services = json["services"]!.AsArray().Count;
        for (int i = 0; i < Math.Min(services, HtmlReport.ChartedServices); i++)
            Assert.True(dom.QuerySelector($"figure#fig-backends-{i} > svg") is not null, $"figure #fig-backends-{i} has no svg");

        // Verdict totals: the header's table and the stacked bars, against the JSON.
        var totals = dom.QuerySelectorAll("#verdict-totals tr[data-verdict]").ToDictionary(tr => tr.GetAttribute("data-verdict")!, tr => Long(tr, "data-frames"));
        var jsonTotals = json["verdicts"]!.AsObject().Where(kv => (long)kv.Value! > 0).ToDictionary(kv => kv.Key, kv => (long)kv.Value!);
        Assert.Equal(jsonTotals.OrderBy(kv => kv.Key), totals.OrderBy(kv => kv.Key));
        Assert.All(dom.QuerySelectorAll("#verdict-totals tr[data-verdict]"), tr => Assert.Equal(tr.GetAttribute("data-frames"), tr.Children[1].TextContent));
        var bars = dom.QuerySelectorAll("#fig-verdicts rect[data-verdict]").GroupBy(r => r.GetAttribute("data-verdict")!).ToDictionary(g => g.Key, g => g.Sum(r => Long(r, "data-frames")));
        Assert.Equal(jsonTotals.OrderBy(kv => kv.Key), bars.OrderBy(kv => kv.Key));

        // Drops and rejects by reason: each bar's number, its printed label, and the JSON.
        foreach (string kind in new[] { "drop", "reject" })
        {
            IElement[] reasonBars = [.. dom.QuerySelectorAll($"#fig-drops g.bar[data-kind={kind}]")];
            var drawn = reasonBars.ToDictionary(g => g.GetAttribute("data-reason")!, g => Long(g, "data-frames"));
            var listed = json[kind + "s"]!.AsArray().ToDictionary(r => (string)r!["reason"]!, r => (long)r!["frames"]!);
            Assert.Equal(listed.OrderBy(kv => kv.Key), drawn.OrderBy(kv => kv.Key));
            Assert.All(reasonBars, g => Assert.Equal(g.GetAttribute("data-frames"), g.QuerySelector("text.count")!.TextContent));
        }

        // Backends: each drawn backend's connections and promise are the JSON's.
        for (int i = 0; i < Math.Min(services, HtmlReport.ChartedServices); i++)
        {
            JsonObject svc = json["services"]![i]!.AsObject();
            IElement fig = dom.QuerySelector($"#fig-backends-{i}")!;
            Assert.Equal((string)svc["service"]!, fig.GetAttribute("data-service"));
            var drawn = fig.QuerySelectorAll("g.backend").Select(g => (g.GetAttribute("data-backend"), Long(g, "data-connections"),
                double.Parse(g.GetAttribute("data-promised-share")!, CultureInfo.InvariantCulture)));
            var listed = svc["backends"]!.AsArray().Select(b => ((string?)b!["backend"], (long)b["connections"]!, (double)b["promisedShare"]!));
            Assert.Equal(listed, drawn);
        }

        // Reloads: on every time chart, at the JSON's times.
        long[] reloads = [.. json["reloads"]!.AsArray().Select(r => (long)r!["atNs"]!)];
        IElement[] timeCharts = [.. dom.QuerySelectorAll("figure.time-chart")];
        Assert.Equal(3, timeCharts.Length);
        Assert.All(timeCharts, f => Assert.Equal(reloads, f.QuerySelectorAll("g.reload").Select(g => Long(g, "data-at-ns"))));

        // Conversations: one row per listed conversation, busiest first.
        IElement[] rows = [.. dom.QuerySelectorAll("#tbl-conversations tr[data-packets]")];
        Assert.Equal(json["conversations"]!.AsArray().Select(c => (long)c!["packets"]!), rows.Select(r => Long(r, "data-packets")));
        return (dom, json);
    }

    [ChromiumFact]
    public void The_endpoint_change_case_shows_its_reloads_on_every_time_chart_and_a_screenshot_is_kept()
    {
        ReportRun.Result run = ReportRun.Run("015-endpoint-change", applyAt: [(5, "apply-5s.yaml"), (10, "apply-10s.yaml")]);
        var (dom, json) = OpenAndCheck(run, "report-015");
        Assert.Equal(2, json["reloads"]!.AsArray().Count);
        Assert.Equal(2, dom.QuerySelectorAll("#fig-verdicts g.reload").Length);
        Assert.Equal(1L, (long)json["verdicts"]!["reject"]!);

        string png = System.IO.Path.Combine(Artifacts, "report-015.png");
        File.Delete(png);
        Chromium.Screenshot(System.IO.Path.Combine(Artifacts, "report-015.html"), png, _tmp);
        byte[] bytes = File.ReadAllBytes(png);
        Assert.True(bytes.Length > 20_000, $"{png}: {bytes.Length} bytes, too small for a page of charts");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
    }

    [ChromiumFact]
    public void The_nat_exhaustion_case_shows_its_drops_by_reason_as_the_summary_counts_them()
    {
        ReportRun.Result run = ReportRun.Run("014-nat-port-exhaustion",
            options: new PipelineOptions { Seed = Case.Seed, CtCapacity = 1 << 12, SnatPortMin = 40000, SnatPortMax = 40001, SnatPrivilegedClasses = false });
        var (dom, _) = OpenAndCheck(run, "report-014");
        IElement bar = Assert.Single(dom.QuerySelectorAll("#fig-drops g.bar[data-kind=drop]"));
        Assert.Equal("nat-port-exhausted", bar.GetAttribute("data-reason"));
        Assert.Equal(run.Summary.ByReason[DropReason.NatPortExhausted], Long(bar, "data-frames"));
        // The SNAT chart reached the two-port range's capacity.
        Assert.Equal(2, Long(dom.QuerySelector("#fig-snat")!, "data-capacity"));
        Assert.Contains(dom.QuerySelectorAll("#fig-snat g.series-main circle"), c => Long(c, "data-value") == 2);
    }
}
