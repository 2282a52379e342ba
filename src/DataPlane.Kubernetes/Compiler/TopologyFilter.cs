using DataPlane.Kubernetes.Manifests;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// kube-proxy's topology rule (kubernetes pkg/proxy/topology.go, <c>topologyModeFromHints</c> and
/// <c>availableForTopology</c>), applied by the compiler because DataPlane compiles for one node:
/// <list type="number">
/// <item>Only ready endpoints are looked at; with none, no topology.</item>
/// <item>Node hints first (the PreferSameTrafficDistribution gate, GA in 1.35): when every ready endpoint has a
/// non-empty hints.forNodes and at least one names this node, keep the ready endpoints hinted for this node.</item>
/// <item>Otherwise zone hints: when every ready endpoint has a non-empty hints.forZones and at least one names this
/// node's zone (its <c>topology.kubernetes.io/zone</c> label), keep the ready endpoints hinted for this zone.</item>
/// <item>Otherwise every ready endpoint.</item>
/// </list>
/// It narrows only the cluster-traffic-policy endpoints (ClusterIP with internalTrafficPolicy Cluster, external
/// addresses with externalTrafficPolicy Cluster, and the internal scope pods and the node use for an
/// externalTrafficPolicy Local service); the Local-policy endpoints are this node's, never narrowed. It runs before the
/// serving-terminating fallback, which needs no topology: a chosen mode always keeps at least one ready endpoint, so
/// the fallback only happens when no endpoint is ready anywhere (<c>CategorizeEndpoints</c>).
/// </summary>
public static class TopologyFilter
{
    /// <summary>
    /// Decides for <paramref name="ready"/> (the service port's ready endpoints, deduplicated) on node
    /// <paramref name="nodeName"/> in <paramref name="zone"/> (null: the node has no zone label). Returns the ids to
    /// keep (all of them when the mode is None) and the decision with its reasons.
    /// </summary>
    public static (uint[] Kept, TopologyDecision Decision) Decide(string servicePort, IReadOnlyList<TopologyCandidate> ready, string nodeName, string? zone)
    {
        bool allNode = ready.Count > 0, allZone = ready.Count > 0, anyNodeHint = false, anyZoneHint = false;
        string? missingNode = null, missingZone = null;
        var nodeSubset = new List<TopologyCandidate>();
        var zoneSubset = new List<TopologyCandidate>();
        foreach (TopologyCandidate c in ready)
        {
            if (c.ForNodes.Count == 0) { allNode = false; missingNode ??= TopologyDecision.Format(c); }
            else { anyNodeHint = true; if (c.ForNodes.Contains(nodeName)) nodeSubset.Add(c); }
            if (c.ForZones.Count == 0) { allZone = false; missingZone ??= TopologyDecision.Format(c); }
            else { anyZoneHint = true; if (zone is not null && c.ForZones.Contains(zone)) zoneSubset.Add(c); }
        }

        var reasons = new List<string>();
        TopologyMode mode = TopologyMode.None;
        if (ready.Count == 0)
        {
            reasons.Add("no endpoint is ready: nothing to narrow");
        }
        else
        {
            if (allNode && nodeSubset.Count > 0) mode = TopologyMode.PreferSameNode;
            else if (allNode) reasons.Add($"node hints ignored: no endpoint is hinted for node {nodeName}");
            else if (anyNodeHint) reasons.Add($"node hints ignored: endpoint {Ip(missingNode!)} has no node hint");

            if (mode == TopologyMode.None)
            {
                if (allZone && zoneSubset.Count > 0) mode = TopologyMode.PreferSameZone;
                else if (allZone && zone is null) reasons.Add($"zone hints ignored: node {nodeName} has no {Node.ZoneLabel} label");
                else if (allZone) reasons.Add($"zone hints ignored: no endpoint is hinted for zone {zone}");
                else if (anyZoneHint) reasons.Add($"zone hints ignored: endpoint {Ip(missingZone!)} has no zone hint");
            }
            if (mode == TopologyMode.None && !anyNodeHint && !anyZoneHint) reasons.Add("no endpoint carries hints");
        }

        uint[] kept = mode switch
        {
            TopologyMode.PreferSameNode => [.. nodeSubset.Select(c => c.Id)],
            TopologyMode.PreferSameZone => [.. zoneSubset.Select(c => c.Id)],
            _ => [.. ready.Select(c => c.Id)],
        };
        var decision = new TopologyDecision(servicePort, nodeName, zone, mode, reasons,
            [.. nodeSubset.Select(TopologyDecision.Format)], [.. zoneSubset.Select(TopologyDecision.Format)], ready.Count, anyNodeHint || anyZoneHint);
        return (kept, decision);
    }

    /// <summary>"10.0.1.5:80" → "10.0.1.5": the reason names the endpoint by address, as users know it.</summary>
    static string Ip(string endpoint) => endpoint[..endpoint.LastIndexOf(':')];
}
