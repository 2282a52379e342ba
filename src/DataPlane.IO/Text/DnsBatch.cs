using System.Text.Json;
using DataPlane.Dns;
using DataPlane.IO.Trace;

namespace DataPlane.IO.Text;

/// <summary>
/// <c>dns --batch</c>, one line at a time: a line that cannot be asked (not a JSON object, no qname, an unknown record
/// type, a name that does not fit on the wire) gives an error result in its place and the batch goes on, like
/// <c>dig -f</c> going on past a bad line — so the n-th result still belongs to the n-th query.
/// </summary>
public static class DnsBatch
{
    /// <summary>Names and messages as they are: the output is a terminal line, never embedded in HTML.</summary>
    static readonly JsonSerializerOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Asks line <paramref name="line"/> of <paramref name="file"/> and writes its result (<see cref="DnsText.Write"/>),
    /// or its error (<see cref="WriteError"/>). Returns false for an error.
    /// </summary>
    public static bool WriteLine(TextWriter w, DnsProbe probe, string file, int line, string text, bool json)
    {
        ArgumentNullException.ThrowIfNull(probe);
        string qname;
        ushort qtype;
        DnsMessage? answer;
        try
        {
            (qname, qtype) = DnsProbe.ParseBatchLine(file, line, text);
        }
        catch (TraceInputException e)
        {
            WriteError(w, e.Message, json);
            return false;
        }
        try
        {
            answer = probe.Ask(qname, qtype);
        }
        catch (TraceInputException e)
        {
            WriteError(w, $"{file}:{line}: {e.Message}", json);
            return false;
        }
        DnsText.Write(w, qname, qtype, answer, json);
        return true;
    }

    /// <summary>
    /// An error result: JSON in the shape of an answer (<see cref="DnsText.Json"/>: rcode "NONE", no records, as when
    /// no answer came back) plus <c>"error"</c>; text as a dig comment line, <c>;; error: file:line: problem</c>.
    /// </summary>
    public static void WriteError(TextWriter w, string error, bool json)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (json)
        {
            var o = DnsText.Json(null);
            o["error"] = error;
            w.WriteLine(o.ToJsonString(JsonOptions));
        }
        else
        {
            w.WriteLine($";; error: {error.ReplaceLineEndings(" ")}");
        }
    }
}
