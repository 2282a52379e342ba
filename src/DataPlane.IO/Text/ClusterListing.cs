using System.Text.Json;
using System.Text.Json.Nodes;
using DataPlane.Kubernetes.Inventory;

namespace DataPlane.IO.Text;

/// <summary>
/// <c>dataplane cluster</c>: the inventory as text, in the columns of <c>kubectl get nodes,pods,svc,endpointslices -o wide</c>
/// (endpoints one row per address and port, like <c>kubectl describe endpointslice</c>), or as one JSON object.
/// </summary>
public static class ClusterListing
{
    public static void WriteText(TextWriter w, ClusterInventory c)
    {
        w.WriteLine($"service CIDRs: {string.Join(", ", c.ServiceCIDRs)}   cluster CIDR: {c.ClusterCIDR ?? "<none>"}");
        w.WriteLine();
        Table(w, ["NODE", "INTERNAL-IP", "EXTERNAL-IP", "POD-CIDR", "STATUS"], c.Nodes.Select(n => new[]
        {
            n.Name, Join(n.InternalIPs), Join(n.ExternalIPs), n.PodCIDRs.Count > 1 ? string.Join(",", n.PodCIDRs) : n.PodCIDR ?? "<none>",
            (n.Unschedulable ? "Ready,SchedulingDisabled" : "Ready") + (n.Emulated ? " (emulated)" : ""),
        }));
        w.WriteLine();
        Table(w, ["NAMESPACE", "POD", "READY", "STATUS", "IP", "NODE", "OWNER", "HOSTNAME", "SUBDOMAIN"], c.Pods.Select(p => new[]
        {
            p.Namespace, p.Name, p.Ready ? "1/1" : "0/1", p.Phase, p.IP ?? "<none>", p.Node ?? "<none>", p.Owner ?? "<none>",
            p.Hostname ?? "", p.Subdomain ?? "",
        }));
        if (c.UnlistedPendingPods > 0)
            w.WriteLine($"... and {c.UnlistedPendingPods} more Pending pod{(c.UnlistedPendingPods == 1 ? "" : "s")} not listed (no node has room for them: counted, not made)");
        w.WriteLine();
        Table(w, ["NAMESPACE", "SERVICE", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"], c.Services.Select(s => new[]
        {
            s.Namespace, s.Name, s.Type, s.ClusterIP ?? "<none>",
            s.ExternalName ?? (s.ExternalIPs.Count > 0 ? Join(s.ExternalIPs) : s.Type == "LoadBalancer" ? "<pending>" : "<none>"),
            (s.Ports.Count == 0 ? "<none>" : string.Join(",", s.Ports.Select(p => $"{p.Port}{(p.NodePort is int np ? $":{np}" : "")}/{p.Protocol}")))
                + (s.Emulated ? " (emulated)" : ""),
        }));
        w.WriteLine();
        // The family fields kubectl shows only with -o yaml (spec.ipFamilyPolicy, spec.ipFamilies, spec.clusterIPs in
        // family order): listed when any service is not plain single-stack IPv4, so an IPv4 cluster's listing stays short.
        if (c.Services.Any(s => !IsPlainIPv4(s)))
        {
            Table(w, ["NAMESPACE", "SERVICE", "IP-FAMILY-POLICY", "IP-FAMILIES", "CLUSTER-IPS"], c.Services.Where(s => s.IPFamilyPolicy is not null).Select(s => new[]
            {
                s.Namespace, s.Name, s.IPFamilyPolicy!, string.Join(",", s.IPFamilies), s.ClusterIPs.Count == 0 ? "<none>" : string.Join(",", s.ClusterIPs),
            }));
            w.WriteLine();
        }
        var rows = new List<string[]>();
        foreach (ServiceEntry s in c.Services)
            foreach (EndpointEntry e in s.Endpoints)
                rows.Add([s.Namespace, s.Name, e.Port is int p ? $"{e.IP}:{p}" : e.IP, e.PortName is { Length: > 0 } n ? n : "-",
                    Flag(e.Ready), Flag(e.Serving), Flag(e.Terminating), e.Node ?? "<none>", e.Pod ?? "<none>"]);
        Table(w, ["NAMESPACE", "SERVICE", "ENDPOINT", "PORT-NAME", "READY", "SERVING", "TERMINATING", "NODE", "POD"], rows);
    }

    static bool IsPlainIPv4(ServiceEntry s) =>
        s.IPFamilyPolicy is null || (s.IPFamilyPolicy == "SingleStack" && s.IPFamilies is ["IPv4"]);

