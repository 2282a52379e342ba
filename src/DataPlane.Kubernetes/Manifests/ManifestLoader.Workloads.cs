namespace DataPlane.Kubernetes;

public sealed partial class ManifestLoader
{
    private static Pod ReadPod(YamlField obj)
    {
        var (name, ns) = ReadMetadata(obj, namespaced: true);
        var spec = obj["spec"];
        var status = obj["status"];

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

        var podIPs = new List<uint>();
        foreach (var item in status["podIPs"].Items())
        {
            if (ReadIP(item["ip"]) is { } ip)
                podIPs.Add(ip);
        }
        uint? podIP = ReadIP(status["podIP"], required: false);
        // status.podIPs[0] is status.podIP when both are set (API doc for PodStatus.podIPs); a dual-stack pod
        // with an IPv6 primary still has its IPv4 address in podIPs.
        if (podIP is { } primary && !podIPs.Contains(primary))
            podIPs.Insert(0, primary);
        podIP ??= podIPs.Count > 0 ? podIPs[0] : null;

        bool ready = false;
        foreach (var condition in status["conditions"].Items())
        {
            if (condition["type"].String() != "Ready")
                continue;
            var value = condition["status"].String();
            if (value is not ("True" or "False" or "Unknown"))
                throw condition["status"].Error($"\"{value}\" is not a valid condition status (True, False or Unknown)");
            ready = value == "True";
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
            DnsPolicy = ReadDnsPolicy(spec["dnsPolicy"]),
            DnsConfig = ReadDnsConfig(spec["dnsConfig"]),
            PodIP = podIP,
            PodIPs = podIPs,
            Phase = ReadEnum(status["phase"], PodPhase.Pending, "pod phase",
                PodPhase.Pending, PodPhase.Running, PodPhase.Succeeded, PodPhase.Failed, PodPhase.Unknown),
            Ready = ready,
            Terminating = obj["metadata"]["deletionTimestamp"].IsSet,
            ContainerPorts = containerPorts,
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
            var address = item["address"].String();
            if (string.IsNullOrEmpty(address))
                throw item["address"].Error("required");
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
        var podCidrText = spec["podCIDR"].String();
        Ipv4Cidr? podCidr = string.IsNullOrEmpty(podCidrText) ? null : ParseCidr(spec["podCIDR"], podCidrText);
        if (podCidr is { } p && !podCidrs.Contains(p))
            podCidrs.Insert(0, p);
        podCidr ??= podCidrs.Count > 0 ? podCidrs[0] : null;

        return new Node
        {
            Name = name,
            SourceFile = obj.Scope.File,
            Document = obj.Scope.Document,
            Addresses = addresses,
            PodCIDR = podCidr,
            PodCIDRs = podCidrs,
        };
    }
}
