namespace DataPlane.Kubernetes.Manifests;

public sealed partial class ManifestLoader
{
    // Rules below are from core/v1 defaulting (pkg/apis/core/v1/defaults.go SetDefaults_Service) and
    // validation (pkg/apis/core/validation ValidateService), restricted to the fields the data plane reads.
    private static Service ReadService(YamlField obj)
    {
        var (name, ns) = ReadMetadata(obj, namespaced: true);
        var spec = obj["spec"];

        var type = ReadEnum(spec["type"], ServiceType.ClusterIP, "service type",
            ServiceType.ClusterIP, ServiceType.NodePort, ServiceType.LoadBalancer, ServiceType.ExternalName);

        var (mode, clusterIP, clusterIPs, written) = ReadClusterIPs(spec, type);
        var (policy, families) = ReadIPFamilies(spec, type, mode, written);
        var ports = ReadServicePorts(spec, type, mode);

        var externalName = spec["externalName"].String();
        if (type == ServiceType.ExternalName)
        {
            // ValidateService: the value (a CNAME) may end with a dot to denote it as fully qualified; what is left
            // must be a lowercase RFC 1123 subdomain (ValidateDNS1123Subdomain) — so a look-alike character pasted
            // from a tutorial (an en-dash for '-') is refused instead of reaching the wire.
            var cname = externalName?.EndsWith('.') == true ? externalName[..^1] : externalName;
            if (string.IsNullOrEmpty(cname))
                throw spec["externalName"].Error("required for type ExternalName");
            if (ApiValidation.IsDns1123Subdomain(cname) is { Count: > 0 } cnameErrors)
                throw spec["externalName"].Error(ApiValidation.Invalid(cname, cnameErrors));
        }

        var sessionAffinity = ReadEnum(spec["sessionAffinity"], SessionAffinity.None, "session affinity",
            SessionAffinity.None, SessionAffinity.ClientIP);
        int timeout = Service.DefaultAffinityTimeoutSeconds;
        var affinityConfig = spec["sessionAffinityConfig"];
        if (sessionAffinity == SessionAffinity.None && affinityConfig.IsSet)
            throw affinityConfig.Error("must not be set when spec.sessionAffinity is None");
        var timeoutField = affinityConfig["clientIP"]["timeoutSeconds"];
        if (timeoutField.Int() is { } t)
        {
            // MaxClientIPServiceAffinitySeconds = 86400 (one day).
            if (t is < 1 or > 86400)
                throw timeoutField.Error($"{t} is not a valid timeout (1-86400 seconds)");
            timeout = t;
        }

        var sourceRanges = ReadCidrList(spec["loadBalancerSourceRanges"], lenient: true);
        if (sourceRanges.Count > 0 && type != ServiceType.LoadBalancer)
            throw spec["loadBalancerSourceRanges"].Error("may only be used when spec.type is LoadBalancer");

        var healthCheck = spec["healthCheckNodePort"].Int() is 0 ? null : ReadPort(spec["healthCheckNodePort"], required: false);

        var selector = spec["selector"].StringMap();
        var algorithmField = obj["metadata"]["annotations"][Service.LoadBalancerAlgorithmAnnotation];
        LoadBalancerAlgorithm? algorithm = algorithmField.String() switch
        {
            null => null,
            "random" => LoadBalancerAlgorithm.Random,
            "maglev" => LoadBalancerAlgorithm.Maglev,
            var other => throw algorithmField.Error($"\"{other}\" is not a load-balancing algorithm (random or maglev)"),
        };
        return new Service
        {
            CreationTimestamp = ReadTimestamp(obj["metadata"]["creationTimestamp"]),
            LoadBalancerAlgorithm = algorithm,
            TrafficDistribution = spec["trafficDistribution"].String(),
            TopologyMode = ReadTopologyMode(obj),
            Name = name,
            Namespace = ns,
            SourceFile = obj.Scope.File,
            Document = obj.Scope.Document,
            Type = type,
            ClusterIPMode = mode,
            ClusterIP = clusterIP,
            ClusterIPs = clusterIPs,
            WrittenClusterIPs = written,
            IPFamilyPolicy = policy,
            IPFamilies = families,
            Ports = ports,
            Selector = selector is { Count: > 0 } ? selector : null,
            ExternalIPs = ReadIPList(spec["externalIPs"]),
            LoadBalancerIP = ReadIP(spec["loadBalancerIP"], required: false),
            LoadBalancerIngress = ReadIngress(obj["status"]["loadBalancer"]["ingress"]),
            LoadBalancerSourceRanges = sourceRanges,
            ExternalTrafficPolicy = ReadEnum(spec["externalTrafficPolicy"], TrafficPolicy.Cluster, "externalTrafficPolicy",
                TrafficPolicy.Cluster, TrafficPolicy.Local),
            InternalTrafficPolicy = ReadEnum(spec["internalTrafficPolicy"], TrafficPolicy.Cluster, "internalTrafficPolicy",
                TrafficPolicy.Cluster, TrafficPolicy.Local),
            SessionAffinity = sessionAffinity,
            SessionAffinityTimeoutSeconds = timeout,
            HealthCheckNodePort = healthCheck,
            AllocateLoadBalancerNodePorts = spec["allocateLoadBalancerNodePorts"].Bool() ?? true,
            PublishNotReadyAddresses = spec["publishNotReadyAddresses"].Bool() ?? false,
            ExternalName = type == ServiceType.ExternalName ? externalName : null,
        };
    }

