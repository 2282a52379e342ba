using System.Text.Json.Nodes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Maps;

namespace DataPlane.IO.Text;

/// <summary>How trace and maps show a topology decision: which hint kind narrowed the endpoints, or why none did.</summary>
public static class TopologyText
{
    /// <summary>
    /// Whether the frontend the packet hit uses the cluster-scope endpoints (the only ones topology narrows): not an
    /// internalTrafficPolicy Local ClusterIP, not the external scope of an externalTrafficPolicy Local address.
    /// </summary>
    public static bool Applies(ServiceFlags flags, byte scope) =>
        (flags & ServiceFlags.IntLocal) == 0 && !((flags & ServiceFlags.ExtLocal) != 0 && scope == 0);

    public static IEnumerable<string> TraceLines(TopologyDecision d, ServiceFlags flags, byte scope)
    {
        if (!Applies(flags, scope))
        {
            yield return "not used: a Local traffic policy selects this node's endpoints, which topology never narrows";
            yield break;
        }
        yield return d.Summary;
        foreach (string r in d.Reasons) yield return r;
    }

    public static JsonObject Json(TopologyDecision d, ServiceFlags flags, byte scope) => new()
    {
        ["mode"] = Applies(flags, scope) ? d.Mode.ToString() : "NotApplicable",
        ["node"] = d.NodeName,
        ["zone"] = d.Zone,
        ["reasons"] = new JsonArray([.. (Applies(flags, scope) ? d.Reasons : ["a Local traffic policy selects this node's endpoints"]).Select(r => (JsonNode)r)]),
        ["nodeSubset"] = new JsonArray([.. d.NodeSubset.Select(e => (JsonNode)e)]),
        ["zoneSubset"] = new JsonArray([.. d.ZoneSubset.Select(e => (JsonNode)e)]),
    };

    /// <summary>The maps listing's topology section: per service port, this node's and this zone's hinted subsets and the choice.</summary>
    public static void WriteMaps(TextWriter w, TopologyReport report)
    {
        if (report.Decisions.Count == 0) return;
        w.WriteLine();
        w.WriteLine("TOPOLOGY (cluster-scope endpoints; Local traffic policies are not narrowed)");
        foreach (TopologyDecision d in report.Decisions)
        {
            w.WriteLine($"{d.ServicePort}: {d.Summary}");
            w.WriteLine($"  node {d.NodeName}: {List(d.NodeSubset)}");
            w.WriteLine($"  zone {d.Zone ?? "(node has no zone label)"}: {List(d.ZoneSubset)}");
            foreach (string r in d.Reasons) w.WriteLine($"  {r}");
        }
    }

    static string List(IReadOnlyList<string> eps) => eps.Count == 0 ? "(none hinted)" : string.Join(", ", eps);
}
