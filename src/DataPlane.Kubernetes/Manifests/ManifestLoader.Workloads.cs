using DataPlane.Packets;

namespace DataPlane.Kubernetes.Manifests;

public sealed partial class ManifestLoader
{
    private static Pod ReadPod(YamlField obj)
    {
        var (name, ns) = ReadMetadata(obj, namespaced: true);
        var spec = obj["spec"];
        var status = obj["status"];

        var containerPorts = ReadContainerPorts(spec);

        var podIPs = new List<uint>();
        var podIPs6 = new List<string>();
        foreach (var item in status["podIPs"].Items())
        {
            if (ReadIP(item["ip"]) is { } ip)
                podIPs.Add(ip);
            else if (ServiceIP.TryParseV6(item["ip"].String(), out var ip6))
                podIPs6.Add(ServiceIP.FormatV6(ip6));
        }
        if (status["podIP"].String() is { } primaryText && ServiceIP.TryParseV6(primaryText, out var primary6) && !podIPs6.Contains(ServiceIP.FormatV6(primary6)))
            podIPs6.Insert(0, ServiceIP.FormatV6(primary6));
        uint? podIP = ReadIP(status["podIP"], required: false);
        // status.podIPs[0] is status.podIP when both are set (API doc for PodStatus.podIPs); a dual-stack pod
        // with an IPv6 primary still has its IPv4 address in podIPs.
        if (podIP is { } primary && !podIPs.Contains(primary))
            podIPs.Insert(0, primary);
        podIP ??= podIPs.Count > 0 ? podIPs[0] : null;

        bool ready = false;
        bool? readyCondition = null;
        foreach (var condition in status["conditions"].Items())
        {
            if (condition["type"].String() != "Ready")
                continue;
            var value = condition["status"].String();
            if (value is not ("True" or "False" or "Unknown"))
                throw condition["status"].Error($"\"{value}\" is not a valid condition status (True, False or Unknown)");
            ready = value == "True";
            readyCondition = ready;
        }

        return new Pod
        {
            Name = name,
            Namespace = ns,
            SourceFile = obj.Scope.File,
            Document = obj.Scope.Document,
            Labels = ReadLabels(obj),
            NodeName = spec["nodeName"].String(),
            Hostname = spec["hostname"].String(),
            Subdomain = spec["subdomain"].String(),
            HostNetwork = spec["hostNetwork"].Bool() ?? false,
            EnableServiceLinks = spec["enableServiceLinks"].Bool() ?? true,
            CreationTimestamp = ReadTimestamp(obj["metadata"]["creationTimestamp"]),
            DnsPolicy = ReadDnsPolicy(spec["dnsPolicy"]),
            DnsConfig = ReadDnsConfig(spec["dnsConfig"]),
            PodIP = podIP,
            PodIPs = podIPs,
            IPv6PodIPs = podIPs6,
            HostIP = ReadIP(status["hostIP"], required: false),
            Phase = ReadEnum(status["phase"], PodPhase.Pending, "pod phase",
                PodPhase.Pending, PodPhase.Running, PodPhase.Succeeded, PodPhase.Failed, PodPhase.Unknown),
            Ready = ready,
            ReadyCondition = readyCondition,
            Terminating = obj["metadata"]["deletionTimestamp"].IsSet,
            ContainerPorts = containerPorts,
            OwnerReferences = ReadOwnerReferences(obj),
            NodeSelector = spec["nodeSelector"].StringMap() ?? new Dictionary<string, string>(),
            Tolerations = ReadTolerations(spec["tolerations"]),
            ReadyOverride = ReadReadyAnnotation(obj["metadata"]),
        };
    }

    // The API server's validation (validateDNSPolicy): one of four values, ClusterFirst when unset.
    private static string ReadDnsPolicy(YamlField f) => f.String() switch
    {
        null => "ClusterFirst",
        "ClusterFirst" or "ClusterFirstWithHostNet" or "Default" or "None" => f.String()!,
        var v => throw f.Error($"\"{v}\" is not a valid dnsPolicy (ClusterFirst, ClusterFirstWithHostNet, Default or None)"),
    };

    private static PodDnsConfig? ReadDnsConfig(YamlField f) => !f.IsSet ? null : new PodDnsConfig
    {
        Nameservers = [.. f["nameservers"].Items().Select(i => i.String() ?? "")],
        Searches = [.. f["searches"].Items().Select(i => i.String() ?? "")],
        Options = [.. f["options"].Items().Select(i => (i["name"].String() ?? "", i["value"].String()))],
    };

