using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Kubernetes.Explain;

public sealed partial class Explainer
{
    /// <summary>A frontend matched: name the service, the frontend kind and scope, and the endpoint chain behind the result.</summary>
    string ServicePacket(ReadOnlySpan<StageRecord> log, StageRecord parse, StageRecord svcRec, StageRecord last)
    {
        Service? s = ServiceOf(svcRec.RevNatIndex, out ServicePort? port);
        string name = _maps.ServiceName(svcRec.RevNatIndex) ?? $"service port {svcRec.RevNatIndex}";
        if (s is null || port is null) return $"{name} → {Outcome(last)}";
        bool external = (svcRec.ServiceFlags & ServiceFlags.External) != 0 && svcRec.Scope == 0;
        string kind = (svcRec.ServiceFlags & ServiceFlags.HealthCheck) != 0 ? "healthCheckNodePort"
            : (svcRec.ServiceFlags & ServiceFlags.NodePort) != 0 ? "NodePort"
            : (svcRec.ServiceFlags & ServiceFlags.LoadBalancer) != 0 ? "load-balancer IP"
            : (svcRec.ServiceFlags & ServiceFlags.ExternalIp) != 0 ? "externalIP" : "ClusterIP";
        string frontend = $"{Ip4.Format(parse.DstIp, parse.DstPort)}/{Proto(parse.Proto)} is {s.Key}'s {kind} (port {PortText(port)})";

        if ((svcRec.ServiceFlags & ServiceFlags.HealthCheck) != 0)
            return $"{Ip4.Format(parse.DstIp, parse.DstPort)}/{Proto(parse.Proto)} is {s.Key}'s healthCheckNodePort (externalTrafficPolicy Local): " +
                $"kube-proxy's health server answers it on the node, 200 while the node has a local endpoint → {Outcome(last)}";
        if (svcRec.Verdict == Verdict.Local)
            return $"{frontend}: the healthCheckNodePort of an externalTrafficPolicy Local service; kube-proxy answers it on the node → {Outcome(last)}";
        if (svcRec.Verdict == Verdict.Drop && svcRec.Reason == DropReason.NotInSourceRange)
            return $"{frontend}, but source {Ip4.Format(parse.SrcIp)} is not in its loadBalancerSourceRanges ({string.Join(", ", s.LoadBalancerSourceRanges)}) → drop";

        if (last.Verdict == Verdict.Forward)
        {
            StageRecord? be = Find(log, PipelineStage.BackendSelect);
            StageRecord? create = Find(log, PipelineStage.ConntrackCreate);
            string masq = create is { HasEntry: true } c && (c.CtFlags & CtFlags.Snat) != 0
                ? $"source masqueraded to {Ip4.Format(c.Reply.DstIp, c.Reply.DstPort)}"
                : "client address kept";
            return $"{frontend} → {(be?.SlotCount ?? 0)} usable endpoint(s){ScopeNote(s, external)} → backend {Ip4.Format(be?.Backend.Address ?? 0, be?.Backend.Port ?? 0)}, {masq} → forward";
        }
        if (Find(log, PipelineStage.BackendSelect) is { } sel && sel.SlotCount == 0 || last.Reason == DropReason.NoServiceBackend || last.Verdict == Verdict.Reject)
            return $"{frontend}; {Chain(s, port, external)} → no backend → {(last.Verdict == Verdict.Reject ? "reject (ICMP port unreachable, as kube-proxy answers a service with no endpoints)" : "drop")}";
        return $"{frontend} → {Outcome(last)}";
    }

    string ScopeNote(Service s, bool external)
    {
        TrafficPolicy p = external ? s.ExternalTrafficPolicy : s.InternalTrafficPolicy;
        return p == TrafficPolicy.Local ? $" on {_node} ({(external ? "externalTrafficPolicy" : "internalTrafficPolicy")} Local)" : "";
    }

