using System.Text;
using System.Text.Json;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>
/// A file of JSON objects one after another (<c>{…}{…}</c> or one per line), as kubectl reads it: apimachinery's
/// <c>YAMLOrJSONDecoder</c> takes a text starting with '{' as JSON and decodes value after value (encoding/json's
/// stream decoder), so <c>kubectl get -o json</c> outputs piped together and <c>jq -c</c> output load like a YAML
/// multi-document stream. Each value is then read as one document (JSON is YAML's flow syntax).
/// </summary>
internal static class JsonStream
{
    /// <summary>One object of the stream: its text, and the line (0-based) and column offset it starts at in the file.</summary>
    public readonly record struct Value(string Text, int Line, int Column);

    /// <summary>
    /// The objects of a stream of two or more; null when the text is one JSON value (read as today, as one document)
    /// or no JSON at all (YAML flow style such as <c>{apiVersion: v1, …}</c>, or JSON documents separated by
    /// <c>---</c>, which the YAML reader takes). Throws for a stream that breaks after its first object.
    /// </summary>
    public static List<Value>? Split(string file, string text)
    {
        int first = 0;
        while (first < text.Length && char.IsWhiteSpace(text[first]))
            first++;
        if (first == text.Length || text[first] != '{')
            return null;

        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        // Depth one beyond go-yaml's limit, so that the YAML reader reports a too-deep value with its own message.
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { AllowMultipleValues = true, MaxDepth = YamlTreeBuilder.MaxDepth + 1 });
        var ranges = new List<(int Start, int End)>();
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    if (ranges.Count == 0)
                        return null;
                    throw new ManifestException(file, $"document {ranges.Count + 1}", null,
                        $"line {LineOf(utf8, (int)reader.TokenStartIndex) + 1}: expected a JSON object (a Kubernetes object)");
                }
                int start = (int)reader.TokenStartIndex;
                reader.Skip();
                ranges.Add((start, (int)reader.BytesConsumed));
            }
        }
        catch (JsonException e)
        {
            // Not JSON from the start, or what follows the last object is not another object (a YAML "---" between
            // JSON documents, a YAML comment after one): the YAML reader's business, as before.
            if (ranges.Count == 0 || !NextIsObject(utf8, ranges[^1].End))
                return null;
            string message = e.Message;
            int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0)
                message = message[..cut];
            throw new ManifestException(file, $"document {ranges.Count + 1}", null,
                $"line {e.LineNumber + 1}, column {e.BytePositionInLine + 1}: JSON syntax error: {message}", e);
        }
        if (ranges.Count < 2)
            return null;

        var values = new List<Value>(ranges.Count);
        int line = 0, lineStart = 0, scanned = 0;
        foreach (var (start, end) in ranges)
        {
            for (int i = scanned; i < start; i++)
            {
                if (utf8[i] == (byte)'\n')
                {
                    line++;
                    lineStart = i + 1;
                }
            }
            int column = Encoding.UTF8.GetCharCount(utf8, lineStart, start - lineStart);
            values.Add(new Value(Encoding.UTF8.GetString(utf8, start, end - start), line, column));
            scanned = start;
        }
        return values;
    }

    static bool NextIsObject(byte[] utf8, int from)
    {
        while (from < utf8.Length && utf8[from] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            from++;
        return from < utf8.Length && utf8[from] == (byte)'{';
    }

    static int LineOf(byte[] utf8, int offset)
    {
        int line = 0;
        for (int i = 0; i < offset && i < utf8.Length; i++)
            if (utf8[i] == (byte)'\n') line++;
        return line;
    }
}