    private static Node ReadNode(YamlField obj)
    {
        var (name, _) = ReadMetadata(obj, namespaced: false);
        var spec = obj["spec"];

        var addresses = new List<NodeAddress>();
        foreach (var item in obj["status"]["addresses"].Items())
        {
            var type = ReadEnum(item["type"], NodeAddressType.Hostname, "node address type",
                NodeAddressType.Hostname, NodeAddressType.InternalIP, NodeAddressType.ExternalIP,
                NodeAddressType.InternalDNS, NodeAddressType.ExternalDNS);
            if (!item["type"].IsSet)
                throw item["type"].Error("required");
            var address = RequiredString(item["address"]);
            if (type is NodeAddressType.InternalIP or NodeAddressType.ExternalIP)
            {
                if (ParseIP(item["address"], address) is { } ip)
                    addresses.Add(new NodeAddress(type, address, ip));
            }
            else
            {
                addresses.Add(new NodeAddress(type, address, null));
            }
        }

        var podCidrs = ReadCidrList(spec["podCIDRs"]);
        // A dual-stack node's IPv6 pod range (spec.podCIDRs, one per family): kept for listing only.
        var podCidrs6 = spec["podCIDRs"].Items().Select(i => Cidr6.TryParse(i.String() ?? "", out var c6, out _) ? c6 : (Cidr6?)null)
            .OfType<Cidr6>().ToList();
        var podCidrText = spec["podCIDR"].String();
        Cidr4? podCidr = string.IsNullOrEmpty(podCidrText) ? null : ParseCidr(spec["podCIDR"], podCidrText);
        if (podCidr is { } p && !podCidrs.Contains(p))
            podCidrs.Insert(0, p);
        podCidr ??= podCidrs.Count > 0 ? podCidrs[0] : null;

        // The kubelet labels every node it registers with these (kubelet_node_status.go initialNode); a hand-written
        // Node without them would otherwise fail the most common nodeSelector of all.
        var labels = new Dictionary<string, string>(ReadLabels(obj), StringComparer.Ordinal);
        labels.TryAdd("kubernetes.io/hostname", name);
        labels.TryAdd("kubernetes.io/os", "linux");
        labels.TryAdd("kubernetes.io/arch", "amd64");
        var taints = new List<Taint>();
        foreach (var item in spec["taints"].Items())
        {
            var key = RequiredString(item["key"]);
            var effect = item["effect"].String();
            if (effect is not ("NoSchedule" or "PreferNoSchedule" or "NoExecute"))
                throw item["effect"].Error(effect is null ? "required" : $"\"{effect}\" is not a valid taint effect (NoSchedule, PreferNoSchedule or NoExecute)");
            taints.Add(new Taint(key, item["value"].String(), effect));
        }

        return new Node
        {
            Labels = labels,
            Unschedulable = spec["unschedulable"].Bool() ?? false,
            Taints = taints,
            Name = name,
            SourceFile = obj.Scope.File,
            Document = obj.Scope.Document,
            Addresses = addresses,
            PodCIDR = podCidr,
            PodCIDRs = podCidrs,
            IPv6PodCIDRs = podCidrs6,
            AllocatableMilliCpu = ReadCpuMillis(obj["status"]["allocatable"]["cpu"]),
            Ready = ReadNodeReady(obj["status"]["conditions"]),
        };
    }

    private static List<ContainerPort> ReadContainerPorts(YamlField spec)
    {
        var containerPorts = new List<ContainerPort>();
        foreach (var container in spec["containers"].Items())
        {
            foreach (var item in container["ports"].Items())
            {
                var portName = item["name"].String();
                if (portName is not null && !IsIanaServiceName(portName))
                    throw item["name"].Error($"\"{portName}\" is not a valid port name (IANA service name)");
                containerPorts.Add(new ContainerPort(portName, ReadPort(item["containerPort"], required: true)!.Value, ReadProtocol(item["protocol"])));
            }
        }
        return containerPorts;
    }

    private static List<OwnerReference> ReadOwnerReferences(YamlField obj)
    {
        var result = new List<OwnerReference>();
        foreach (var item in obj["metadata"]["ownerReferences"].Items())
        {
            var kind = item["kind"].String();
            var name = item["name"].String();
            if (string.IsNullOrEmpty(kind))
                throw item["kind"].Error("required");
            if (string.IsNullOrEmpty(name))
                throw item["name"].Error("required");
            result.Add(new OwnerReference(kind, name, item["controller"].Bool() ?? false));
        }
        return result;
    }

    private static List<Toleration> ReadTolerations(YamlField list)
    {
        var result = new List<Toleration>();
        foreach (var item in list.Items())
        {
            var op = item["operator"].String() ?? "Equal";
            if (op is not ("Equal" or "Exists"))
                throw item["operator"].Error($"\"{op}\" is not a valid toleration operator (Equal or Exists)");
            var key = item["key"].String();
            // validation.ValidateTolerations: an empty key needs operator Exists.
            if (string.IsNullOrEmpty(key) && op != "Exists")
                throw item["operator"].Error("must be Exists when `key` is empty, which means \"match all values and all keys\"");
            result.Add(new Toleration(key, op, item["value"].String(), item["effect"].String()));
        }
        return result;
    }

    /// <summary>The <see cref="Pod.ReadyAnnotation"/> value: "true"/"false" (any case); other values are ignored.</summary>
    private static bool? ReadReadyAnnotation(YamlField metadata)
    {
        var value = metadata["annotations"].StringMap()?.GetValueOrDefault(Pod.ReadyAnnotation);
        return value?.ToLowerInvariant() switch { "false" => false, "true" => true, _ => null };
    }

