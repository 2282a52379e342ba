using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>
/// Reads Kubernetes manifests (YAML or JSON, multi-document, JSON object streams, kind: List and typed lists such as
/// ServiceList) into a <see cref="ClusterManifests"/>.
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

    /// <summary>The definition in force of each (kind, namespace, name), which a later definition replaces.</summary>
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
        ServiceCidrFlag6 = _options.ServiceCidrs6,
        ServiceCidrFlagPrimary = _options.ServiceCidrPrimary,
        Warnings = _warnings,
        Files = files,
    };

    /// <summary>The one-line summaries: skipped kinds, skipped kustomization files, ipvs.</summary>
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
        // IPv6 cluster IPs are kept now: what the data plane does not emulate of them is noticed once the cluster's
        // families are resolved (ResolvedCluster.FamilyNotices), since allocation can give a service an IPv6 half too.
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
        // kubectl's decoder (apimachinery yaml.NewYAMLOrJSONDecoder) reads a text that starts with '{' as a stream of
        // JSON objects, one after another (`kubectl get -o json` of several resources piped together, `jq -c`).
        if (JsonStream.Split(file, text) is { } values)
        {
            int document = 0;
            foreach (var value in values)
                LoadYaml(file, value.Text, ++document - 1, value.Line, value.Column);
            return;
        }
        LoadYaml(file, text, 0, 0, 0);
    }

    /// <summary>
    /// Reads the YAML documents of <paramref name="text"/>, numbered from <paramref name="documentOffset"/> + 1. For one
    /// value of a JSON stream, <paramref name="lineOffset"/>/<paramref name="columnOffset"/> say where it starts in the
    /// file, so syntax errors point into the file, not into the value.
    /// </summary>
    private void LoadYaml(string file, string text, int documentOffset, int lineOffset, int columnOffset)
    {
        var parser = new DocumentCountingParser(new Parser(new StringReader(text)));
        var builder = new YamlTreeBuilder(parser);
        int document = documentOffset;
        while (true)
        {
            YamlNode? root;
            try
            {
                root = builder.NextDocument();
            }
            catch (YamlException e)
            {
                throw new ManifestException(file, $"document {documentOffset + Math.Max(parser.Documents, 1)}", null,
                    $"line {e.Start.Line + lineOffset}, column {e.Start.Column + (e.Start.Line == 1 ? columnOffset : 0)}: YAML syntax error: {StripMark(e.Message)}", e);
            }
            catch (Exception e) when (e is not ManifestException && !Fatal.Is(e))
            {
                var mark = parser.Current?.Start;
                throw new ManifestException(file, $"document {documentOffset + Math.Max(parser.Documents, 1)}", null,
                    $"line {mark?.Line + lineOffset}, column {mark?.Column + (mark?.Line == 1 ? columnOffset : 0)}: YAML error: {e.Message}", e);
            }
            if (root is null)
                break;
            document++;
            // An empty document (a stray "---", a comments-only file) carries no object; kubectl skips it too.
            if (YamlField.IsNull(root))
                continue;
            var scope = new ObjectScope(file, document, null) { DefaultNamespace = DefaultNamespace };
            if (root is not YamlMappingNode)
                throw scope.Error("", "expected a mapping (a Kubernetes object)");
            ReadDocument(new YamlField(root, "", scope));
        }
    }

    /// <summary>kubectl's -n (<see cref="LoadOptions.Namespace"/>), else its context's default namespace.</summary>
    private string DefaultNamespace => string.IsNullOrEmpty(_options.Namespace) ? "default" : _options.Namespace;

    private static string StripMark(string message) => MarkPrefix().Replace(message, "");

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex MarkPrefix();

    /// <summary>
    /// One document: an object, or a list of them. kubectl's resource builder flattens every list it is given
    /// (cli-runtime FlattenListVisitor, nested lists too): <c>kind: List</c> and the typed lists the API server and
    /// client libraries return (<c>ServiceList</c>, <c>PodList</c>… from <c>kubectl get --raw</c>), whose items carry no
    /// kind and apiVersion of their own and take them from the list (apimachinery unstructured <c>decodeToList</c>:
    /// the list's kind without "List", the list's apiVersion). Items are read in the order written, with an explicit
    /// stack so that no nesting of lists can overflow the call stack.
    /// </summary>
    private void ReadDocument(YamlField document)
    {
        var work = new Stack<YamlField>();
        work.Push(document);
        while (work.Count > 0)
        {
            var obj = work.Pop();
            var apiVersion = obj["apiVersion"].String();
            var kind = obj["kind"].String();
            if (string.IsNullOrEmpty(apiVersion) && string.IsNullOrEmpty(kind) && obj.Scope.InheritedApiVersion is not null)
            {
                apiVersion = obj.Scope.InheritedApiVersion;
                kind = obj.Scope.InheritedKind;
            }
            if (string.IsNullOrEmpty(apiVersion))
                throw obj["apiVersion"].Error("required");
            if (string.IsNullOrEmpty(kind))
                throw obj["kind"].Error("required");

            if (!IsList(obj, kind))
            {
                ReadObject(obj, apiVersion, kind);
                continue;
            }
            if (kind == "List" && apiVersion != "v1")
                throw obj["apiVersion"].Error($"\"{apiVersion}\" is not a valid apiVersion for kind List (expected v1)");
            var items = obj["items"].Items().ToList();
            for (int i = items.Count - 1; i >= 0; i--)
            {
                var item = items[i];
                var scope = new ObjectScope(obj.Scope.File, obj.Scope.Document, item.Path)
                {
                    ListScope = obj.Scope.IsListItem ? obj.Scope : null,
                    DefaultNamespace = obj.Scope.DefaultNamespace,
                    InheritedKind = kind[..^"List".Length],
                    InheritedApiVersion = apiVersion,
                };
                if (item.Node is not YamlMappingNode)
                    throw scope.Error("", "expected a mapping (a Kubernetes object)");
                work.Push(new YamlField(item.Node, "", scope));
            }
        }
    }

    /// <summary>
    /// <c>kind: List</c>, or a typed list: a kind ending in "List" with an <c>items</c> field (what makes apimachinery's
    /// unstructured decoder read a list). A "ServiceList" without items is an object of an unknown kind.
    /// </summary>
    private static bool IsList(YamlField obj, string kind) =>
        kind == "List" || (kind.EndsWith("List", StringComparison.Ordinal) && kind.Length > "List".Length
            && obj.Node is YamlMappingNode map && map.Children.Any(e => e.Key is YamlScalarNode { Value: "items" }));

    /// <summary>
    /// One object: read when DataPlane models its kind, skipped (one summary line) when the API server serves it but
    /// DataPlane does not model it or when it is a CRD's, refused when a built-in group does not serve it
    /// (<see cref="ServedKinds"/>).
    /// </summary>
    private void ReadObject(YamlField obj, string apiVersion, string kind)
    {
        string group = ServedKinds.GroupOf(apiVersion);
        obj.Scope.Kind = kind;
        obj.Scope.ApiVersion = apiVersion;
        var served = ServedKinds.Find(apiVersion, kind);
        if (served is null && ServedKinds.IsBuiltInGroup(group))
        {
            // The REST mapper of a built-in group/version finds no such kind: kubectl's "no matches for kind"
            // (meta.NoKindMatchError). A kind served elsewhere gets a hint (`v1` Deployment: apps/v1).
            var elsewhere = ServedKinds.VersionsServing(kind).ToList();
            throw obj["apiVersion"].Error($"no matches for kind \"{kind}\" in version \"{apiVersion}\""
                + (elsewhere.Count > 0 ? $" (the API server serves it as {string.Join(" or ", elsewhere)})" : ""));
        }
        if (served is { Namespaced: true })
            CheckNamespaceParam(obj);
        if (served is not null && Dispatch(kind, group, obj))
        {
            CheckFields(obj, kind);
            return;
        }
        if (served is not null)
            ValidateSkippedMetadata(obj, served);
        // A kind DataPlane does not model (or a kind of the same name in another API group, e.g. a Knative
        // Service): skipped like kubectl would apply it elsewhere, counted for one summary line.
        string label = served is null && ServedKinds.IsBuiltInKindOfAnotherGroup(kind, group) ? $"{kind}.{group}" : kind;
        if (_options.Strict)
        {
            var e = obj["kind"].Error($"{label} ({apiVersion}) is not a kind DataPlane models (--strict)");
            e.RefusedBy = null;
            throw e;
        }
        _skipped[label] = _skipped.GetValueOrDefault(label) + 1;
        var written = obj["metadata"]["namespace"].Node is YamlScalarNode ns ? ns.Value : null;
        NoteNamespace(served is { Namespaced: true } && string.IsNullOrEmpty(written) ? obj.Scope.DefaultNamespace : written);
    }

    /// <summary>
    /// kubectl's -n: an object that names another namespace is kubectl's own refusal (cli-runtime resource
    /// <c>RequireNamespace</c>, which kubectl apply uses once --namespace is given); one without a namespace gets it
    /// (<see cref="ReadMetadata"/>). Only namespaced kinds: kubectl ignores the flag for cluster-scoped ones. Without
    /// -n, objects keep the namespaces they name.
    /// </summary>
    private void CheckNamespaceParam(YamlField obj)
    {
        if (string.IsNullOrEmpty(_options.Namespace))
            return;
        var meta = obj["metadata"];
        if (meta["namespace"].Node is not YamlScalarNode { Value: { Length: > 0 } written } || YamlField.IsNull(meta["namespace"].Node!) || written == _options.Namespace)
            return;
        if (meta["name"].Node is YamlScalarNode { Value: { Length: > 0 } name })
        {
            obj.Scope.Name = name;
            obj.Scope.Namespace = written;
        }
        var e = meta["namespace"].Error($"the namespace from the provided object \"{written}\" does not match the namespace \"{_options.Namespace}\". You must pass '--namespace={written}' to perform this operation.");
        e.RefusedBy = "kubectl";
        throw e;
    }

    /// <summary>
    /// A served kind DataPlane skips still has its name and namespace checked as the API server checks them
    /// (ValidateObjectMeta), when the kind's rule is known: a ConfigMap named "My_Config" is refused by any cluster.
    /// </summary>
    private static void ValidateSkippedMetadata(YamlField obj, ServedKind served)
    {
        var meta = obj["metadata"];
        if (meta["name"].Node is YamlScalarNode { Value: { Length: > 0 } name } && !YamlField.IsNull(meta["name"].Node!)
            && ApiValidation.Check(served.Name, name) is { Count: > 0 } nameErrors)
            throw meta["name"].Error(ApiValidation.Invalid(name, nameErrors));
        if (served.Namespaced && meta["namespace"].Node is YamlScalarNode { Value: { Length: > 0 } ns } && !YamlField.IsNull(meta["namespace"].Node!)
            && ApiValidation.IsDns1123Label(ns) is { Count: > 0 } nsErrors)
            throw meta["namespace"].Error(ApiValidation.Invalid(ns, nsErrors));
    }

    /// <summary>
    /// The kinds DataPlane models, one case each; the caller has checked that the API server serves the kind under
    /// the object's apiVersion (<see cref="ServedKinds"/>). Returns false for a kind it does not model, which the
    /// caller skips.
    /// </summary>
    private bool Dispatch(string kind, string group, YamlField obj)
    {
        switch (kind)
        {
            case "Service" when group == "":
                Add(_services, ReadService(obj));
                return true;
            case "EndpointSlice" when group == "discovery.k8s.io":
                Add(_slices, ReadEndpointSlice(obj));
                return true;
            case "Endpoints" when group == "":
                Add(_endpoints, ReadEndpoints(obj));
                return true;
            case "Pod" when group == "":
                Add(_pods, ReadPod(obj));
                return true;
            case "Node" when group == "":
                Add(_nodes, ReadNode(obj));
                return true;
            case "ServiceCIDR" when group == "networking.k8s.io":
                Add(_serviceCidrs, ReadServiceCidr(obj));
                return true;
            case "KubeProxyConfiguration" when group == "kubeproxy.config.k8s.io":
                ReadProxyConfig(obj);
                return true;
            case "Namespace" when group == "":
                // Only its name matters (which namespaces exist, for DNS); nothing else of it is modelled.
                var (nsName, _) = ReadMetadata(obj, namespaced: false);
                NoteNamespace(nsName);
                return true;
            case "ConfigMap" when group == "" && IsKubeProxyConfigMap(obj):
                ReadKubeProxyConfigMap(obj);
                return true;
            case "Deployment" or "ReplicaSet" or "StatefulSet" or "DaemonSet" when group == "apps":
                Add(_workloads, ReadWorkload(obj, Enum.Parse<WorkloadKind>(kind)), kind);
                return true;
            case "ReplicationController" when group == "":
                Add(_workloads, ReadWorkload(obj, WorkloadKind.ReplicationController), kind);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Records a namespace as existing: a Namespace object, or a namespace an object names.</summary>
    private void NoteNamespace(string? ns)
    {
        if (!string.IsNullOrEmpty(ns) && _namespaceSet.Add(ns))
            _namespaces.Add(ns);
    }

    /// <summary>
    /// Records an object. An object defined again (same kind, namespace and name) replaces the earlier definition
    /// where it stood, with one warning naming both places: <c>kubectl apply -f a.yaml -f b.yaml</c> applies its inputs
    /// in order, so the later one is what the cluster ends up with. The same holds inside one file — kubectl apply
    /// applies a file's objects one by one in order, each apply of the same object patching it again — so a
    /// duplicate inside a file is the same replacement, not an error. Keeping the earlier position keeps the order of
    /// objects (which decides, e.g., which of two services sharing an external IP wins) independent of the redefinition,
    /// as <see cref="ClusterManifests.Apply"/> does for --apply-at.
    /// </summary>
    private void Add<T>(List<T> list, T item, string? kind = null) where T : ManifestObject
    {
        kind ??= LabelKind(item);
        var key = (kind, item.Namespace, item.Name);
        if (_seen.TryGetValue(key, out var earlier))
        {
            int at = list.FindIndex(o => ReferenceEquals(o, earlier));
            list[at] = item;
            _warnings.Add($"{item.SourceFile}: {kind} {item.Key}: defined again (document {item.Document}); it replaces the definition in " +
                $"{earlier.SourceFile} (document {earlier.Document}), as kubectl apply applies its inputs in order and the later one wins");
        }
        else
        {
            list.Add(item);
        }
        _seen[key] = item;
        NoteNamespace(item.Namespace);
    }

    private static string LabelKind(ManifestObject o) => o switch
    {
        ServiceCidr => "ServiceCIDR",
        _ => o.GetType().Name,
    };
}
