using DataPlane.Kubernetes.Manifests;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// The hints kube-controller-manager's EndpointSlice controller writes on the slices it makes (k8s.io/endpointslice:
/// reconciler <c>hintsEnabled</c>, <c>trafficdist.ReconcileHints</c>, <c>topologycache.AddHints</c>/<c>getAllocations</c>/
/// <c>SetNodes</c>). The rule implemented, per service (IPv4 slices):
/// <list type="number">
/// <item><c>service.kubernetes.io/topology-aware-hints</c> (which has precedence) or else
/// <c>service.kubernetes.io/topology-mode</c> is "Auto" or "auto": Topology Aware Routing, below. It wins over
/// spec.trafficDistribution.</item>
/// <item>Otherwise spec.trafficDistribution PreferClose, PreferSameZone or PreferSameNode: every ready endpoint gets
/// hints.forZones = [its own zone] when it has one, and with PreferSameNode also hints.forNodes = [its own node];
/// other values (or none): no hints.</item>
/// </list>
/// Topology Aware Routing (proportional to allocatable CPU per zone):
/// <list type="number">
/// <item>Nodes: those labelled node-role.kubernetes.io/control-plane or /master and those whose Ready condition is
/// not True are left out. If any other node lacks a <c>topology.kubernetes.io/zone</c> label or has zero (or no)
/// status.allocatable.cpu, or fewer than two zones remain, no hints. A zone's ratio is its CPU over the total
/// (millicores). A node with no Ready condition at all counts as ready: hand-written manifests omit status.conditions
/// (upstream would see such a node as not ready).</item>
/// <item>With N ready endpoints and Z zones: Z &gt; N gives no hints. Per zone, desired = ratio·N,
/// minimum = ⌈desired / 1.2⌉ (20 % overload threshold), desired raised to the minimum; if the minimums add up to more
/// than N, no hints; maximum = minimum + N − Σminimum.</item>
/// <item>Any ready endpoint without a zone: no hints. Otherwise each ready endpoint is first hinted for its own zone;
/// zones holding more than desired give, zones below receive: repeatedly the zone with most to give gives one to the
/// zone with most to receive while both have ≥ 0.5 left and one of them ≥ 1; then walking the endpoints in order, an
/// endpoint of a giving zone is re-hinted for a receiving zone.</item>
/// </list>
/// Deliberate difference: upstream walks Go maps (random order) where zones tie or several receive; DataPlane takes
/// zones in ordinal name order, so the same manifests always give the same hints.
/// </summary>
public static class TopologyHints
{
    const double OverloadThreshold = 0.2;

    /// <summary>True when the service's annotation asks for Topology Aware Routing (reconciler <c>hintsEnabled</c>).</summary>
    public static bool AutoEnabled(Service svc) => svc.TopologyMode is "Auto" or "auto";

    /// <summary>PreferClose (an alias of PreferSameZone), PreferSameZone or PreferSameNode: hints from trafficDistribution.</summary>
    public static bool IsCloseDistribution(string? td) => td is "PreferClose" or "PreferSameZone" or "PreferSameNode";

    /// <summary>The controller's endpoint readiness: Ready written and true (trafficdist <c>endpointReady</c>).</summary>
    static bool Ready(SliceEndpoint e) => e.Ready == true;

    /// <summary>
    /// The endpoints with the hints the controller gives them for <paramref name="svc"/>, in the same order;
    /// <paramref name="why"/> says why Topology Aware Routing wrote no hints (null when it did, or was not asked).
    /// </summary>
    public static SliceEndpoint[] Apply(Service svc, IReadOnlyList<SliceEndpoint> endpoints, IReadOnlyList<Node> nodes, out string? why)
    {
        why = null;
        if (AutoEnabled(svc))
            return Auto(endpoints, nodes, out why);
        if (!IsCloseDistribution(svc.TrafficDistribution))
            return [.. endpoints.Select(Clear)];
        bool sameNode = svc.TrafficDistribution == "PreferSameNode";
        return [.. endpoints.Select(e => !Ready(e) ? e : e with
        {
            ForZones = e.Zone is { } z ? [z] : [],
            ForNodes = sameNode && e.NodeName is { } n ? [n] : [],
        })];
    }

    static SliceEndpoint Clear(SliceEndpoint e) => e.ForZones.Count + e.ForNodes.Count == 0 ? e : e with { ForZones = [], ForNodes = [] };