    /// <summary>
    /// A Deployment, ReplicaSet, ReplicationController, StatefulSet or DaemonSet. Validated as the API server does for
    /// the fields read: apps/v1 needs spec.selector and its matchLabels must match the template's labels
    /// ("selector does not match template labels"); a ReplicationController's selector defaults to the template labels.
    /// </summary>
    private static Workload ReadWorkload(YamlField obj, WorkloadKind kind)
    {
        var (name, ns) = ReadMetadata(obj, namespaced: true);
        var spec = obj["spec"];
        var template = spec["template"];
        var templateLabels = template["metadata"]["labels"].StringMap() ?? new Dictionary<string, string>();

        var selector = kind == WorkloadKind.ReplicationController ? spec["selector"] : spec["selector"]["matchLabels"];
        if (kind != WorkloadKind.ReplicationController && !spec["selector"].IsSet)
            throw spec["selector"].Error("required");
        if (kind != WorkloadKind.ReplicationController && !selector.IsSet && !spec["selector"]["matchExpressions"].IsSet)
            throw spec["selector"].Error("empty selector is invalid for deployment");
        foreach (var (key, value) in selector.StringMap() ?? [])
            if (!templateLabels.TryGetValue(key, out var v) || v != value)
                throw template["metadata"]["labels"].Error($"`selector` does not match template `labels` (selector {key}={value})");
        if (templateLabels.Count == 0 && kind == WorkloadKind.ReplicationController)
            throw template["metadata"]["labels"].Error("required");

        int replicas = 1;
        if (kind != WorkloadKind.DaemonSet && spec["replicas"].IsSet)
        {
            replicas = spec["replicas"].Int()!.Value;
            if (replicas < 0)
                throw spec["replicas"].Error("must be greater than or equal to 0");
        }
        string? serviceName = null;
        if (kind == WorkloadKind.StatefulSet)
            serviceName = spec["serviceName"].String();

        if (!template.IsSet)
            throw template.Error("required");
        var podSpec = template["spec"];
        var annotations = template["metadata"]["annotations"].StringMap() ?? new Dictionary<string, string>();
        return new Workload
        {
            CreationTimestamp = ReadTimestamp(obj["metadata"]["creationTimestamp"]),
            Name = name,
            Namespace = ns,
            SourceFile = obj.Scope.File,
            Document = obj.Scope.Document,
            Kind = kind,
            Replicas = replicas,
            ServiceName = string.IsNullOrEmpty(serviceName) ? null : serviceName,
            OwnerReferences = ReadOwnerReferences(obj),
            Template = new PodTemplate
            {
                Labels = templateLabels,
                Annotations = annotations,
                ContainerPorts = ReadContainerPorts(podSpec),
                NodeName = podSpec["nodeName"].String(),
                NodeSelector = podSpec["nodeSelector"].StringMap() ?? new Dictionary<string, string>(),
                Tolerations = ReadTolerations(podSpec["tolerations"]),
                Hostname = podSpec["hostname"].String(),
                Subdomain = podSpec["subdomain"].String(),
                HostNetwork = podSpec["hostNetwork"].Bool() ?? false,
                EnableServiceLinks = podSpec["enableServiceLinks"].Bool() ?? true,
                Canonical = CanonicalTemplate(template.Node!),
            },
        };
    }

    /// <summary>
    /// The template as one string with mapping keys in ordinal order, the readiness annotation left out (it is the
    /// emulator's switch, not part of the pod; flipping it must not roll the Deployment to a new ReplicaSet).
    /// </summary>
    private static string CanonicalTemplate(YamlDotNet.RepresentationModel.YamlNode node)
    {
        var sb = new System.Text.StringBuilder();
        Write(node, "");
        return sb.ToString();

        void Write(YamlDotNet.RepresentationModel.YamlNode n, string path)
        {
            switch (n)
            {
                case YamlDotNet.RepresentationModel.YamlMappingNode map:
                    sb.Append('{');
                    foreach (var (k, v) in map.Children.Select(e => ((e.Key as YamlDotNet.RepresentationModel.YamlScalarNode)?.Value ?? e.Key.ToString(), e.Value))
                                 .OrderBy(e => e.Item1, StringComparer.Ordinal))
                    {
                        string child = path + "/" + k;
                        if (child == "/metadata/annotations/" + Pod.ReadyAnnotation) continue;
                        sb.Append(k).Append(':');
                        Write(v, child);
                        sb.Append(',');
                    }
                    sb.Append('}');
                    break;
                case YamlDotNet.RepresentationModel.YamlSequenceNode seq:
                    sb.Append('[');
                    foreach (var item in seq.Children) { Write(item, path + "[]"); sb.Append(','); }
                    sb.Append(']');
                    break;
                case YamlDotNet.RepresentationModel.YamlScalarNode scalar:
                    // A JSON string literal with the serializer's default escaping (JavaScriptEncoder.Default), without
                    // the reflection-based serializer (not NativeAOT-safe).
                    sb.Append('"').Append(System.Text.Json.JsonEncodedText.Encode(scalar.Value ?? "").ToString()).Append('"');
                    break;
            }
        }
    }
}