    /// <summary>
    /// clusterIP and clusterIPs describe one thing: clusterIPs[0] is the primary and must equal clusterIP when both
    /// are set, "None" must stand alone, and ExternalName services may have neither. At most one address per family
    /// (ValidateServiceClusterIPsRelatedFields: "may specify no more than one IP for each IP family").
    /// </summary>
    private static (ClusterIPMode, uint?, List<uint>, List<ServiceIP>) ReadClusterIPs(YamlField spec, ServiceType type)
    {
        var single = spec["clusterIP"];
        var primary = single.String();
        var listed = spec["clusterIPs"].Items().Select(i => (Field: i, Text: i.String() ?? "")).ToList();
        if (listed.Count > 2)
            throw spec["clusterIPs"].Error("at most two entries (one per IP family)");
        if (!string.IsNullOrEmpty(primary) && listed.Count > 0 && listed[0].Text != primary)
            throw listed[0].Field.Error($"\"{listed[0].Text}\" must match spec.clusterIP \"{primary}\"");
        // Upstream refuses clusterIPs without clusterIP on create ("must be empty when `clusterIP` is not specified"),
        // but a hand-written manifest meaning "these addresses" is unambiguous: clusterIPs[0] is taken as clusterIP.
        if (string.IsNullOrEmpty(primary) && listed.Count > 0)
        {
            primary = listed[0].Text;
            single = listed[0].Field;
        }

        if (type == ServiceType.ExternalName)
        {
            if (!string.IsNullOrEmpty(primary))
                throw single.Error("may not be set for type ExternalName");
            return (ClusterIPMode.None, null, [], []);
        }
        if (string.IsNullOrEmpty(primary))
            return (ClusterIPMode.Allocate, null, [], []);
        if (primary == "None")
        {
            if (listed.Count > 1)
                throw spec["clusterIPs"].Error("must be [\"None\"] alone for a headless service");
            return (ClusterIPMode.Headless, null, [], []);
        }

        var ips = new List<uint>();
        var written = new List<ServiceIP>();
        if (listed.Count == 0)
            listed.Add((single, primary));
        foreach (var (field, text) in listed)
        {
            if (text == "None")
                throw field.Error("\"None\" may only be the first entry");
            if (!ServiceIP.TryParse(text, out var ip))
                throw field.Error($"\"{text}\" is not a valid IP address");
            if (written.Count == 1 && written[0].Family == ip.Family)
                throw spec["clusterIPs"].Error($"Invalid value: [\"{listed[0].Text}\", \"{text}\"]: may specify no more than one IP for each IP family");
            written.Add(ip);
            if (ip.IsIPv4)
                ips.Add(ip.IPv4);
        }
        return ips.Count > 0 ? (ClusterIPMode.Assigned, ips[0], ips, written) : (ClusterIPMode.OtherFamily, null, ips, written);
    }

