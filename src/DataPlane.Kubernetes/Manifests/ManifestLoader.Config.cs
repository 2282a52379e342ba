namespace DataPlane.Kubernetes;

public sealed partial class ManifestLoader
{
    private static ServiceCidr ReadServiceCidr(YamlField obj)
    {
        var (name, _) = ReadMetadata(obj, namespaced: false);
        var cidrsField = obj["spec"]["cidrs"];
        // ValidateServiceCIDR: one or two canonical prefixes, one per family.
        var count = cidrsField.Items().Count();
        if (count == 0)
            throw cidrsField.Error("required (at least one CIDR)");
        if (count > 2)
            throw cidrsField.Error("at most two CIDRs (one per IP family)");
        return new ServiceCidr
        {
            Name = name,
            SourceFile = obj.Scope.File,
            Document = obj.Scope.Document,
            Cidrs = ReadCidrList(cidrsField, canonical: true),
        };
    }

    // Fields and defaults from k8s.io/kube-proxy/config/v1alpha1 types.go and pkg/proxy/apis/config/v1alpha1/defaults.go.
    // kube-proxy itself parses its CIDRs with ParseCIDRSloppy, hence the lenient parsing.
    private void ReadProxyConfig(YamlField obj)
    {
        if (_proxyConfig is not null)
        {
            throw obj.Scope.Error("", $"duplicate object; a KubeProxyConfiguration was already defined in {_proxyConfig.SourceFile}");
        }
        if (obj["metadata"]["name"].String() is { Length: > 0 } name)
            obj.Scope.Name = name;

        var mode = obj["mode"].String() switch
        {
            null or "" or "iptables" => ProxyMode.IPTables,
            "nftables" => ProxyMode.NFTables,
            var other => throw obj["mode"].Error($"\"{other}\" is not a supported proxy mode (iptables or nftables)"),
        };

        var clusterCidrs = new List<Ipv4Cidr>();
        var clusterCidrText = obj["clusterCIDR"].String() ?? "";
        foreach (var part in clusterCidrText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (ParseCidr(obj["clusterCIDR"], part, lenient: true) is { } cidr)
                clusterCidrs.Add(cidr);
        }

        var detect = ReadEnum(obj["detectLocalMode"], LocalDetectMode.ClusterCIDR, "detectLocalMode",
            LocalDetectMode.ClusterCIDR, LocalDetectMode.NodeCIDR);

        // v1alpha1 has masqueradeAll under iptables and nftables; conversion picks the one of the active mode.
        // A top-level masqueradeAll (the internal config's spelling) is accepted as well.
        var modeSection = mode == ProxyMode.NFTables ? obj["nftables"] : obj["iptables"];
        bool masqueradeAll = (modeSection["masqueradeAll"].Bool() ?? false) | (obj["masqueradeAll"].Bool() ?? false);

        // "primary" is a keyword that must stand alone (validateKubeProxyNodePortAddress).
        var npaField = obj["nodePortAddresses"];
        var npaItems = npaField.Items().ToList();
        bool primary = npaItems.Any(i => i.String() == "primary");
        if (primary && npaItems.Count > 1)
            throw npaField.Error("\"primary\" cannot be combined with CIDRs");
        var nodePortAddresses = primary ? [] : ReadCidrList(npaField, lenient: true);

        _proxyConfig = new KubeProxyConfig
        {
            Mode = mode,
            ClusterCIDRs = clusterCidrs,
            DetectLocalMode = detect,
            MasqueradeAll = masqueradeAll,
            NodePortAddresses = nodePortAddresses,
            NodePortAddressesPrimary = primary,
            LocalhostNodePorts = obj["iptables"]["localhostNodePorts"].Bool() ?? true,
            HostnameOverride = obj["hostnameOverride"].String() is { Length: > 0 } h ? h : null,
            SourceFile = obj.Scope.File,
        };
    }
}
