namespace DataPlane.Kubernetes.Manifests;

public sealed partial class ManifestLoader
{
    // Rules below are from core/v1 defaulting (pkg/apis/core/v1/defaults.go SetDefaults_Service) and
    // validation (pkg/apis/core/validation ValidateService), restricted to the fields the data plane reads.
    private static Service ReadService(YamlField obj)
    {
        var (name, ns) = ReadMetadata(obj, namespaced: true, dns1035Name: true);
        var spec = obj["spec"];

        var type = ReadEnum(spec["type"], ServiceType.ClusterIP, "service type",
            ServiceType.ClusterIP, ServiceType.NodePort, ServiceType.LoadBalancer, ServiceType.ExternalName);

        var (mode, clusterIP, clusterIPs) = ReadClusterIPs(spec, type);
        var ports = ReadServicePorts(spec, type, mode);

        var externalName = spec["externalName"].String();
        if (type == ServiceType.ExternalName && string.IsNullOrEmpty(externalName))
            throw spec["externalName"].Error("required for type ExternalName");

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
            HasIPv6 = mode != ClusterIPMode.Headless && (clusterIPs.Count < CountListed(spec) || mode == ClusterIPMode.OtherFamily),
        };
    }

    /// <summary>
    /// clusterIP and clusterIPs describe one thing: clusterIPs[0] is the primary and must equal clusterIP when both
    /// are set, "None" must stand alone, and ExternalName services may have neither.
    /// </summary>
    private static (ClusterIPMode, uint?, List<uint>) ReadClusterIPs(YamlField spec, ServiceType type)
    {
        var single = spec["clusterIP"];
        var primary = single.String();
        var listed = spec["clusterIPs"].Items().Select(i => (Field: i, Text: i.String() ?? "")).ToList();
        if (listed.Count > 2)
            throw spec["clusterIPs"].Error("at most two entries (one per IP family)");
        if (!string.IsNullOrEmpty(primary) && listed.Count > 0 && listed[0].Text != primary)
            throw listed[0].Field.Error($"\"{listed[0].Text}\" must match spec.clusterIP \"{primary}\"");
        if (string.IsNullOrEmpty(primary) && listed.Count > 0)
        {
            primary = listed[0].Text;
            single = listed[0].Field;
        }

        if (type == ServiceType.ExternalName)
        {
            if (!string.IsNullOrEmpty(primary))
                throw single.Error("may not be set for type ExternalName");
            return (ClusterIPMode.None, null, []);
        }
        if (string.IsNullOrEmpty(primary))
            return (ClusterIPMode.Allocate, null, []);
        if (primary == "None")
        {
            if (listed.Count > 1)
                throw spec["clusterIPs"].Error("must be [\"None\"] alone for a headless service");
            return (ClusterIPMode.Headless, null, []);
        }

        var ips = new List<uint>();
        if (listed.Count == 0)
            listed.Add((single, primary));
        foreach (var (field, text) in listed)
        {
            if (text == "None")
                throw field.Error("\"None\" may only be the first entry");
            if (ParseIP(field, text) is { } ip)
                ips.Add(ip);
        }
        return ips.Count > 0 ? (ClusterIPMode.Assigned, ips[0], ips) : (ClusterIPMode.OtherFamily, null, ips);
    }

    /// <summary>How many addresses clusterIP/clusterIPs name (the IPv4 ones are kept; the difference is IPv6).</summary>
    private static int CountListed(YamlField spec)
    {
        int listed = spec["clusterIPs"].Items().Count();
        return listed > 0 ? listed : string.IsNullOrEmpty(spec["clusterIP"].String()) ? 0 : 1;
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
            if (name.Length > 0 && !IsDns1123Label(name))
                throw item["name"].Error($"\"{name}\" is not a valid port name (RFC 1123 label)");
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