    /// <summary>
    /// spec.ipFamilyPolicy and spec.ipFamilies, checked the way ValidateServiceClusterIPsRelatedFields checks them
    /// without knowing the cluster (pkg/apis/core/validation/validation.go): known values, no duplicate family, each
    /// written cluster IP of the family its ipFamilies entry names; ExternalName may have neither field
    /// (ValidateService). What depends on the cluster's ranges is <see cref="Compiler.ServiceFamilyRules"/>'s.
    /// </summary>
    private static (IPFamilyPolicy?, List<IPFamily>) ReadIPFamilies(YamlField spec, ServiceType type, ClusterIPMode mode, List<ServiceIP> written)
    {
        var policyField = spec["ipFamilyPolicy"];
        var familiesField = spec["ipFamilies"];
        var familyItems = familiesField.Items().ToList();
        if (type == ServiceType.ExternalName)
        {
            if (familyItems.Count > 0)
                throw familiesField.Error("Forbidden: may not be set for ExternalName services");
            if (!string.IsNullOrEmpty(policyField.String()))
                throw policyField.Error("Forbidden: may not be set for ExternalName services");
            return (null, []);
        }

        IPFamilyPolicy? policy = policyField.String() switch
        {
            null or "" => null,
            "SingleStack" => IPFamilyPolicy.SingleStack,
            "PreferDualStack" => IPFamilyPolicy.PreferDualStack,
            "RequireDualStack" => IPFamilyPolicy.RequireDualStack,
            var other => throw policyField.Error($"Unsupported value: {ApiValidation.GoQuote(other)}: supported values: \"PreferDualStack\", \"RequireDualStack\", \"SingleStack\""),
        };

        var families = new List<IPFamily>();
        foreach (var item in familyItems)
        {
            IPFamily family = item.String() switch
            {
                "IPv4" => IPFamily.IPv4,
                "IPv6" => IPFamily.IPv6,
                var other => throw item.Error($"Unsupported value: {ApiValidation.GoQuote(other ?? "")}: supported values: \"IPv4\", \"IPv6\""),
            };
            if (families.Contains(family))
                throw item.Error($"Duplicate value: \"{family}\"");
            families.Add(family);
        }

        // A headless service's families are not checked against its (absent) addresses.
        if (mode != ClusterIPMode.Headless)
            for (int i = 0; i < written.Count && i < families.Count; i++)
                if (written[i].Family != families[i])
                    throw (spec["clusterIPs"].Items().Skip(i).Select(f => (YamlField?)f).FirstOrDefault() ?? spec["clusterIP"]).Error(
                        $"Invalid value: \"{written[i]}\": expected an {families[i]} value as indicated by `ipFamilies[{i}]`");
        return (policy, families);
    }

    private static List<ServicePort> ReadServicePorts(YamlField spec, ServiceType type, ClusterIPMode mode)
    {
        var items = spec["ports"].Items().ToList();
        // Headless and ExternalName services may have no ports; everything else needs at least one.
        if (items.Count == 0 && mode is not (ClusterIPMode.Headless or ClusterIPMode.None))
            throw spec["ports"].Error("required (at least one port)");

        var ports = new List<ServicePort>(items.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var numbers = new HashSet<(int, PortProtocol)>();
        var nodePorts = new HashSet<(int, PortProtocol)>();
        foreach (var item in items)
        {
            var name = item["name"].String() ?? "";
            // Endpoints are matched to service ports by name, so names must exist when there is a choice.
            if (name.Length == 0 && items.Count > 1)
                throw item["name"].Error("required when the service has more than one port");
            // ValidateServicePort: a port name is an RFC 1123 label (it is the _<port>._<proto> of SRV records).
            if (name.Length > 0 && ApiValidation.IsDns1123Label(name) is { Count: > 0 } nameErrors)
                throw item["name"].Error(ApiValidation.Invalid(name, nameErrors));
            if (name.Length > 0 && !names.Add(name))
                throw item["name"].Error($"duplicate port name \"{name}\"");

            int port = ReadPort(item["port"], required: true)!.Value;
            var protocol = ReadProtocol(item["protocol"]);
            if (!numbers.Add((port, protocol)))
                throw item.Error($"duplicate port {port}/{protocol}");

            var nodePortField = item["nodePort"];
            int? nodePort = nodePortField.Int() is 0 ? null : ReadPort(nodePortField, required: false);
            if (nodePort is not null && type == ServiceType.ClusterIP)
                throw nodePortField.Error("may not be used when spec.type is ClusterIP");
            if (nodePort is { } np && !nodePorts.Add((np, protocol)))
                throw nodePortField.Error($"duplicate node port {np}/{protocol}");

            ports.Add(new ServicePort
            {
                Name = name,
                Port = port,
                Protocol = protocol,
                TargetPort = ReadTargetPort(item["targetPort"], port),
                NodePort = nodePort,
            });
        }
        return ports;
    }

    private static TargetPort ReadTargetPort(YamlField field, int port)
    {
        if (!field.IsSet)
            return new TargetPort(port, null);
        if (field.IsInteger)
        {
            int number = field.Int()!.Value;
            return number == 0 ? new TargetPort(port, null) : new TargetPort(ReadPort(field, required: true)!.Value, null);
        }
        var name = field.String()!;
        if (name.Length == 0)
            return new TargetPort(port, null);
        if (!IsIanaServiceName(name))
            throw field.Error($"\"{name}\" is not a valid port number or name (IANA service name: at most 15 lowercase letters, digits and '-', with a letter)");
        return new TargetPort(0, name);
    }

    private static List<LoadBalancerIngress> ReadIngress(YamlField list)
    {
        var result = new List<LoadBalancerIngress>();
        foreach (var item in list.Items())
        {
            var ipMode = ReadEnum(item["ipMode"], LoadBalancerIPMode.VIP, "ipMode", LoadBalancerIPMode.VIP, LoadBalancerIPMode.Proxy);
            // Entries with only a hostname (AWS ELB style) give the data plane nothing to intercept.
            if (ReadIP(item["ip"], required: false) is { } ip)
                result.Add(new LoadBalancerIngress(ip, ipMode));
        }
        return result;
    }
}