    static string Flag(bool b) => b ? "true" : "false";
    static string Join(IReadOnlyList<string> list) => list.Count == 0 ? "<none>" : string.Join(",", list);

    static void Table(TextWriter w, string[] header, IEnumerable<string[]> rows)
    {
        var all = new List<string[]> { header };
        all.AddRange(rows);
        var widths = new int[header.Length];
        foreach (var r in all)
            for (int i = 0; i < r.Length; i++) widths[i] = Math.Max(widths[i], r[i].Length);
        foreach (var r in all)
            w.WriteLine(string.Join("   ", r.Select((v, i) => i == r.Length - 1 ? v : v.PadRight(widths[i]))).TrimEnd());
    }

    /// <summary>
    /// <c>{"nodes":[{"name","addresses":[…],"podCIDR","podCIDRs":[…]}],"pods":[{"namespace","name","ip","ips":[…],"node","ready","owner","hostname","subdomain"}],"unlistedPendingPods",
    /// "services":[{"namespace","name","type","clusterIP","externalName","externalIPs":[…],"ports":[{"name","port","protocol","targetPort","nodePort"}],
    /// "endpoints":[{"ip","port","portName","ready","serving","terminating","node","pod"}],"emulated","clusterIPs":[…],"ipFamilies":[…],"ipFamilyPolicy"}],
    /// "serviceCIDRs":[…],"clusterCIDR"}</c>. clusterIP is the primary address (clusterIPs[0], "None" when headless);
    /// clusterIPs, ipFamilies and ipFamilyPolicy are what <c>kubectl get svc -o yaml</c> shows (families primary first;
    /// empty lists and null for ExternalName); serviceCIDRs lists the primary family's range first.
    /// targetPort is a number, or a string for a named port; emulated is true for the services every cluster has
    /// (default/kubernetes, kube-system/kube-dns) when the manifests do not bring them.
    /// </summary>
    public static JsonObject ToJson(ClusterInventory c) => new()
    {
        ["nodes"] = new JsonArray([.. c.Nodes.Select(n => (JsonNode)new JsonObject
        {
            ["name"] = n.Name,
            ["addresses"] = Strings(n.Addresses),
            ["podCIDR"] = n.PodCIDR,
            ["podCIDRs"] = Strings(n.PodCIDRs),
        })]),
        ["pods"] = new JsonArray([.. c.Pods.Select(p => (JsonNode)new JsonObject
        {
            ["namespace"] = p.Namespace,
            ["name"] = p.Name,
            ["ip"] = p.IP,
            ["ips"] = Strings(p.IPs),
            ["node"] = p.Node,
            ["ready"] = p.Ready,
            ["owner"] = p.Owner,
            ["hostname"] = p.Hostname,
            ["subdomain"] = p.Subdomain,
        })]),
        ["unlistedPendingPods"] = c.UnlistedPendingPods,
        ["services"] = new JsonArray([.. c.Services.Select(s => (JsonNode)new JsonObject
        {
            ["namespace"] = s.Namespace,
            ["name"] = s.Name,
            ["type"] = s.Type,
            ["clusterIP"] = s.ClusterIP,
            ["externalName"] = s.ExternalName,
            ["externalIPs"] = Strings(s.ExternalIPs),
            ["ports"] = new JsonArray([.. s.Ports.Select(p => (JsonNode)new JsonObject
            {
                ["name"] = p.Name,
                ["port"] = p.Port,
                ["protocol"] = p.Protocol,
                ["targetPort"] = int.TryParse(p.TargetPort, out int t) ? JsonValue.Create(t) : JsonValue.Create(p.TargetPort),
                ["nodePort"] = p.NodePort,
            })]),
            ["endpoints"] = new JsonArray([.. s.Endpoints.Select(e => (JsonNode)new JsonObject
            {
                ["ip"] = e.IP,
                ["port"] = e.Port,
                ["portName"] = e.PortName,
                ["ready"] = e.Ready,
                ["serving"] = e.Serving,
                ["terminating"] = e.Terminating,
                ["node"] = e.Node,
                ["pod"] = e.Pod,
            })]),
            ["emulated"] = s.Emulated,
            ["clusterIPs"] = Strings(s.ClusterIPs),
            ["ipFamilies"] = Strings(s.IPFamilies),
            ["ipFamilyPolicy"] = s.IPFamilyPolicy,
        })]),
        ["serviceCIDRs"] = Strings(c.ServiceCIDRs),
        ["clusterCIDR"] = c.ClusterCIDR,
    };

    static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);

    public static void WriteJson(TextWriter w, ClusterInventory c) => w.WriteLine(ToJson(c).ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
}
