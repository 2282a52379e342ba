using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>
/// Reads Kubernetes manifests (YAML or JSON, multi-document, kind: List) into a <see cref="ClusterManifests"/>.
/// It accepts what a real API server accepts: kinds DataPlane does not model are skipped (one summary warning),
/// unknown fields are ignored with a warning each (kubectl apply --validate=warn); what remains an error is what the
/// API server would refuse for the fields we read, and every failure is a <see cref="ManifestException"/> naming
/// file, object and field.
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
    private readonly List<string> _namespaces = [];
    private readonly HashSet<string> _namespaceSet = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _skipped = new(StringComparer.Ordinal);
    private readonly List<string> _warnings = [];
    private readonly List<string> _kustomizations = [];
    private readonly LoadOptions _options;
    private readonly List<Workload> _workloads = [];
    private KubeProxyConfig? _proxyConfig;

    /// <summary>First definition of each (kind, namespace, name), for the duplicate check.</summary>
    private readonly Dictionary<(string Kind, string? Namespace, string Name), ManifestObject> _seen = [];

    private ManifestLoader(LoadOptions options) => _options = options;

    /// <summary>Loads one manifest file, or every .yaml/.yml/.json file under a folder (recursively, ordinal path order).</summary>
    /// <exception cref="ManifestException">Any problem with the path or its contents.</exception>
    public static ClusterManifests Load(string path) => Load([path], null);

    /// <summary>
    /// Loads several files or folders in the order given (each folder recursively, in ordinal path order); "-" stands
    /// for <see cref="LoadOptions.Stdin"/>. Files named kustomization.yaml/.yml are skipped (kustomize's
    /// transformations are not applied; its resources load as they are written).
    /// </summary>
    /// <exception cref="ManifestException">Any problem with a path or its contents.</exception>
    public static ClusterManifests Load(IReadOnlyList<string> paths, LoadOptions? options)
    {
        ArgumentNullException.ThrowIfNull(paths);
        options ??= new LoadOptions();
        if (paths.Count == 0)
            throw new ManifestException("--cluster", null, null, "no manifest path given");
        var loader = new ManifestLoader(options);
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (path == "-")
            {
                if (files.Contains(LoadOptions.StdinName))
                    continue;
                files.Add(LoadOptions.StdinName);
                loader.LoadText(LoadOptions.StdinName, options.Stdin ?? []);
                continue;
            }
            foreach (var file in loader.FindFiles(path))
            {
                if (files.Contains(file))
                    continue; // the same file named twice (a folder and a file in it) is applied once
                files.Add(file);
                try
                {
                    loader.LoadFile(file);
                }
                catch (Exception e) when (e is not ManifestException && !Fatal.Is(e))
                {
                    throw new ManifestException(file, null, null, $"internal error while reading it ({e.GetType().Name}: {e.Message})", e);
                }
            }
        }
        loader.Summarise();
        return loader.Result(files);
    }

    private ClusterManifests Result(List<string> files) => new()
    {
        Services = _services,
        EndpointSlices = _slices,
        Endpoints = _endpoints,
        Pods = _pods,
        Nodes = _nodes,
        ServiceCidrs = _serviceCidrs,
        ProxyConfig = _proxyConfig ?? KubeProxyConfig.Default,
        HasProxyConfig = _proxyConfig is not null,
        Namespaces = _namespaces,
        Workloads = _workloads,
        ServiceCidrFlag = _options.ServiceCidrs,
        Warnings = _warnings,
        Files = files,
    };

    /// <summary>The one-line summaries: skipped kinds, skipped kustomization files, IPv6 halves, ipvs.</summary>
    private void Summarise()
    {
        if (_skipped.Count > 0)
        {
            int total = _skipped.Values.Sum();
            var kinds = _skipped.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => $"{kv.Key} ×{kv.Value}");
            _warnings.Add($"skipped {total} object{(total == 1 ? "" : "s")} of kinds DataPlane does not model: {string.Join(", ", kinds)}");
        }
        if (_kustomizations.Count > 0)
            _warnings.Add($"skipped {string.Join(", ", _kustomizations)}: kustomize's transformations are not applied; the other files load as they are written (use `kubectl kustomize DIR | dataplane ... --cluster -` for the built result)");
        var dual = _services.Where(s => s.HasIPv6).Select(s => s.Key).ToList();
        if (dual.Count > 0)
            _warnings.Add($"{dual.Count} service{(dual.Count == 1 ? "" : "s")} with IPv6 addresses ({string.Join(", ", dual.Take(5))}{(dual.Count > 5 ? ", …" : "")}): only the IPv4 half is emulated; IPv6 cluster IPs and IPv6-only services get no rules");
    }

    private static bool IsKustomization(string file) =>
        Path.GetFileName(file) is "kustomization.yaml" or "kustomization.yml" or "Kustomization";

    private string[] FindFiles(string path)
    {
        try
        {
            if (File.Exists(path))
            {
                if (!IsKustomization(path))
                    return [path];
                _kustomizations.Add(path);
                return [];
            }
            if (!Directory.Exists(path))
                throw new ManifestException(path, null, null, "no such file or directory");
            var files = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                .Where(f => Extensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
                .Order(StringComparer.Ordinal)
                .ToArray();
            foreach (var k in files.Where(IsKustomization))
                _kustomizations.Add(k);
            files = [.. files.Where(f => !IsKustomization(f))];
            // kubectl apply -f on such a folder fails with "no objects passed to apply"; an empty run is a mistake.
            if (files.Length == 0 && !_kustomizations.Any(k => k.StartsWith(path, StringComparison.Ordinal)))
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
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new ManifestException(file, null, null, e.Message, e);
        }
        LoadText(file, bytes);
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Decodes as go-yaml does: UTF-16 when the text starts with its byte-order mark, otherwise UTF-8, strictly —
    /// invalid UTF-8 is refused ("invalid leading UTF-8 octet"), never replaced.
    /// </summary>
    internal static string Decode(string file, byte[] bytes)
    {
        try
        {
            if (bytes.Length >= 2 && bytes[0] == 0xFF && bytes[1] == 0xFE)
                return new UnicodeEncoding(bigEndian: false, byteOrderMark: false, throwOnInvalidBytes: true).GetString(bytes, 2, bytes.Length - 2);
            if (bytes.Length >= 2 && bytes[0] == 0xFE && bytes[1] == 0xFF)
                return new UnicodeEncoding(bigEndian: true, byteOrderMark: false, throwOnInvalidBytes: true).GetString(bytes, 2, bytes.Length - 2);
            int skip = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
            return StrictUtf8.GetString(bytes, skip, bytes.Length - skip);
        }
        catch (DecoderFallbackException e)
        {
            int offset = Math.Max(e.Index, 0);
            if (e.BytesUnknown is null || e.Index < 0)
                offset = FirstInvalidUtf8(bytes);
            int line = 1;
            for (int i = 0; i < offset && i < bytes.Length; i++)
                if (bytes[i] == (byte)'\n') line++;
            throw new ManifestException(file, null, null, $"line {line}: invalid UTF-8 at byte offset {offset} (kubectl refuses it too: manifests must be UTF-8)", e);
        }
    }

    private static int FirstInvalidUtf8(byte[] bytes)
    {
        var status = System.Text.Unicode.Utf8.ToUtf16(bytes, new char[bytes.Length], out int read, out _, replaceInvalidSequences: false);
        return status == System.Buffers.OperationStatus.Done ? 0 : read;
    }

    private void LoadText(string file, byte[] bytes)
    {
        string text = Decode(file, bytes);
        var parser = new DocumentCountingParser(new Parser(new StringReader(text)));
        var builder = new YamlTreeBuilder(parser);
        int document = 0;
        while (true)
        {
            YamlNode? root;
            try
            {
                root = builder.NextDocument();
            }
            catch (YamlException e)
            {
                throw new ManifestException(file, $"document {Math.Max(parser.Documents, 1)}", null,
                    $"line {e.Start.Line}, column {e.Start.Column}: YAML syntax error: {StripMark(e.Message)}", e);
            }
            catch (Exception e) when (e is not ManifestException && !Fatal.Is(e))
            {
                var mark = parser.Current?.Start;
                throw new ManifestException(file, $"document {Math.Max(parser.Documents, 1)}", null,
                    $"line {mark?.Line}, column {mark?.Column}: YAML error: {e.Message}", e);
            }
            if (root is null)
                break;
            document++;
            // An empty document (a stray "---", a comments-only file) carries no object; kubectl skips it too.
            if (YamlField.IsNull(root))
                continue;
            var scope = new ObjectScope(file, document, null);
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

        string group = apiVersion.Contains('/') ? apiVersion[..apiVersion.IndexOf('/')] : "";
        obj.Scope.Kind = kind;
        // A modelled kind written under another built-in group (`v1` Deployment, `apps/v1` Service) is no CRD of the same
        // name: the API server has no such kind there and refuses it ("no matches for kind").
        if (KnownGroup(kind) is { } home && home != group && group is "" or "apps" or "discovery.k8s.io" or "networking.k8s.io")
            Expect(obj, apiVersion, ServedVersion(kind));
        if (Dispatch(kind, group, apiVersion, obj))
        {
            CheckFields(obj, kind);
        }
        else
        {
            // A kind DataPlane does not model (or a kind of the same name in another API group, e.g. a Knative
            // Service): skipped like kubectl would apply it elsewhere, counted for one summary line.
            string label = KnownGroup(kind) is { } modelled && modelled != group ? $"{kind}.{group}" : kind;
            if (_options.Strict)
            {
                var e = obj["kind"].Error($"{label} ({apiVersion}) is not a kind DataPlane models (--strict)");
                e.RefusedBy = null;
                throw e;
            }
            _skipped[label] = _skipped.GetValueOrDefault(label) + 1;
            NoteNamespace(obj["metadata"]["namespace"].Node is YamlScalarNode ns ? ns.Value : null);
        }
    }

    /// <summary>
    /// The kinds DataPlane models: one case each, with the API versions the API server serves them under. Returns
    /// false for a kind it does not model, which the caller skips. A modelled kind's group with a version the API
    /// server does not serve is the API server's own error ("no matches for kind").
    /// </summary>
    private bool Dispatch(string kind, string group, string apiVersion, YamlField obj)
    {
        switch (kind)
        {
            case "Service" when group == "":
                return Take(_services, ReadService, obj, apiVersion, "v1");
            case "EndpointSlice" when group == "discovery.k8s.io":
                return Take(_slices, ReadEndpointSlice, obj, apiVersion, "discovery.k8s.io/v1");
            case "Endpoints" when group == "":
                return Take(_endpoints, ReadEndpoints, obj, apiVersion, "v1");
            case "Pod" when group == "":
                return Take(_pods, ReadPod, obj, apiVersion, "v1");
            case "Node" when group == "":
                return Take(_nodes, ReadNode, obj, apiVersion, "v1");
            case "ServiceCIDR" when group == "networking.k8s.io":
                return Take(_serviceCidrs, ReadServiceCidr, obj, apiVersion, "networking.k8s.io/v1", "networking.k8s.io/v1beta1");
            case "KubeProxyConfiguration" when group == "kubeproxy.config.k8s.io":
                Expect(obj, apiVersion, "kubeproxy.config.k8s.io/v1alpha1");
                ReadProxyConfig(obj);
                return true;
            case "Namespace" when group == "":
                // Only its name matters (which namespaces exist, for DNS); nothing else of it is modelled.
                Expect(obj, apiVersion, "v1");
                var (nsName, _) = ReadMetadata(obj, namespaced: false);
                if (!Dns1123Label().IsMatch(nsName))
                    throw obj["metadata"]["name"].Error($"\"{nsName}\" is not a valid namespace name (RFC 1123 label)");
                NoteNamespace(nsName);
                return true;
            case "ConfigMap" when group == "" && IsKubeProxyConfigMap(obj):
                Expect(obj, apiVersion, "v1");
                ReadKubeProxyConfigMap(obj);
                return true;
            case "Deployment" or "ReplicaSet" or "StatefulSet" or "DaemonSet" when group == "apps":
                Expect(obj, apiVersion, "apps/v1");
                AddWorkload(ReadWorkload(obj, Enum.Parse<WorkloadKind>(kind)));
                return true;
            case "ReplicationController" when group == "":
                Expect(obj, apiVersion, "v1");
                AddWorkload(ReadWorkload(obj, WorkloadKind.ReplicationController));
                return true;
            default:
                return false;
        }
    }

    /// <summary>A modelled kind served as <paramref name="served"/>: checks the version, reads the object and records it.</summary>
    private bool Take<T>(List<T> list, Func<YamlField, T> read, YamlField obj, string apiVersion, params string[] served) where T : ManifestObject
    {
        Expect(obj, apiVersion, served);
        Add(list, read(obj));
        return true;
    }

    /// <summary>The group a modelled kind lives in, so "Service.serving.knative.dev" is told apart from a core Service.</summary>
    private static string ServedVersion(string kind) => KnownGroup(kind) switch
    {
        "" => "v1",
        "kubeproxy.config.k8s.io" => "kubeproxy.config.k8s.io/v1alpha1",
        var g => g + "/v1",
    };

    private static string? KnownGroup(string kind) => kind switch
    {
        "Service" or "Endpoints" or "Pod" or "Node" or "Namespace" => "",
        "EndpointSlice" => "discovery.k8s.io",
        "ServiceCIDR" => "networking.k8s.io",
        "KubeProxyConfiguration" => "kubeproxy.config.k8s.io",
        "Deployment" or "ReplicaSet" or "StatefulSet" or "DaemonSet" => "apps",
        "ReplicationController" => "",
        _ => null,
    };

    private static void Expect(YamlField obj, string apiVersion, params string[] served)
    {
        if (!served.Contains(apiVersion))
            throw obj["apiVersion"].Error($"no matches for kind \"{obj.Scope.Kind}\" in version \"{apiVersion}\" (the API server serves it as {string.Join(" or ", served)})");
    }

    /// <summary>Records a namespace as existing: a Namespace object, or a namespace an object names.</summary>
    private void NoteNamespace(string? ns)
    {
        if (!string.IsNullOrEmpty(ns) && _namespaceSet.Add(ns))
            _namespaces.Add(ns);
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
        NoteNamespace(item.Namespace);
    }

    private static string LabelOf(ManifestObject o) => o switch
    {
        ServiceCidr => "ServiceCIDR " + o.Key,
        _ => o.GetType().Name + " " + o.Key,
    };
}