    /// <summary>Allocatable CPU ratio per zone (topologycache <c>SetNodes</c>), or null with the reason there is none.</summary>
    public static SortedDictionary<string, double>? CpuRatiosByZone(IReadOnlyList<Node> nodes, out string? why)
    {
        why = null;
        var cpu = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long total = 0;
        foreach (Node n in nodes)
        {
            if (n.Labels.ContainsKey("node-role.kubernetes.io/control-plane") || n.Labels.ContainsKey("node-role.kubernetes.io/master")) continue;
            if (n.Ready == false) continue;
            if (n.Zone is not { } zone || n.AllocatableMilliCpu is not > 0)
            {
                why = $"insufficient node information: node {n.Name} has no {Node.ZoneLabel} label or no allocatable CPU";
                return null;
            }
            total += n.AllocatableMilliCpu.Value;
            cpu[zone] = cpu.GetValueOrDefault(zone) + n.AllocatableMilliCpu.Value;
        }
        if (total == 0 || cpu.Count < 2)
        {
            why = $"insufficient node information: ready nodes in {cpu.Count} zone{(cpu.Count == 1 ? "" : "s")}, at least 2 needed";
            return null;
        }
        var ratios = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (zone, milli) in cpu) ratios[zone] = (double)milli / total;
        return ratios;
    }

    readonly record struct Allocation(int Minimum, int Maximum, double Desired);

    static SliceEndpoint[] Auto(IReadOnlyList<SliceEndpoint> endpoints, IReadOnlyList<Node> nodes, out string? why)
    {
        SliceEndpoint[] cleared = [.. endpoints.Select(Clear)];
        SortedDictionary<string, double>? ratios = CpuRatiosByZone(nodes, out why);
        if (ratios is null) return cleared;
        int n = endpoints.Count(Ready);
        if (ratios.Count > n)
        {
            why = $"insufficient number of endpoints ({n} endpoints, {ratios.Count} zones)";
            return cleared;
        }
        // getAllocations.
        var alloc = new SortedDictionary<string, Allocation>(StringComparer.Ordinal);
        int remaining = n, minTotal = 0;
        foreach (var (zone, ratio) in ratios)
        {
            double desired = ratio * n;
            int minimum = (int)Math.Ceiling(desired * (1 / (1 + OverloadThreshold)));
            alloc[zone] = new Allocation(minimum, 0, Math.Max(desired, minimum));
            minTotal += minimum;
            remaining -= minimum;
            if (remaining < 0)
            {
                why = $"unable to allocate the minimum endpoints to each zone without exceeding the overload threshold ({n} endpoints, {ratios.Count} zones)";
                return cleared;
            }
        }
        foreach (string zone in alloc.Keys.ToList())
            alloc[zone] = alloc[zone] with { Maximum = alloc[zone].Minimum + n - minTotal };

        // Step 1: same-zone hints.
        var hinted = new SliceEndpoint[endpoints.Count];
        var allocated = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < endpoints.Count; i++)
        {
            SliceEndpoint e = cleared[i];
            if (!Ready(e)) { hinted[i] = e; continue; }
            if (string.IsNullOrEmpty(e.Zone))
            {
                why = $"endpoint {DataPlane.Packets.Ip4.Format(e.Addresses[0])} has no zone";
                return cleared;
            }
            allocated[e.Zone] = allocated.GetValueOrDefault(e.Zone) + 1;
            hinted[i] = e with { ForZones = [e.Zone] };
        }
        // Step 2: getGivingAndReceivingZones.
        var givingDesired = new SortedDictionary<string, double>(StringComparer.Ordinal);
        var receivingDesired = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (zone, a) in alloc)
        {
            int have = allocated.GetValueOrDefault(zone);
            if (have > a.Desired) givingDesired[zone] = have - a.Desired;
            else if (have < a.Desired) receivingDesired[zone] = a.Desired - have;
        }
        var giving = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var receiving = new SortedDictionary<string, int>(StringComparer.Ordinal);
        while (true)
        {
            var (gz, toGive) = Most(givingDesired);
            var (rz, toReceive) = Most(receivingDesired);
            if (gz is null || rz is null || (toGive < 1.0 && toReceive < 1.0) || toGive < 0.5 || toReceive < 0.5) break;
            giving[gz] = giving.GetValueOrDefault(gz) + 1;
            givingDesired[gz]--;
            receiving[rz] = receiving.GetValueOrDefault(rz) + 1;
            receivingDesired[rz]--;
        }
        // Step 3: redistributeHints.
        for (int i = 0; i < hinted.Length && giving.Count > 0 && receiving.Count > 0; i++)
        {
            SliceEndpoint e = hinted[i];
            if (!Ready(e) || !giving.TryGetValue(e.Zone!, out int give) || give <= 0) continue;
            string to = receiving.First(r => r.Value > 0).Key;
            hinted[i] = e with { ForZones = [to] };
            if (give == 1) giving.Remove(e.Zone!); else giving[e.Zone!] = give - 1;
            if (receiving[to] == 1) receiving.Remove(to); else receiving[to]--;
        }
        why = null;
        return hinted;
    }

    /// <summary>getMost: the zone with the greatest positive value, the first in name order on a tie.</summary>
    static (string? Zone, double Value) Most(SortedDictionary<string, double> zones)
    {
        string? zone = null;
        double most = 0;
        foreach (var (z, v) in zones)
            if (v > most) { zone = z; most = v; }
        return (zone, most);
    }
}
