using DataPlane.Packets;

namespace DataPlane.Kubernetes.Manifests;

public sealed partial class ManifestLoader
{
    private static ServiceCidr ReadServiceCidr(YamlField obj)
    {
        var (name, _) = ReadMetadata(obj, namespaced: false);
        var cidrsField = obj["spec"]["cidrs"];
        // The default ServiceCIDR ("kubernetes") in a dump carries the cluster's --service-cluster-ip-range.
        // ValidateServiceCIDR: one or two canonical prefixes, one per family.
        var count = cidrsField.Items().Count();
        if (count == 0)
            throw cidrsField.Error("required (at least one CIDR)");
        if (count > 2)
            throw cidrsField.Error("at most two CIDRs (one per IP family)");
        var v4 = new List<Cidr4>();
        var v6 = new List<Cidr6>();
        var families = new List<IPFamily>();
        foreach (var item in cidrsField.Items())
        {
            var text = RequiredString(item);
            if (Cidr6.TryParse(text, out var c6, out var written6))
            {
                if (written6 != c6.Prefix)
                    throw item.Error($"\"{text}\" is not in canonical form (did you mean {c6}?)");
                v6.Add(c6);
                families.Add(IPFamily.IPv6);
            }
            else if (ParseCidr(item, text, canonical: true) is { } c4)
            {
                v4.Add(c4);
                families.Add(IPFamily.IPv4);
            }
        }
        // ValidateServiceCIDR: two CIDRs must be of different families (netutils.IsDualStackCIDRStrings).
        if (families.Count == 2 && families[0] == families[1])
            throw cidrsField.Error("may specify no more than one IP for each IP family, i.e 192.168.0.0/24 and 2001:db8::/64");
        return new ServiceCidr
        {
            Name = name,
            SourceFile = obj.Scope.File,
            Document = obj.Scope.Document,
            Cidrs = v4,
            Cidrs6 = v6,
            Primary = families.Count > 0 ? families[0] : IPFamily.IPv4,
        };
    }

    /// <summary>kube-system/kube-proxy; a ConfigMap without a namespace is in the one kubectl's -n gives it.</summary>
    private static bool IsKubeProxyConfigMap(YamlField obj) =>
        (obj["metadata"]["namespace"].Node is YamlDotNet.RepresentationModel.YamlScalarNode { Value: { Length: > 0 } ns } ? ns : obj.Scope.DefaultNamespace) == "kube-system"
        && obj["metadata"]["name"].Node is YamlDotNet.RepresentationModel.YamlScalarNode { Value: "kube-proxy" };

    /// <summary>
    /// The kube-proxy ConfigMap (kube-system/kube-proxy, as kubeadm writes it): data["config.conf"] holds the
    /// KubeProxyConfiguration kube-proxy is started with (--config), as a YAML string; it is read like one.
    /// </summary>
    private void ReadKubeProxyConfigMap(YamlField obj)
    {
        ReadMetadata(obj, namespaced: true);
        var field = obj["data"]["config.conf"];
        field = new YamlField(field.Node, "data[config.conf]", obj.Scope);
        var text = field.String();
        if (string.IsNullOrWhiteSpace(text))
        {
            _warnings.Add($"{obj.Scope.File}: {obj.Scope.Label}: no data[config.conf]; kube-proxy's defaults are used");
            return;
        }
        var parser = new YamlDotNet.Core.Parser(new StringReader(text));
        YamlDotNet.RepresentationModel.YamlNode? root;
        try
        {
            root = new YamlTreeBuilder(parser).NextDocument();
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw field.Error($"line {e.Start.Line}, column {e.Start.Column}: YAML syntax error: {StripMark(e.Message)}");
        }
        if (root is not YamlDotNet.RepresentationModel.YamlMappingNode)
            throw field.Error("expected a KubeProxyConfiguration (a mapping)");
        var config = new YamlField(root, "data[config.conf]", obj.Scope);
        // kube-proxy decodes the file with its scheme: kind and apiVersion must name the type.
        if (config["kind"].String() != "KubeProxyConfiguration")
            throw config["kind"].Error($"expected KubeProxyConfiguration (kube-proxy refuses the file otherwise)");
        if (config["apiVersion"].String() != "kubeproxy.config.k8s.io/v1alpha1")
            throw config["apiVersion"].Error($"\"{config["apiVersion"].String()}\" is not kubeproxy.config.k8s.io/v1alpha1");
        ManifestSchema.Check("KubeProxyConfiguration", root, path => UnknownField(obj, "data[config.conf]." + path));
        ReadProxyConfig(config, fromConfigMap: true);
    }