    /// <summary>
    /// "default/web: 3 endpoints, 2 on node-2 (externalTrafficPolicy Local: not usable here), 1 not ready", or why the
    /// service has no endpoints at all (no selector, a selector matching no pod, pods without an address, orphan slices).
    /// </summary>
    public string Chain(Service s, ServicePort port, bool external)
    {
        EndpointSlice[] slices = [.. _slices[(s.Namespace, s.Name)]];
        TrafficPolicy policy = external ? s.ExternalTrafficPolicy : s.InternalTrafficPolicy;
        string policyName = external ? "externalTrafficPolicy" : "internalTrafficPolicy";
        if (slices.Length == 0)
        {
            Endpoints[] legacy = [.. _m.Endpoints.Where(e => e.Namespace == s.Namespace && e.Name == s.Name)];
            if (legacy.Length > 0)
            {
                int ready = legacy.SelectMany(e => e.Subsets).Sum(ss => ss.Addresses.Count);
                int notReady = legacy.SelectMany(e => e.Subsets).Sum(ss => ss.NotReadyAddresses.Count);
                return $"{s.Key}: Endpoints object {s.Key} lists {ready} ready and {notReady} not-ready address(es)" +
                    (legacy.SelectMany(e => e.Subsets).SelectMany(ss => ss.Ports).Any(p => p.Name == port.Name) ? "" : $", but none for port '{(port.Name.Length > 0 ? port.Name : port.Port)}'");
            }
            return $"{s.Key}: 0 endpoints, because {NoEndpointsCause(s)}{Orphans(s)}";
        }
        int total = 0, notReadyCount = 0, terminating = 0, elsewhere = 0, noPort = 0, usable = 0;
        var otherNodes = new SortedSet<string>(StringComparer.Ordinal);
        foreach (EndpointSlice slice in slices)
        {
            bool hasPort = slice.Ports.Any(p => p.Name == port.Name && p.Port is not null && p.Protocol == port.Protocol);
            foreach (SliceEndpoint ep in slice.Endpoints)
                foreach (uint _ in ep.Addresses)
                {
                    total++;
                    if (!hasPort) { noPort++; continue; }
                    bool ready = ep.IsReady || s.PublishNotReadyAddresses;
                    if (!ready && ep.IsServing && ep.IsTerminating) { terminating++; continue; }
                    if (!ready) { notReadyCount++; continue; }
                    if (policy == TrafficPolicy.Local && ep.NodeName != _node)
                    {
                        elsewhere++;
                        otherNodes.Add(ep.NodeName ?? "no node");
                        continue;
                    }
                    usable++;
                }
        }
        if (total == 0) return $"{s.Key}: 0 endpoints, because {NoEndpointsCause(s)}{Orphans(s)}";
        var parts = new List<string>();
        if (elsewhere > 0) parts.Add($"{elsewhere} on {string.Join(", ", otherNodes)} ({policyName} Local: not usable here)");
        if (notReadyCount > 0) parts.Add($"{notReadyCount} not ready");
        if (terminating > 0) parts.Add($"{terminating} terminating (used only when no endpoint is ready)");
        if (noPort > 0) parts.Add($"{noPort} in slices without port '{(port.Name.Length > 0 ? port.Name : "(unnamed)")}' {port.Protocol}");
        if (usable > 0) parts.Add($"{usable} usable");
        return $"{s.Key}: {total} endpoint{(total == 1 ? "" : "s")}" + (parts.Count > 0 ? ", " + string.Join(", ", parts) : "");
    }

    /// <summary>Why a service has no endpoint at all: the selector and the pods it should match.</summary>
    string NoEndpointsCause(Service s)
    {
        if (s.Selector is null)
            return $"it has no selector, so its endpoints must be written by hand: an EndpointSlice labelled kubernetes.io/service-name={s.Name} or an Endpoints object named {s.Name} in {s.Namespace}, and there is none" +
                (_m.Endpoints.Where(e => e.Namespace == s.Namespace && e.Name != s.Name).Select(e => e.Key).ToArray() is { Length: > 0 } eps
                    ? $" (Endpoints {string.Join(", ", eps)} exist, but an Endpoints object must have the Service's name)" : "");
        string sel = string.Join(",", s.Selector.Select(kv => $"{kv.Key}={kv.Value}"));
        Pod[] inNs = [.. _m.Pods.Where(p => p.Namespace == s.Namespace)];
        Pod[] matched = [.. inNs.Where(p => s.Selector.All(kv => p.Labels.TryGetValue(kv.Key, out string? v) && v == kv.Value))];
        if (matched.Length == 0)
        {
            string near = string.Join(", ", inNs.SelectMany(p => p.Labels.Where(l => s.Selector.ContainsKey(l.Key)).Select(l => $"{l.Key}={l.Value}")).Distinct().Take(5));
            string elsewhere = string.Join(", ", _m.Pods.Where(p => p.Namespace != s.Namespace && s.Selector.All(kv => p.Labels.TryGetValue(kv.Key, out string? v) && v == kv.Value)).Select(p => p.Key).Take(3));
            return $"its selector {sel} matches no pod in namespace {s.Namespace}" +
                (near.Length > 0 ? $" (pods there have {near})" : "") + (elsewhere.Length > 0 ? $" (it would match {elsewhere}, but a selector only sees its own namespace)" : "");
        }
        if (matched.All(p => p.PodIP is null))
            return $"its selector {sel} matches {matched.Length} pod(s), none with an IP yet (not scheduled or not started)";
        if (matched.All(p => p.Phase is PodPhase.Succeeded or PodPhase.Failed))
            return $"its selector {sel} matches {matched.Length} pod(s), all finished ({string.Join(", ", matched.Select(p => $"{p.Key} {p.Phase}"))})";
        return $"its selector {sel} matches {matched.Length} pod(s), but none of them became an endpoint";
    }

    /// <summary>"; EndpointSlice ns/x names service 'y', which does not exist (an orphan)" for slices in the namespace that name no Service.</summary>
    string Orphans(Service s)
    {
        var orphans = _m.EndpointSlices.Where(sl => sl.Namespace == s.Namespace && sl.ServiceName is { } n && !_m.Services.Any(x => x.Namespace == sl.Namespace && x.Name == n))
            .Select(sl => $"EndpointSlice {sl.Key} names service '{sl.ServiceName}', which does not exist (an orphan kube-proxy ignores)").ToArray();
        var unlabelled = _m.EndpointSlices.Where(sl => sl.Namespace == s.Namespace && sl.ServiceName is null)
            .Select(sl => $"EndpointSlice {sl.Key} has no kubernetes.io/service-name label").ToArray();
        string[] all = [.. orphans, .. unlabelled];
        return all.Length == 0 ? "" : "; " + string.Join("; ", all);
    }
}
