using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// The fast path for the change a cluster makes most: an EndpointSlice replaced (a pod came, went, or changed
/// readiness). Instead of recompiling every service, it recompiles the endpoints of the services the slices belong to,
/// with the same rules as <see cref="ClusterCompiler"/> (it calls the same endpoint code), and publishes them as a
/// <see cref="MapSetDelta"/> over the last full generation: kube-proxy's partial sync, which rewrites only the changed
/// services' chains.
/// <para>
/// It declines (returns null, and the caller recompiles everything) whenever a change could alter more than those
/// values: any other kind of object, a slice of a service that does not exist or is not proxied, a service whose
/// endpoints come from Pods or an Endpoints object, one whose set of frontends would change (going from no endpoint
/// to some, or back, changes the frontends of a Local traffic policy), or an overlay grown past <see cref="MaxOverlayFrontends"/> frontends or <see cref="MaxOverlaySlots"/> slots.
/// </para>
/// <para>Not thread-safe: owned by <see cref="ControlPlane"/>, which serialises changes.</para>
/// </summary>
public sealed class EndpointChangeCompiler
{
    public const int MaxOverlayFrontends = 4096;
    public const int MaxOverlaySlots = 1 << 16;

    readonly MapSetDeltaBuilder _delta;
    readonly IdRegistry _ids;
    readonly string _nodeName;
    readonly string? _zone;
    readonly Dictionary<(string?, string), Service> _services;
    readonly Dictionary<(string?, string), List<EndpointSlice>> _slices;
    readonly HashSet<(string?, string)> _notSliceManaged;
    readonly Dictionary<ushort, List<(Lb4Key Key, Lb4Service Value)>> _frontends = [];

    /// <param name="manifests">The state <paramref name="baseGeneration"/> was compiled from.</param>
    public EndpointChangeCompiler(ClusterManifests manifests, MapSet baseGeneration, IdRegistry ids, string nodeName)
    {
        _delta = new MapSetDeltaBuilder(baseGeneration, ids);
        _ids = ids;
        _nodeName = nodeName;
        _zone = manifests.Nodes.FirstOrDefault(n => n.Name == nodeName)?.Zone;
        _services = manifests.Services.ToDictionary(s => (s.Namespace, s.Name));
        _slices = [];
        foreach (EndpointSlice s in manifests.EndpointSlices)
            if (s.ServiceName is { } svc)
            {
                if (!_slices.TryGetValue((s.Namespace, svc), out var list)) _slices[(s.Namespace, svc)] = list = [];
                list.Add(s);
            }
        // Services whose endpoints the Pods or a legacy Endpoints object define: a slice for them changes where their
        // endpoints come from, which only the full compile decides.
        _notSliceManaged = [.. manifests.Endpoints.Select(e => (e.Namespace, e.Name))];
        foreach (Service s in manifests.Services)
            if (s.Selector is not null && !_slices.ContainsKey((s.Namespace, s.Name))) _notSliceManaged.Add((s.Namespace, s.Name));
        baseGeneration.Services.ForEach((k, v) =>
        {
            if ((v.Flags & (ServiceFlags.HealthCheck | ServiceFlags.Wildcard)) != 0) return; // no endpoints of their own
            if (!_frontends.TryGetValue(v.RevNatIndex, out var list)) _frontends[v.RevNatIndex] = list = [];
            list.Add((k, v));
        });
    }

    /// <summary>
    /// Applies <paramref name="overlay"/> if it is only EndpointSlice changes this path can take; returns the new
    /// generation, or null to say "recompile everything". On null nothing of this compiler's state is kept valid:
    /// the caller replaces it after its full compile.
    /// </summary>
    public MapSet? TryApply(ClusterManifests overlay, long generation)
    {
        if (overlay.Services.Count + overlay.Endpoints.Count + overlay.Pods.Count + overlay.Nodes.Count + overlay.ServiceCidrs.Count + overlay.Workloads.Count > 0
            || overlay.HasProxyConfig || overlay.EndpointSlices.Count == 0)
            return null;
        var affected = new List<Service>();
        foreach (EndpointSlice s in overlay.EndpointSlices)
        {
            if (!s.IsIPv4 || s.ServiceName is not { } name) return null;
            if (!_services.TryGetValue((s.Namespace, name), out Service? svc) || _notSliceManaged.Contains((s.Namespace, name))) return null;
            if (svc.Type == ServiceType.ExternalName || svc.ClusterIPMode is not ClusterIPMode.Assigned) return null;
            if (!affected.Contains(svc)) affected.Add(svc);
        }
        // The slices of each affected service after the change.
        var after = new Dictionary<(string?, string), List<EndpointSlice>>();
        foreach (Service svc in affected)
        {
            var list = new List<EndpointSlice>(_slices.GetValueOrDefault((svc.Namespace, svc.Name)) ?? []);
            foreach (EndpointSlice s in overlay.EndpointSlices)
                if (s.ServiceName == svc.Name && s.Namespace == svc.Namespace)
                {
                    int i = list.FindIndex(x => x.Name == s.Name);
                    if (i >= 0) list[i] = s; else list.Add(s);
                }
            after[(svc.Namespace, svc.Name)] = list;
        }
        ILookup<(string?, string), Endpoints> noLegacy = Array.Empty<Endpoints>().ToLookup(e => (e.Namespace, e.Name));
        foreach (Service svc in affected)
        {
            ILookup<(string?, string?), EndpointSlice> slices = after[(svc.Namespace, svc.Name)].ToLookup(s => (s.Namespace, s.ServiceName));
            foreach (ServicePort port in svc.Ports)
            {
                byte proto = ClusterCompiler.ProtoOf(port.Protocol);
                if (!_ids.TryGetServicePort(MapSetBuilder.ServicePortKey(ClusterCompiler.PortName(svc, port), proto), out ushort revNat)
                    || !_frontends.TryGetValue(revNat, out var frontends))
                    return null;
                bool noneBefore = (_current ?? _delta.Base).ServingCountOf(revNat) == 0;
                _delta.ResetServing(revNat);
                ClusterCompiler.ScopedEndpoints eps = ClusterCompiler.Endpoints(slices, noLegacy, svc, port, proto, _nodeName, _zone, _delta, revNat);
                if (noneBefore != (eps.All.Length == 0)) return null; // the frontends themselves change
                foreach (var (key, value) in frontends)
                {
                    bool local = (value.Flags & ServiceFlags.ClusterIp) != 0
                        ? (value.Flags & ServiceFlags.IntLocal) != 0
                        : (value.Flags & ServiceFlags.ExtLocal) != 0 && key.Scope == 0;
                    _delta.SetFrontend(key, value, local ? eps.Local : eps.All);
                }
            }
        }
        if (_delta.FrontendCount > MaxOverlayFrontends || _delta.SlotCount > MaxOverlaySlots) return null;
        foreach (var (k, list) in after) _slices[k] = list;
        _ids.Abandon(); // ids allocated here stay registered; the next full compile's commit frees what is unused
        return _current = _delta.Build(generation);
    }

    MapSet? _current;
}