    // Fields and defaults from k8s.io/kube-proxy/config/v1alpha1 types.go and pkg/proxy/apis/config/v1alpha1/defaults.go.
    // kube-proxy itself parses its CIDRs with ParseCIDRSloppy, hence the lenient parsing.
    private bool _proxyConfigFromConfigMap;

    private void ReadProxyConfig(YamlField obj, bool fromConfigMap = false)
    {
        if (_proxyConfig is not null)
        {
            // The kube-proxy ConfigMap is an API object: applied again, the later one wins (see Add). A
            // KubeProxyConfiguration file is kube-proxy's --config, of which there is one.
            if (!(fromConfigMap && _proxyConfigFromConfigMap))
            {
                var e = obj.Scope.Error("", $"duplicate object; a KubeProxyConfiguration was already defined in {_proxyConfig.SourceFile}");
                e.RefusedBy = "kube-proxy";
                throw e;
            }
            _warnings.Add($"{obj.Scope.File}: ConfigMap kube-system/kube-proxy: defined again (document {obj.Scope.Document}); it replaces the definition in " +
                $"{_proxyConfig.SourceFile}, as kubectl apply applies its inputs in order and the later one wins");
        }
        _proxyConfigFromConfigMap = fromConfigMap;
        if (!fromConfigMap && obj["metadata"]["name"].String() is { Length: > 0 } name)
            obj.Scope.Name = name;

        var modeText = obj["mode"].String();
        var mode = modeText switch
        {
            null or "" or "iptables" or "ipvs" => ProxyMode.IPTables,
            "nftables" => ProxyMode.NFTables,
            var other => throw obj["mode"].Error($"\"{other}\" is not a valid proxy mode (iptables, ipvs or nftables; kube-proxy refuses it)"),
        };
        // ipvs: the same services, endpoints and masquerade rules, different machinery. What differs is listed in the
        // notice; the localhost NodePort difference is pkg/proxy/ipvs netlink_linux.go GetLocalAddresses, which skips
        // loopback routes, and the kube-ipvs0 binding is the ipvs proxier's dummy interface holding every service IP.
        if (modeText == "ipvs")
            _warnings.Add($"{obj.Scope.File}: {obj.Scope.Label}: mode: ipvs is emulated with the iptables mode's semantics. " +
                "Known differences of real IPVS: every service IP is bound to the kube-ipvs0 dummy interface, so the node itself " +
                "answers on any port of a cluster IP (ping, and a RST or port unreachable for a port the service does not serve, " +
                "where iptables mode forwards or drops the packet); NodePorts are not served on 127.0.0.1 (localhostNodePorts is " +
                "iptables-only); backends are chosen by the ipvs scheduler (round robin by default), not at random");

        var clusterCidrs = new List<Cidr4>();
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
            RequestedMode = string.IsNullOrEmpty(modeText) ? "iptables" : modeText,
            SourceFile = obj.Scope.File,
        };
    }
}

public sealed partial class ManifestLoader
{
    /// <summary>Reports every field the API does not know for a modelled kind (a warning, or an error under --strict).</summary>
    private void CheckFields(YamlField obj, string kind)
    {
        if (kind == "ConfigMap" || obj.Node is null)
            return; // the kube-proxy ConfigMap checks its embedded configuration itself
        ManifestSchema.Check(kind, obj.Node, path => UnknownField(obj, path));
    }

    private void UnknownField(YamlField obj, string path)
    {
        if (_options.Strict)
        {
            var e = obj.Scope.Error(path, "unknown field (--strict, as kubectl apply --validate=strict refuses it)");
            e.RefusedBy = null;
            throw e;
        }
        _warnings.Add($"{obj.Scope.File}: {obj.Scope.Label}: unknown field \"{path}\" (ignored, as kubectl apply --validate=warn does)");
    }
}
