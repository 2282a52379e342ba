using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>
/// The API server's name checks with its messages, verbatim: k8s.io/apimachinery/pkg/util/validation
/// (<c>IsDNS1123Label</c>, <c>IsDNS1123Subdomain</c>, <c>IsDNS1035Label</c>, <c>RegexError</c>, <c>MaxLenError</c>) and
/// the <c>field.Invalid</c> error body (<c>Invalid value: "v": detail</c>, the value quoted as Go's <c>%q</c> does).
/// </summary>
internal static partial class ApiValidation
{
    const string Dns1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
    const string Dns1123LabelErrMsg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
    const string Dns1123SubdomainFmt = Dns1123LabelFmt + "(\\." + Dns1123LabelFmt + ")*";
    const string Dns1123SubdomainErrMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
    const string Dns1035LabelFmt = "[a-z]([-a-z0-9]*[a-z0-9])?";
    const string Dns1035LabelErrMsg = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";

    /// <summary>IsDNS1123Label: at most 63 bytes of the label regex; a valid subdomain with dots gets "must not contain dots".</summary>
    public static List<string> IsDns1123Label(string value)
    {
        var errs = new List<string>();
        if (Encoding.UTF8.GetByteCount(value) > 63)
            errs.Add(MaxLenError(63));
        if (!Dns1123LabelRegex().IsMatch(value))
            errs.Add(Dns1123SubdomainRegex().IsMatch(value) ? "must not contain dots" : RegexError(Dns1123LabelErrMsg, Dns1123LabelFmt, "my-name", "123-abc"));
        return errs;
    }

    /// <summary>IsDNS1123Subdomain: at most 253 bytes of dot-separated labels.</summary>
    public static List<string> IsDns1123Subdomain(string value)
    {
        var errs = new List<string>();
        if (Encoding.UTF8.GetByteCount(value) > 253)
            errs.Add(MaxLenError(253));
        if (!Dns1123SubdomainRegex().IsMatch(value))
            errs.Add(RegexError(Dns1123SubdomainErrMsg, Dns1123SubdomainFmt, "example.com"));
        return errs;
    }

    /// <summary>IsDNS1035Label: at most 63 bytes, starting with a letter.</summary>
    public static List<string> IsDns1035Label(string value)
    {
        var errs = new List<string>();
        if (Encoding.UTF8.GetByteCount(value) > 63)
            errs.Add(MaxLenError(63));
        if (!Dns1035LabelRegex().IsMatch(value))
            errs.Add(RegexError(Dns1035LabelErrMsg, Dns1035LabelFmt, "my-name", "abc-123"));
        return errs;
    }

    /// <summary>The check a name rule stands for; no errors for <see cref="NameRule.Unchecked"/>.</summary>
    public static List<string> Check(NameRule rule, string value) => rule switch
    {
        NameRule.Subdomain => IsDns1123Subdomain(value),
        NameRule.Label => IsDns1123Label(value),
        NameRule.Dns1035Label => IsDns1035Label(value),
        _ => [],
    };

    /// <summary>
    /// field.Invalid's body for each message, as the API server prints it after the field path
    /// (<c>Invalid value: "Web_1": a DNS-1035 label must …</c>); several are joined with "; ".
    /// </summary>
    public static string Invalid(string value, IEnumerable<string> errors) =>
        string.Join("; ", errors.Select(e => $"Invalid value: {GoQuote(value)}: {e}"));

    static string MaxLenError(int length) => $"must be no more than {length} characters";

    /// <summary>RegexError: "msg (e.g. 'a',  or 'b', regex used for validation is 'fmt')" — the double space is upstream's.</summary>
    static string RegexError(string msg, string fmt, params string[] examples)
    {
        if (examples.Length == 0)
            return msg + " (regex used for validation is '" + fmt + "')";
        var sb = new StringBuilder(msg).Append(" (e.g. ");
        for (int i = 0; i < examples.Length; i++)
        {
            if (i > 0)
                sb.Append(" or ");
            sb.Append('\'').Append(examples[i]).Append("', ");
        }
        return sb.Append("regex used for validation is '").Append(fmt).Append("')").ToString();
    }

    /// <summary>
    /// Go's <c>%q</c> of a string (strconv.Quote): printable characters as they are (an en-dash stays an en-dash, so
    /// the message shows what the user wrote), <c>"</c> and <c>\</c> escaped, anything unprintable as an escape.
    /// </summary>
    internal static string GoQuote(string value)
    {
        var sb = new StringBuilder("\"");
        foreach (var rune in value.EnumerateRunes())
        {
            int c = rune.Value;
            switch (c)
            {
                case '"': sb.Append("\\\""); continue;
                case '\\': sb.Append("\\\\"); continue;
                case '\a': sb.Append("\\a"); continue;
                case '\b': sb.Append("\\b"); continue;
                case '\f': sb.Append("\\f"); continue;
                case '\n': sb.Append("\\n"); continue;
                case '\r': sb.Append("\\r"); continue;
                case '\t': sb.Append("\\t"); continue;
                case '\v': sb.Append("\\v"); continue;
            }
            if (IsGoPrintable(rune))
                sb.Append(rune.ToString());
            else if (c < 0x80)
                sb.Append(CultureInfo.InvariantCulture, $"\\x{c:x2}");
            else if (c <= 0xFFFF)
                sb.Append(CultureInfo.InvariantCulture, $"\\u{c:x4}");
            else
                sb.Append(CultureInfo.InvariantCulture, $"\\U{c:x8}");
        }
        return sb.Append('"').ToString();
    }

    /// <summary>strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.</summary>
    static bool IsGoPrintable(Rune r) => r.Value == ' ' || Rune.GetUnicodeCategory(r) switch
    {
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
            or UnicodeCategory.OtherNotAssigned or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator => false,
        _ => true,
    };

    // Go's regexp anchors ^…$ match the whole string; .NET's $ also matches before a final "\n", hence \z.
    [GeneratedRegex(@"^" + Dns1123LabelFmt + @"\z")]
    private static partial Regex Dns1123LabelRegex();

    [GeneratedRegex(@"^" + Dns1123SubdomainFmt + @"\z")]
    private static partial Regex Dns1123SubdomainRegex();

    [GeneratedRegex(@"^" + Dns1035LabelFmt + @"\z")]
    private static partial Regex Dns1035LabelRegex();
}
