using System.Text.Json.Nodes;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;
using DataPlane.Tests.Report;

namespace DataPlane.Tests.Verify;

/// <summary>
/// Issue 19 item 3 for <c>verify</c>: <c>verify --report</c> over a kernel capture altered as a broken node behaves,
/// opened in headless Chromium with the network off: the divergences come first, one row per connection that
/// diverges with its fields, the counts equal the embedded JSON and the listing's summary, and the JSON's connections
/// are verify --json's. A screenshot is kept beside the report test's (<c>artifacts/verify-report.png</c>).
/// </summary>
public sealed class VerifyReportBrowserTests : IDisposable
{
    readonly TempDir _tmp = new("verify-report");

    public void Dispose() => _tmp.Dispose();

    [ChromiumFact]
    public void The_page_lists_the_diverging_connections_first_with_the_json_and_the_summary_agreeing()
    {
        string dir = Path.Combine(Repo.Root, "pcaps", "verify", "altered", "backend-not-ready");
        string artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        string html = Path.Combine(artifacts, "verify-report.html");
        string[] args = ["verify", "--cluster", Path.Combine(dir, "cluster"), "--node", "node-1", Path.Combine(dir, "node.pcap")];
        CliTests.Result r = CliTests.Run([.. args, "-q", "--report", html]);
        Assert.Equal(1, r.ExitCode);
        CliTests.Result json = CliTests.Run([.. args, "--json"]);
        JsonNode[] lines = [.. json.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!)];
        JsonNode summary = lines[^1]["summary"]!;

        IDocument dom = new HtmlParser().ParseDocument(Chromium.DumpDom(html, _tmp));
        JsonObject data = JsonNode.Parse(dom.QuerySelector("script#report-data")!.TextContent)!.AsObject();
        Assert.Equal("verify", (string?)data["command"]);
        // The counts: the page's, the embedded JSON's and verify --json's summary are one.
        IElement counts = dom.QuerySelector("#connection-counts")!;
        Assert.Equal((long)summary["flows"]!, long.Parse(counts.GetAttribute("data-connections")!));
        Assert.Equal((long)summary["agrees"]!, long.Parse(counts.GetAttribute("data-agrees")!));
        Assert.Equal((long)summary["diverges"]!, (long)data["connectionCounts"]!["diverges"]!);
        // The divergences section comes before the charts, divergent rows first, each with its fields.
        IElement[] sections = [.. dom.QuerySelectorAll("section")];
        Assert.Equal("divergences", sections[0].Id);
        IElement[] rows = [.. dom.QuerySelectorAll("#tbl-divergences tr[data-status]")];
        int diverging = (int)(long)summary["diverges"]!;
        Assert.True(diverging > 0);
        Assert.All(rows[..diverging], row => Assert.Equal("diverges", row.GetAttribute("data-status")));
        Assert.All(rows[diverging..], row => Assert.NotEqual("diverges", row.GetAttribute("data-status")));
        Assert.All(rows[..diverging], row => Assert.Contains(row.QuerySelectorAll("div.diff"), d => d.GetAttribute("data-field") == "backend"));
        // The embedded connections are verify --json's, field for field.
        var fromJson = lines[..^1].Where(l => (string?)l["status"] == "diverges").Select(l => ((string?)l["flow"]!["src"], l["diffs"]!.AsArray().Count)).OrderBy(x => x.Item1);
        var embedded = data["connections"]!.AsArray().Where(c => (string?)c!["status"] == "diverges").Select(c => ((string?)c!["flow"]!["src"], c["diffs"]!.AsArray().Count)).OrderBy(x => x.Item1);
        Assert.Equal(fromJson, embedded);

        string png = Path.Combine(artifacts, "verify-report.png");
        File.Delete(png);
        Chromium.Screenshot(html, png, _tmp);
        Assert.True(new FileInfo(png).Length > 20_000);
    }
}
