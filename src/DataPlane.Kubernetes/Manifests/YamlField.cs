using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>
/// A node of a parsed document together with its field path, so every read can fail with an exact location.
/// Typing follows how Kubernetes decodes YAML (sigs.k8s.io/yaml: YAML to JSON, then encoding/json): a plain
/// scalar 80 is a number and does not fill a string field; a quoted "80" is a string and does not fill an int.
/// A null scalar (null, ~, empty) means "field not set", as JSON null does for the API types.
/// </summary>
internal readonly partial struct YamlField(YamlNode? node, string path, ObjectScope scope)
{
    public YamlNode? Node { get; } = node;
    public string Path { get; } = path;
    public ObjectScope Scope { get; } = scope;

    public bool IsSet => Node is not null && !IsNull(Node);

    public ManifestException Error(string problem) => Scope.Error(Path, problem);

    public YamlField this[string key]
    {
        get
        {
            var childPath = Path.Length == 0 ? key : Path + "." + key;
            if (!IsSet)
                return new(null, childPath, Scope);
            if (Node is not YamlMappingNode map)
                throw Error($"expected a mapping, got {Describe(Node!)}");
            foreach (var entry in map.Children)
            {
                if (entry.Key is YamlScalarNode k && k.Value == key)
                    return new(entry.Value, childPath, Scope);
            }
            return new(null, childPath, Scope);
        }
    }

    /// <summary>Sequence elements with "path[i]" paths; an unset field is an empty list.</summary>
    public IEnumerable<YamlField> Items()
    {
        if (!IsSet)
            yield break;
        if (Node is not YamlSequenceNode seq)
            throw Error($"expected a list, got {Describe(Node!)}");
        int i = 0;
        foreach (var child in seq.Children)
            yield return new(child, $"{Path}[{i++}]", Scope);
    }

    /// <summary>A string-to-string map such as labels or a selector; null when unset.</summary>
    public Dictionary<string, string>? StringMap()
    {
        if (!IsSet)
            return null;
        if (Node is not YamlMappingNode map)
            throw Error($"expected a mapping, got {Describe(Node!)}");
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in map.Children)
        {
            if (entry.Key is not YamlScalarNode { Value: { } key })
                throw Error("keys must be strings");
            var value = new YamlField(entry.Value, $"{Path}[{key}]", Scope);
            result[key] = value.String() ?? "";
        }
        return result;
    }

    public string? String()
    {
        if (!IsSet)
            return null;
        if (Node is not YamlScalarNode scalar)
            throw Error($"expected a string, got {Describe(Node!)}");
        var kind = Classify(scalar);
        if (kind is not ScalarKind.String)
            throw Error($"expected a string, got {Describe(scalar)}");
        return scalar.Value!;
    }

    public int? Int()
    {
        if (!IsSet)
            return null;
        if (Node is YamlScalarNode scalar && Classify(scalar) is ScalarKind.Integer)
        {
            if (TryParseInteger(scalar.Value!, out long value) && value is >= int.MinValue and <= int.MaxValue)
                return (int)value;
            throw Error($"{scalar.Value} is out of range for a 32-bit integer");
        }
        throw Error($"expected an integer, got {Describe(Node!)}");
    }

    public bool? Bool()
    {
        if (!IsSet)
            return null;
        if (Node is YamlScalarNode scalar && Classify(scalar) is ScalarKind.Boolean)
            return BooleanValue(scalar.Value!);
        throw Error($"expected true or false, got {Describe(Node!)}");
    }

    /// <summary>The scalar's type as an int-or-string field (Service targetPort) sees it.</summary>
    public bool IsInteger => Node is YamlScalarNode s && IsSet && Classify(s) is ScalarKind.Integer;

    internal static bool IsNull(YamlNode node) =>
        node is YamlScalarNode s && Classify(s) is ScalarKind.Null;

    internal enum ScalarKind { Null, Boolean, Integer, Float, String }

    internal static ScalarKind ClassifyScalar(YamlScalarNode s) => Classify(s);

    /// <summary>True for the YAML 1.1 "true" spellings (y, yes, on, true in their cases); call only on a Boolean scalar.</summary>
    internal static bool BooleanValue(string v) => v is "y" or "Y" or "yes" or "Yes" or "YES" or "on" or "On" or "ON" or "true" or "True" or "TRUE";

    /// <summary>
    /// An integer as go-yaml v2 resolves a plain scalar (resolve.go): underscores are dropped, then Go's
    /// <c>strconv.ParseInt(s, 0, 64)</c>: optional sign, 0x hexadecimal, 0o or a leading 0 octal, 0b binary, else decimal.
    /// </summary>
    internal static bool TryParseInteger(string text, out long value)
    {
        value = 0;
        var s = text.Replace("_", "");
        bool negative = false;
        if (s.Length > 0 && (s[0] == '+' || s[0] == '-'))
        {
            negative = s[0] == '-';
            s = s[1..];
        }
        if (s.Length == 0) return false;
        int radix = 10;
        if (s.Length > 2 && s[0] == '0' && (s[1] is 'x' or 'X')) { radix = 16; s = s[2..]; }
        else if (s.Length > 2 && s[0] == '0' && (s[1] is 'o' or 'O')) { radix = 8; s = s[2..]; }
        else if (s.Length > 2 && s[0] == '0' && (s[1] is 'b' or 'B')) { radix = 2; s = s[2..]; }
        else if (s.Length > 1 && s[0] == '0') { radix = 8; s = s[1..]; }
        ulong acc = 0;
        foreach (char c in s)
        {
            int d = c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'f' ? c - 'a' + 10 : c is >= 'A' and <= 'F' ? c - 'A' + 10 : 99;
            if (d >= radix) return false;
            acc = acc * (ulong)radix + (ulong)d;
            if (acc > (ulong)long.MaxValue + 1) return false;
        }
        if (!negative && acc > long.MaxValue) return false;
        value = negative ? (long)(0 - acc) : (long)acc;
        return true;
    }

    // Plain scalars resolve as go-yaml v2 (kubectl's sigs.k8s.io/yaml) resolves them: YAML 1.1 booleans (yes/no,
    // on/off, y/n), null, integers (with 0x/0o/0b/leading-0 forms), floats; explicit tags and quoting win.
    private static ScalarKind Classify(YamlScalarNode s)
    {
        var tag = s.Tag.IsEmpty ? "" : s.Tag.Value;
        if (tag == "tag:yaml.org,2002:str")
            return ScalarKind.String;
        if (s.Style is not (ScalarStyle.Plain or ScalarStyle.Any) && tag.Length == 0)
            return ScalarKind.String;
        var v = s.Value ?? "";
        if (v is "" or "~" or "null" or "Null" or "NULL")
            return ScalarKind.Null;
        if (v is "true" or "True" or "TRUE" or "false" or "False" or "FALSE"
            or "y" or "Y" or "yes" or "Yes" or "YES" or "on" or "On" or "ON"
            or "n" or "N" or "no" or "No" or "NO" or "off" or "Off" or "OFF")
            return ScalarKind.Boolean;
        if (tag == "tag:yaml.org,2002:bool")
            return ScalarKind.String; // a tagged non-boolean: go-yaml refuses it; as a string it fails typed reads
        if (IntegerPattern().IsMatch(v) && TryParseInteger(v, out _))
            return ScalarKind.Integer;
        if (FloatPattern().IsMatch(v))
            return ScalarKind.Float;
        return ScalarKind.String;
    }

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode s => Classify(s) switch
        {
            ScalarKind.Null => "null",
            ScalarKind.Boolean => $"boolean {s.Value}",
            ScalarKind.Integer or ScalarKind.Float => $"number {s.Value}",
            _ => $"\"{s.Value}\"",
        },
        _ => "an alias",
    };

    [GeneratedRegex(@"^[-+]?([0-9][0-9_]*|0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+)$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$")]
    private static partial Regex FloatPattern();
}
