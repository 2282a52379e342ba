using System.Text.Json.Nodes;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using DataPlane.IO.Report;

namespace DataPlane.Tests.Report;

/// <summary>The page writer on its own: deterministic, escaped, and verify's divergences listed divergent first with their counts.</summary>
public class HtmlReportTests
{
    static string Html(ReportData d)
    {
        var w = new StringWriter();
        HtmlReport.Write(w, d);
        return w.ToString();
    }

    static ReportConnection Conn(string status, string src, params ReportDiff[] diffs) =>
        new("tcp", src, "10.96.0.10:80", "default/web:http", status, [1, 2], diffs, status == "agrees" ? "" : "the node masqueraded it");

    static readonly ReportData Verified = new()
    {
        Title = "node.pcap",
        Command = "verify",
        Frames = 6,
        Connections =
        [
            Conn(ReportConnection.Agrees, "10.244.1.5:1000"),
            Conn(ReportConnection.Incomplete, "10.244.1.5:1001"),
            Conn(ReportConnection.Diverges, "203.0.113.7:4000", new ReportDiff(2, "src", "203.0.113.7", "192.168.0.2")),
        ],
    };

    [Fact]
    public void The_same_data_gives_the_same_bytes()
    {
        Assert.Equal(Html(Verified), Html(Verified with { }));
    }

    [Fact]
    public void Text_from_the_capture_or_the_cluster_cannot_break_out_of_the_page_or_its_data_block()
    {
        const string evil = "</script><script>alert(1)</script><b>&";
        string html = Html(new ReportData { Title = evil, Notes = [evil] });
        IDocument dom = new HtmlParser().ParseDocument(html);
        Assert.Single(dom.QuerySelectorAll("script"));
        Assert.Empty(dom.QuerySelectorAll("b"));
        Assert.Contains(evil, dom.Title);
        Assert.Equal(evil, (string)JsonNode.Parse(dom.QuerySelector("#report-data")!.TextContent)!["title"]!);
    }

    [Fact]
    public void Verify_connections_are_listed_divergent_first_with_their_fields_and_counted()
    {
        IDocument dom = new HtmlParser().ParseDocument(Html(Verified));
        IElement counts = dom.QuerySelector("#connection-counts")!;
        Assert.Equal(("1", "1", "1"), (counts.GetAttribute("data-agrees"), counts.GetAttribute("data-diverges"), counts.GetAttribute("data-incomplete")));
        Assert.NotNull(dom.QuerySelector("#fig-divergences > svg"));
        Assert.Equal(["diverges", "incomplete", "agrees"], dom.QuerySelectorAll("#tbl-divergences tr[data-status]").Select(r => r.GetAttribute("data-status")));
        IElement diff = Assert.Single(dom.QuerySelectorAll("#tbl-divergences .diff"));
        Assert.Equal(("2", "src"), (diff.GetAttribute("data-frame"), diff.GetAttribute("data-field")));
        Assert.Contains("expected 203.0.113.7, seen 192.168.0.2", diff.TextContent);
        JsonObject json = JsonNode.Parse(dom.QuerySelector("#report-data")!.TextContent)!.AsObject();
        Assert.Equal(1, (int)json["connectionCounts"]!["diverges"]!);
        Assert.Equal("diverges", (string)json["connections"]![0]!["status"]!);
        Assert.Equal("src", (string)json["connections"]![0]!["diffs"]![0]!["field"]!);
        // A replay's page has no such section.
        Assert.Null(new HtmlParser().ParseDocument(Html(Verified with { Connections = null })).QuerySelector("#divergences"));
    }
}
