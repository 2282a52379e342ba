using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>The fields topology-aware routing reads: slice hints, node allocatable CPU and readiness, service annotations.</summary>
public sealed partial class ManifestLoader
{
    /// <summary>
    /// hints.forZones / hints.forNodes: a list of {name}. The API server requires each name (ValidateEndpointSlice
    /// validateHints), so an entry without one is an error; duplicates are kept (they change nothing).
    /// </summary>
    private static List<string> ReadHintNames(YamlField list)
    {
        var names = new List<string>();
        foreach (var item in list.Items())
        {
            names.Add(RequiredString(item["name"]));
        }
        return names;
    }

    /// <summary>
    /// The deprecated service.kubernetes.io/topology-aware-hints when present (it has precedence), otherwise
    /// service.kubernetes.io/topology-mode (endpointslice reconciler <c>hintsEnabled</c>). Any string is accepted, as
    /// the API server accepts any annotation value; only "Auto"/"auto" turn hints on.
    /// </summary>
    private static string? ReadTopologyMode(YamlField obj)
    {
        var annotations = obj["metadata"]["annotations"];
        var old = annotations[Service.TopologyAwareHintsAnnotation];
        return old.IsSet ? old.String() : annotations[Service.TopologyModeAnnotation].String();
    }

    /// <summary>
    /// A resource.Quantity ("2", "1500m", "0.5", "1k", "2Ki", "1e3", written as a YAML number or string) in
    /// millis, rounded up like Quantity.MilliValue. The API server rejects anything else, so do we.
    /// </summary>
    private static long? ReadCpuMillis(YamlField field)
    {
        if (!field.IsSet)
            return null;
        if (field.Node is not YamlScalarNode { Value: { } text })
            throw field.Error("expected a quantity such as \"2\" or \"1500m\"");
        if (!TryParseMillis(text.Trim(), out long millis))
            throw field.Error($"\"{text}\" is not a valid quantity (e.g. \"2\", \"1500m\")");
        return millis;
    }

    internal static bool TryParseMillis(string text, out long millis)
    {
        millis = 0;
        var m = QuantityPattern().Match(text);
        if (!m.Success || !decimal.TryParse(m.Groups[1].Value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint,
                CultureInfo.InvariantCulture, out decimal number))
            return false;
        string suffix = m.Groups[2].Value;
        decimal factor;
        if (suffix.Length > 1 && suffix[0] is 'e' or 'E')
        {
            if (!int.TryParse(suffix.AsSpan(1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int exp) || exp is < -3 or > 18)
                return false;
            factor = 1m;
            for (int i = 0; i < Math.Abs(exp); i++) factor = exp > 0 ? factor * 10 : factor / 10;
        }
        else
        {
            factor = suffix switch
            {
                "" => 1m,
                "m" => 0.001m,
                "k" => 1e3m,
                "M" => 1e6m,
                "G" => 1e9m,
                "T" => 1e12m,
                "P" => 1e15m,
                "Ki" => 1024m,
                "Mi" => 1024m * 1024,
                "Gi" => 1024m * 1024 * 1024,
                "Ti" => 1024m * 1024 * 1024 * 1024,
                _ => 0m,
            };
            if (factor == 0m) return false;
        }
        try
        {
            decimal value = Math.Ceiling(number * factor * 1000m);
            if (value < 0 || value > long.MaxValue) return false;
            millis = (long)value;
            return true;
        }
        catch (OverflowException) { return false; }
    }

    [GeneratedRegex(@"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))((?:[eE][+-]?[0-9]+)|m|k|M|G|T|P|Ki|Mi|Gi|Ti)?$")]
    private static partial Regex QuantityPattern();

    /// <summary>status.conditions[type=Ready].status == "True"; null when there is no Ready condition.</summary>
    private static bool? ReadNodeReady(YamlField conditions)
    {
        foreach (var c in conditions.Items())
            if (c["type"].String() == "Ready")
                return c["status"].String() == "True";
        return null;
    }
}
