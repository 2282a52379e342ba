using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using DataPlane.Packets;

namespace DataPlane.Kubernetes.Manifests;

public sealed partial class ManifestLoader
{
    /// <summary>Reads metadata.name (and namespace), validates them and names the scope so later errors say "Kind ns/name".</summary>
    private static (string Name, string? Namespace) ReadMetadata(YamlField obj, bool namespaced, bool dns1035Name = false)
    {
        var meta = obj["metadata"];
        var nameField = meta["name"];
        var name = RequiredString(nameField);
        // Service names become DNS labels (<svc>.<ns>.svc), hence RFC 1035 (apimachinery NameIsDNS1035Label);
        // other kinds only need to be DNS subdomains (NameIsDNSSubdomain).
        if (dns1035Name ? !Dns1035Label().IsMatch(name) : !DnsSubdomain().IsMatch(name))
            throw nameField.Error($"\"{name}\" is not a valid name ({(dns1035Name ? "RFC 1035 label" : "RFC 1123 subdomain")}: lowercase letters, digits and '-'{(dns1035Name ? ", starting with a letter" : " and '.'")})");
        string? ns = null;
        if (namespaced)
        {
            // kubectl fills in the context namespace, "default" unless told otherwise.
            ns = meta["namespace"].String();
            if (string.IsNullOrEmpty(ns))
                ns = "default";
            else if (!Dns1123Label().IsMatch(ns))
                throw meta["namespace"].Error($"\"{ns}\" is not a valid namespace (RFC 1123 label)");
        }
        obj.Scope.Name = name;
        obj.Scope.Namespace = ns;
        return (name, ns);
    }

    /// <summary>A port number 1-65535 (IsValidPortNum); null when unset unless <paramref name="required"/>.</summary>
    private static int? ReadPort(YamlField field, bool required)
    {
        var value = field.Int();
        if (value is null)
            return required ? throw field.Error("required") : null;
        if (value is < 1 or > 65535)
            throw field.Error($"{value} is not a valid port (1-65535)");
        return value;
    }

    private static PortProtocol ReadProtocol(YamlField field) => field.String() switch
    {
        null or "TCP" => PortProtocol.TCP,
        "UDP" => PortProtocol.UDP,
        "SCTP" => PortProtocol.SCTP,
        var other => throw field.Error($"\"{other}\" is not a supported protocol (TCP, UDP or SCTP)"),
    };

    /// <summary>A string the API requires: absent or empty is "required".</summary>
    private static string RequiredString(YamlField field)
    {
        var text = field.String();
        return string.IsNullOrEmpty(text) ? throw field.Error("required") : text;
    }

    /// <summary>An IPv4 address; null for an IPv6 one (the emulator is IPv4-only), an error for anything else.</summary>
    private static uint? ReadIP(YamlField field, bool required = true)
    {
        var text = field.String();
        if (string.IsNullOrEmpty(text))
            return required ? throw field.Error("required") : null;
        return ParseIP(field, text);
    }

    private static uint? ParseIP(YamlField field, string text)
    {
        if (Ip4.TryParse(text, out var ip))
            return ip;
        if (IsIPv6Address(text))
            return null;
        throw field.Error($"\"{text}\" is not a valid IP address");
    }

    /// <summary>True for a syntactically valid IPv6 address; the loader skips those instead of rejecting them.</summary>
    private static bool IsIPv6Address(ReadOnlySpan<char> text) =>
        text.Contains(':') && IPAddress.TryParse(text, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6;

    /// <summary>True for a syntactically valid IPv6 prefix; the loader skips those instead of rejecting them.</summary>
    private static bool IsIPv6Cidr(ReadOnlySpan<char> text)
    {
        text = text.Trim();
        int slash = text.IndexOf('/');
        return slash > 0
            && int.TryParse(text[(slash + 1)..], out int length) && length is >= 0 and <= 128
            && IPAddress.TryParse(text[..slash], out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6;
    }

    private static List<uint> ReadIPList(YamlField list)
    {
        var result = new List<uint>();
        foreach (var item in list.Items())
        {
            if (ReadIP(item) is { } ip)
                result.Add(ip);
        }
        return result;
    }

    /// <summary>
    /// An IPv4 CIDR; null for an IPv6 one. <paramref name="lenient"/> = kube-proxy's trimmed, leading-zeros form;
    /// <paramref name="canonical"/> = host bits must be zero, as the API demands of ServiceCIDR ranges.
    /// </summary>
    private static Cidr4? ParseCidr(YamlField field, string text, bool lenient = false, bool canonical = false)
    {
        if (Cidr4.TryParse(lenient ? text.AsSpan().Trim() : text, lenient, out var cidr, out uint written))
        {
            if (canonical && written != cidr.Prefix)
                throw field.Error($"\"{text}\" is not in canonical form (did you mean {cidr}?)");
            return cidr;
        }
        if (IsIPv6Cidr(text))
            return null;
        throw field.Error($"\"{text}\" is not a valid CIDR");
    }

    private static List<Cidr4> ReadCidrList(YamlField list, bool lenient = false, bool canonical = false)
    {
        var result = new List<Cidr4>();
        foreach (var item in list.Items())
        {
            var text = RequiredString(item);
            if (ParseCidr(item, text, lenient, canonical) is { } cidr)
                result.Add(cidr);
        }
        return result;
    }

    /// <summary>An enum-valued string field. Names are matched case-sensitively, as the API does.</summary>
    private static T ReadEnum<T>(YamlField field, T defaultValue, string what, params T[] allowed) where T : struct, Enum
    {
        var text = field.String();
        if (string.IsNullOrEmpty(text))
            return defaultValue;
        foreach (var value in allowed)
        {
            if (value.ToString() == text)
                return value;
        }
        var names = allowed.Select(v => v.ToString()).ToArray();
        var list = names.Length == 1 ? names[0] : string.Join(", ", names[..^1]) + " or " + names[^1];
        throw field.Error($"\"{text}\" is not a valid {what} ({list})");
    }

    private static IReadOnlyDictionary<string, string> ReadLabels(YamlField obj) =>
        obj["metadata"]["labels"].StringMap() ?? new Dictionary<string, string>();

    private static bool IsDns1123Label(string s) => Dns1123Label().IsMatch(s);

    /// <summary>IANA_SVC_NAME (validation <c>IsValidPortName</c>): at most 15 characters, a letter somewhere, no "--".</summary>
    private static bool IsIanaServiceName(string s) =>
        s.Length <= 15 && IanaName().IsMatch(s) && s.Any(char.IsAsciiLetterLower) && !s.Contains("--");

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex Dns1123Label();

    [GeneratedRegex(@"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex Dns1035Label();

    [GeneratedRegex(@"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex IanaName();

    /// <summary>An RFC 3339 metadata timestamp; null when absent or not a timestamp (the field is informational here).</summary>
    private static DateTimeOffset? ReadTimestamp(YamlField f) =>
        f.String() is { } text && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out DateTimeOffset t) ? t : null;
}
