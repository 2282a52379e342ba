using DataPlane.Packets;

namespace DataPlane.Kubernetes.Manifests;

public sealed partial class ManifestLoader
{
    /// <summary>discovery.k8s.io/v1 label naming the owning service (discovery/v1 <c>LabelServiceName</c>).</summary>
    private const string ServiceNameLabel = "kubernetes.io/service-name";

    private static EndpointSlice ReadEndpointSlice(YamlField obj)
    {
        var (name, ns) = ReadMetadata(obj, namespaced: true);
        var labels = ReadLabels(obj);
        var addressType = ReadEnum(obj["addressType"], EndpointAddressType.IPv4, "addressType",
            EndpointAddressType.IPv4, EndpointAddressType.IPv6, EndpointAddressType.FQDN);
        if (!obj["addressType"].IsSet)
            throw obj["addressType"].Error("required (IPv4, IPv6 or FQDN)");

        var endpoints = new List<SliceEndpoint>();
        var endpoints6 = new List<SliceEndpoint>();
        foreach (var item in obj["endpoints"].Items())
        {
            var addressList = item["addresses"].Items().ToList();
            if (addressList.Count == 0)
                throw item["addresses"].Error("required (at least one address)");
            // FQDN slices are kept for completeness; their addresses mean nothing to a data plane.
            if (addressType == EndpointAddressType.FQDN)
                continue;
            var addresses = new List<uint>(addressList.Count);
            var texts = new List<string>();
            foreach (var a in addressList)
            {
                if (addressType == EndpointAddressType.IPv6)
                {
                    // The API requires every address of an IPv6 slice to be IPv6 (ValidateEndpointSlice).
                    var text6 = RequiredString(a);
                    if (!ServiceIP.TryParseV6(text6, out var ip6))
                        throw a.Error($"\"{text6}\" is not a valid IPv6 address (addressType is IPv6)");
                    texts.Add(ServiceIP.FormatV6(ip6));
                    continue;
                }
                var text = RequiredString(a);
                // The API requires every address of an IPv4 slice to be IPv4 (ValidateEndpointSlice).
                if (!Ip4.TryParse(text, out var ip))
                    throw a.Error($"\"{text}\" is not a valid IPv4 address (addressType is IPv4)");
                addresses.Add(ip);
            }
            var conditions = item["conditions"];
            (addressType == EndpointAddressType.IPv6 ? endpoints6 : endpoints).Add(new SliceEndpoint
            {
                Addresses = addresses,
                AddressTexts = texts,
                Ready = conditions["ready"].Bool(),
                Serving = conditions["serving"].Bool(),
                Terminating = conditions["terminating"].Bool(),
                NodeName = item["nodeName"].String(),
                Hostname = item["hostname"].String(),
                PodName = PodRef(item["targetRef"]),
                Zone = item["zone"].String(),
                ForZones = ReadHintNames(item["hints"]["forZones"]),
                ForNodes = ReadHintNames(item["hints"]["forNodes"]),
            });
        }

        var ports = new List<EndpointSlicePort>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in obj["ports"].Items())
        {
            var portName = item["name"].String() ?? "";
            // ValidateEndpointSlice validateEndpointPorts: a name, when given, is an RFC 1123 label.
            if (portName.Length > 0 && ApiValidation.IsDns1123Label(portName) is { Count: > 0 } nameErrors)
                throw item["name"].Error(ApiValidation.Invalid(portName, nameErrors));
            if (!names.Add(portName))
                throw item["name"].Error($"duplicate port name \"{portName}\"");
            ports.Add(new EndpointSlicePort
            {
                Name = portName,
                Port = ReadPort(item["port"], required: false),
                Protocol = ReadProtocol(item["protocol"]),
            });
        }

        return new EndpointSlice
        {
            Name = name,
            Namespace = ns,
            SourceFile = obj.Scope.File,
            Document = obj.Scope.Document,
            Labels = labels,
            ServiceName = labels.GetValueOrDefault(ServiceNameLabel),
            AddressType = addressType,
            Endpoints = endpoints,
            IPv6Endpoints = endpoints6,
            Ports = ports,
        };
    }

    private static Endpoints ReadEndpoints(YamlField obj)
    {
        var (name, ns) = ReadMetadata(obj, namespaced: true);
        var subsets = new List<EndpointSubset>();
        foreach (var subset in obj["subsets"].Items())
        {
            var portItems = subset["ports"].Items().ToList();
            var ports = new List<EndpointPort>(portItems.Count);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in portItems)
            {
                var portName = item["name"].String() ?? "";
                // validateEndpointPort: names are required once a subset has several ports, unique, and RFC 1123 labels.
                if (portName.Length == 0 && portItems.Count > 1)
                    throw item["name"].Error("required when the subset has more than one port");
                if (portName.Length > 0 && ApiValidation.IsDns1123Label(portName) is { Count: > 0 } nameErrors)
                    throw item["name"].Error(ApiValidation.Invalid(portName, nameErrors));
                if (!names.Add(portName))
                    throw item["name"].Error($"duplicate port name \"{portName}\"");
                ports.Add(new EndpointPort(portName, ReadPort(item["port"], required: true)!.Value, ReadProtocol(item["protocol"])));
            }
            subsets.Add(new EndpointSubset
            {
                Addresses = ReadEndpointAddresses(subset["addresses"]),
                NotReadyAddresses = ReadEndpointAddresses(subset["notReadyAddresses"]),
                Ports = ports,
            });
        }
        return new Endpoints { Name = name, Namespace = ns, SourceFile = obj.Scope.File, Document = obj.Scope.Document, Subsets = subsets };
    }

    private static List<EndpointAddress> ReadEndpointAddresses(YamlField list)
    {
        var result = new List<EndpointAddress>();
        foreach (var item in list.Items())
        {
            if (ReadIP(item["ip"]) is { } ip)
                result.Add(new EndpointAddress(ip, item["nodeName"].String(), item["hostname"].String(), PodRef(item["targetRef"])));
        }
        return result;
    }

    /// <summary>targetRef's name when it refers to a Pod (kind Pod, or no kind: the controllers only ever write pods).</summary>
    private static string? PodRef(YamlField targetRef) =>
        targetRef.IsSet && (targetRef["kind"].String() ?? "Pod") == "Pod" ? targetRef["name"].String() : null;
}
