using System.Text;
using System.Text.Json;

namespace DataPlane.IO.Report;

/// <summary>
/// The report's data as JSON, written field by field (no reflection), so the output is the same byte for byte for the
/// same data. The default encoder escapes &lt;, &gt;, &amp; and quotes as \u003C and so on, which is what lets the text
/// sit inside the page's <c>&lt;script type="application/json"&gt;</c> block: no "&lt;/script&gt;" can occur in it.
/// Names are camelCase; times are nanoseconds past the capture's first frame; shares are fractions (0..1).
/// </summary>
public static class ReportJson
{
    /// <summary>Bumped when a field changes meaning or goes away (adding one does not).</summary>
    public const int Version = 1;

    public static string ToJson(ReportData d)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
            Write(w, d);
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    public static void Write(Utf8JsonWriter w, ReportData d)
    {
        w.WriteStartObject();
        w.WriteNumber("version", Version);
        w.WriteString("title", d.Title);
        w.WriteString("command", d.Command);
        w.WriteNumber("frames", d.Frames);
        w.WriteNumber("firstTimestampNs", d.FirstTimestampNs);
        w.WriteNumber("spanNs", d.SpanNs);
        w.WriteNumber("bucketWidthNs", d.BucketWidthNs);
        w.WriteStartObject("verdicts");
        for (int i = 0; i < d.VerdictNames.Count; i++) w.WriteNumber(d.VerdictNames[i], d.VerdictTotals[i]);
        w.WriteEndObject();
        w.WriteStartArray("verdictNames");
        foreach (string v in d.VerdictNames) w.WriteStringValue(v);
        w.WriteEndArray();
        w.WriteStartArray("buckets");
        foreach (ReportBucket b in d.Buckets)
        {
            w.WriteStartObject();
            w.WriteNumber("startNs", b.StartNs);
            Numbers(w, "frames", b.Frames);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        Reasons(w, "drops", d.Drops);
        Reasons(w, "rejects", d.Rejects);
        w.WriteNumber("outgoingCopies", d.OutgoingCopies);
        w.WriteNumber("ctCapacity", d.CtCapacity);
        w.WriteNumber("snatCapacity", d.SnatCapacity);
        w.WriteStartArray("occupancy");
        foreach (ReportOccupancy o in d.Occupancy)
        {
            w.WriteStartObject();
            w.WriteNumber("startNs", o.StartNs);
            w.WriteNumber("ctEntries", o.CtEntries);
            NumberOrNull(w, "snatBusiest", o.SnatBusiest);
            NumberOrNull(w, "snatBindings", o.SnatBindings);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("reloads");
        foreach (ReportReload r in d.Reloads)
        {
            w.WriteStartObject();
            w.WriteNumber("atNs", r.AtNs);
            w.WriteNumber("frame", r.Frame);
            w.WriteString("label", r.Label);
            w.WriteString("outcome", r.Outcome);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteBoolean("backendsFollowed", d.BackendsFollowed);
        w.WriteStartArray("services");
        foreach (ReportService s in d.Services)
        {
            w.WriteStartObject();
            w.WriteString("service", s.Service);
            w.WriteString("algorithm", s.Algorithm);
            w.WriteBoolean("affinity", s.Affinity);
            w.WriteNumber("connections", s.Connections);
            w.WriteStartArray("backends");
            foreach (ReportBackend b in s.Backends)
            {
                w.WriteStartObject();
                w.WriteString("backend", b.Backend);
                w.WriteNumber("connections", b.Connections);
                w.WriteNumber("promisedShare", b.PromisedShare);
                w.WriteNumber("expectedConnections", b.ExpectedConnections);
                w.WriteNumber("expectedSd", b.ExpectedSd);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNumber("unlistedServiceConnections", d.UnlistedServiceConnections);
        w.WriteNumber("conversationRows", d.ConversationRows);
        w.WriteNumber("conversationsReplaced", d.ConversationsReplaced);
        w.WriteStartArray("conversations");
        foreach (ReportConversation c in d.Conversations) Conversation(w, c);
        w.WriteEndArray();
        w.WriteStartArray("notes");
        foreach (string n in d.Notes) w.WriteStringValue(n);
        w.WriteEndArray();
        if (d.Connections is null) w.WriteNull("connections");
        else
        {
            w.WriteStartObject("connectionCounts");
            foreach (string status in new[] { ReportConnection.Agrees, ReportConnection.Diverges, ReportConnection.Incomplete })
                w.WriteNumber(status, d.Connections.Count(c => c.Status == status));
            w.WriteEndObject();
            w.WriteStartArray("connections");
            foreach (ReportConnection c in HtmlReport.ConnectionsInOrder(d.Connections).Take(HtmlReport.ListedConnections)) Connection(w, c);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    static void Conversation(Utf8JsonWriter w, ReportConversation c)
    {
        w.WriteStartObject();
        w.WriteString("proto", c.Proto);
        w.WriteString("addressA", c.AddressA);
        NumberOrNull(w, "portA", c.PortA);
        w.WriteString("addressB", c.AddressB);
        NumberOrNull(w, "portB", c.PortB);
        w.WriteNumber("packets", c.Packets);
        w.WriteNumber("bytes", c.Bytes);
        w.WriteNumber("packetsAToB", c.PacketsAToB);
        w.WriteNumber("bytesAToB", c.BytesAToB);
        w.WriteNumber("packetsBToA", c.PacketsBToA);
        w.WriteNumber("bytesBToA", c.BytesBToA);
        w.WriteNumber("relStartNs", c.RelStartNs);
        w.WriteNumber("durationNs", c.DurationNs);
        StringOrNull(w, "service", c.Service);
        StringOrNull(w, "backend", c.Backend);
        w.WriteString("verdict", c.Verdict);
        w.WriteNumber("firstFrame", c.FirstFrame);
        w.WriteNumber("uncertainty", c.Uncertainty);
        w.WriteEndObject();
    }

    /// <summary>The shape of <c>verify --json</c>'s per-connection line, so one reader reads both.</summary>
    /// <summary>
    /// One connection as <c>verify --json</c> prints it and the report embeds it (one writer for both):
    /// <c>{"flow":{"proto","src","dst"},"service","status","frames","diffs":[{"frame","field","expected","seen","why"}],"why"}</c>.
    /// </summary>
    public static void Connection(Utf8JsonWriter w, ReportConnection c)
    {
        w.WriteStartObject();
        w.WriteStartObject("flow");
        w.WriteString("proto", c.Proto);
        w.WriteString("src", c.Src);
        w.WriteString("dst", c.Dst);
        w.WriteEndObject();
        StringOrNull(w, "service", c.Service);
        w.WriteString("status", c.Status);
        Numbers(w, "frames", c.Frames);
        w.WriteStartArray("diffs");
        foreach (ReportDiff d in c.Diffs)
        {
            w.WriteStartObject();
            w.WriteNumber("frame", d.Frame);
            w.WriteString("field", d.Field);
            w.WriteString("expected", d.Expected);
            w.WriteString("seen", d.Seen);
            if (d.Why is not null) w.WriteString("why", d.Why);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("why", c.Why);
        w.WriteEndObject();
    }

    static void Reasons(Utf8JsonWriter w, string name, IReadOnlyList<ReportReason> reasons)
    {
        w.WriteStartArray(name);
        foreach (ReportReason r in reasons)
        {
            w.WriteStartObject();
            w.WriteString("reason", r.Reason);
            w.WriteNumber("code", r.Code);
            w.WriteNumber("frames", r.Frames);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    static void Numbers(Utf8JsonWriter w, string name, IReadOnlyList<long> values)
    {
        w.WriteStartArray(name);
        foreach (long v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    static void NumberOrNull(Utf8JsonWriter w, string name, long? value)
    {
        if (value is long v) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }

    static void StringOrNull(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name);
        else w.WriteString(name, value);
    }
}
