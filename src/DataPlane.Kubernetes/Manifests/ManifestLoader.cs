using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace DataPlane.Kubernetes;

/// <summary>
/// Reads Kubernetes manifests (YAML or JSON, multi-document, kind: List) into a <see cref="ClusterManifests"/>.
/// Validation mirrors the API server's for the fields we read, because the emulator must refuse what a real
/// cluster would refuse; every failure is a <see cref="ManifestException"/> naming file, object and field.
/// </summary>
public sealed partial class ManifestLoader
{
    private static readonly string[] Extensions = [".yaml", ".yml", ".json"];

    private readonly List<Service> _services = [];
    private readonly List<EndpointSlice> _slices = [];
    private readonly List<Endpoints> _endpoints = [];
    private readonly List<Pod> _pods = [];
    private readonly List<Node> _nodes = [];
    private readonly List<ServiceCidr> _serviceCidrs = [];
    private readonly List<Workload> _workloads = [];
    private KubeProxyConfig? _proxyConfig;

    /// <summary>First definition of each (kind, namespace, name), for the duplicate check.</summary>
    private readonly Dictionary<(string Kind, string? Namespace, string Name), ManifestObject> _seen = [];

    private ManifestLoader() { }

    /// <summary>Loads one manifest file, or every .yaml/.yml/.json file under a folder (recursively, ordinal path order).</summary>
    /// <exception cref="ManifestException">Any problem with the path or its contents.</exception>
    public static ClusterManifests Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var files = FindFiles(path);
        var loader = new ManifestLoader();
        foreach (var file in files)
            loader.LoadFile(file);
        return new ClusterManifests
        {
            Services = loader._services,
            EndpointSlices = loader._slices,
            Endpoints = loader._endpoints,
            Pods = loader._pods,
            Nodes = loader._nodes,
            ServiceCidrs = loader._serviceCidrs,
            Workloads = loader._workloads,
            ProxyConfig = loader._proxyConfig ?? KubeProxyConfig.Default,
            HasProxyConfig = loader._proxyConfig is not null,
            Files = files,
        };
    }

    private static string[] FindFiles(string path)
    {
        try
        {
            if (File.Exists(path))
                return [path];
            if (!Directory.Exists(path))
                throw new ManifestException(path, null, null, "no such file or directory");
            var files = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                .Where(f => Extensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
                .Order(StringComparer.Ordinal)
                .ToArray();
            // kubectl apply -f on such a folder fails with "no objects passed to apply"; an empty run is a mistake.
            if (files.Length == 0)
                throw new ManifestException(path, null, null, "folder contains no .yaml, .yml or .json files");
            return files;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ManifestException(path, null, null, e.Message, e);
        }
    }

    private void LoadFile(string file)
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new ManifestException(file, null, null, e.Message, e);
        }

        var parser = new DocumentCountingParser(new Parser(new StringReader(text)));
        var stream = new YamlStream();
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            throw new ManifestException(file, $"document {Math.Max(parser.Documents, 1)}", null,
                $"line {e.Start.Line}, column {e.Start.Column}: YAML syntax error: {StripMark(e.Message)}", e);
        }
        catch (Exception e) when (e is not ManifestException)
        {
            // YamlDotNet reports some malformed input (e.g. duplicate keys) with non-YAML exceptions.
            var mark = parser.Current?.Start;
            throw new ManifestException(file, $"document {Math.Max(parser.Documents, 1)}", null,
                $"line {mark?.Line}, column {mark?.Column}: YAML error: {e.Message}", e);
        }

        for (int i = 0; i < stream.Documents.Count; i++)
        {
            var root = stream.Documents[i].RootNode;
            // An empty document (a stray "---", a comments-only file) carries no object; kubectl skips it too.
            if (YamlField.IsNull(root))
                continue;
            var scope = new ObjectScope(file, i + 1, null);
            if (root is not YamlMappingNode)
                throw scope.Error("", "expected a mapping (a Kubernetes object)");
            ReadObject(new YamlField(root, "", scope), inList: false);
        }
    }

    private static string StripMark(string message) => MarkPrefix().Replace(message, "");

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex MarkPrefix();

    private void ReadObject(YamlField obj, bool inList)
    {
        var apiVersion = obj["apiVersion"].String();
        var kind = obj["kind"].String();
        if (string.IsNullOrEmpty(apiVersion))
            throw obj["apiVersion"].Error("required");
        if (string.IsNullOrEmpty(kind))
            throw obj["kind"].Error("required");

        if (kind == "List" && !inList)
        {
            if (apiVersion != "v1")
                throw obj["apiVersion"].Error($"\"{apiVersion}\" is not a valid apiVersion for kind List (expected v1)");
            foreach (var item in obj["items"].Items())
            {
                var scope = new ObjectScope(obj.Scope.File, obj.Scope.Document, item.Path);
                if (item.Node is not YamlMappingNode)
                    throw scope.Error("", "expected a mapping (a Kubernetes object)");
                ReadObject(new YamlField(item.Node, "", scope), inList: true);
            }
            return;
        }

        var expected = kind switch
        {
            "Service" or "Endpoints" or "Pod" or "Node" => "v1",
            "EndpointSlice" => "discovery.k8s.io/v1",
            "ServiceCIDR" => "networking.k8s.io/v1",
            "KubeProxyConfiguration" => "kubeproxy.config.k8s.io/v1alpha1",
            "ReplicationController" => "v1",
            "Deployment" or "ReplicaSet" or "StatefulSet" or "DaemonSet" => "apps/v1",
            _ => throw obj["kind"].Error($"unsupported kind \"{kind}\" (expected Service, EndpointSlice, Endpoints, Pod, Node, ServiceCIDR, KubeProxyConfiguration or List)"),
        };
        if (apiVersion != expected)
            throw obj["apiVersion"].Error($"\"{apiVersion}\" is not a valid apiVersion for kind {kind} (expected {expected})");
        obj.Scope.Kind = kind;

        switch (kind)
        {
            case "Service": Add(_services, ReadService(obj)); break;
            case "EndpointSlice": Add(_slices, ReadEndpointSlice(obj)); break;
            case "Endpoints": Add(_endpoints, ReadEndpoints(obj)); break;
            case "Pod": Add(_pods, ReadPod(obj)); break;
            case "Node": Add(_nodes, ReadNode(obj)); break;
            case "ServiceCIDR": Add(_serviceCidrs, ReadServiceCidr(obj)); break;
            case "Deployment" or "ReplicaSet" or "ReplicationController" or "StatefulSet" or "DaemonSet": AddWorkload(ReadWorkload(obj, Enum.Parse<WorkloadKind>(kind))); break;
            default: ReadProxyConfig(obj); break;
        }
    }

    private void Add<T>(List<T> list, T item) where T : ManifestObject
    {
        var key = (typeof(T).Name, item.Namespace, item.Name);
        if (_seen.TryGetValue(key, out var first))
        {
            throw new ManifestException(item.SourceFile, LabelOf(item), "metadata.name",
                $"duplicate object; already defined in {first.SourceFile} (document {first.Document})");
        }
        _seen.Add(key, item);
        list.Add(item);
    }

    private static string LabelOf(ManifestObject o) => o switch
    {
        ServiceCidr => "ServiceCIDR " + o.Key,
        _ => o.GetType().Name + " " + o.Key,
    };
}
