using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>
/// Builds document trees from YamlDotNet's event stream the way kubectl's decoder (sigs.k8s.io/yaml over its go-yaml v2
/// fork) reads YAML, with the same safety limits, and without recursion, so no input can overflow the stack:
/// <list type="bullet">
/// <item>nesting deeper than <see cref="MaxDepth"/> is refused (go-yaml's "exceeded max depth of 10000");</item>
/// <item>aliases are shared, never copied, and the size each document would have once expanded is computed as it is
/// built; a document whose expansion is mostly aliases is refused with go-yaml's <c>allowedAliasRatio</c> rule
/// ("document contains excessive aliasing"), so an alias "bomb" costs what its text costs;</item>
/// <item>mapping keys must be scalars: sigs.k8s.io/yaml converts a document to JSON, whose keys are strings, and
/// refuses a mapping or list as a key ("Unsupported map key");</item>
/// <item>merge keys (<c>&lt;&lt;: *base</c>, or a list of aliases) are honoured: the merged mappings' keys are added
/// unless the mapping sets them itself (YAML merge type; earlier mappings in a list win);</item>
/// <item>a key written twice in one mapping is an error (the API server's strict field validation, kubectl's default,
/// reports "duplicate field").</item>
/// </list>
/// </summary>
internal sealed class YamlTreeBuilder
{
    /// <summary>go-yaml's max_flow_level / max_indents.</summary>
    public const int MaxDepth = 10_000;

    readonly IParser _parser;
    readonly Dictionary<string, YamlNode> _anchors = new(StringComparer.Ordinal);
    readonly Dictionary<YamlNode, (long Nodes, long Aliases)> _sizes = new(ReferenceEqualityComparer.Instance);
    readonly Stack<Frame> _stack = new();

    sealed class Frame(YamlNode node, string? anchor)
    {
        public YamlNode Node { get; } = node;
        public string? Anchor { get; } = anchor;
        public YamlNode? PendingKey;
        public bool PendingIsMerge;
        public HashSet<string>? Keys;
        public List<YamlMappingNode>? Merges;
        public long Nodes = 1, Aliases;
    }

    public YamlTreeBuilder(IParser parser) => _parser = parser;

    /// <summary>The next document's root node, or null at the end of the stream. Throws <see cref="YamlException"/> for bad YAML.</summary>
    public YamlNode? NextDocument()
    {
        _anchors.Clear();
        _sizes.Clear();
        _stack.Clear();
        YamlNode? root = null;
        while (_parser.MoveNext())
        {
            ParsingEvent e = _parser.Current!;
            switch (e)
            {
                case StreamStart or DocumentStart:
                    continue;
                case StreamEnd:
                    return root;
                case DocumentEnd:
                    return root ?? new YamlScalarNode("") { Style = ScalarStyle.Plain };
                case Scalar s:
                {
                    var node = new YamlScalarNode(s.Value) { Style = s.Style };
                    if (!s.Tag.IsEmpty) node.Tag = s.Tag;
                    if (!s.Anchor.IsEmpty) _anchors[s.Anchor.Value] = node;
                    _sizes[node] = (1, 0);
                    Complete(node, e, isMergeKey: s.Value == "<<" && s.IsPlainImplicit && s.Tag.IsEmpty, ref root);
                    break;
                }
                case AnchorAlias a:
                {
                    if (!_anchors.TryGetValue(a.Value.Value, out var target))
                        throw new YamlException(e.Start, e.End, $"unknown anchor '{a.Value.Value}' referenced");
                    // An alias stands for a whole copy of its target: count it as go-yaml's decoder would.
                    var (n, al) = _sizes.TryGetValue(target, out var sz) ? sz : (1, 0);
                    Complete(target, e, isMergeKey: false, ref root, aliasNodes: n, aliasAliases: al + 1);
                    break;
                }
                case SequenceStart ss:
                {
                    var node = new YamlSequenceNode { Style = ss.Style };
                    if (!ss.Tag.IsEmpty) node.Tag = ss.Tag;
                    Push(new Frame(node, ss.Anchor.IsEmpty ? null : ss.Anchor.Value), e);
                    break;
                }
                case MappingStart ms:
                {
                    var node = new YamlMappingNode { Style = ms.Style };
                    if (!ms.Tag.IsEmpty) node.Tag = ms.Tag;
                    Push(new Frame(node, ms.Anchor.IsEmpty ? null : ms.Anchor.Value), e);
                    break;
                }
                case SequenceEnd or MappingEnd:
                {
                    Frame f = _stack.Pop();
                    if (f.Merges is not null) ApplyMerges(f);
                    _sizes[f.Node] = (f.Nodes, f.Aliases);
                    if (f.Anchor is not null) _anchors[f.Anchor] = f.Node;
                    CheckAliasing(f.Nodes, f.Aliases, e);
                    Complete(f.Node, e, isMergeKey: false, ref root, ownSize: false);
                    break;
                }
                default:
                    continue;
            }
        }
        return root;
    }

    void Push(Frame f, ParsingEvent e)
    {
        if (_stack.Count >= MaxDepth)
            throw new YamlException(e.Start, e.End, $"exceeded max depth of {MaxDepth}");
        // An anchor names its node from its start (go-yaml), but a node cannot refer to itself: register on completion.
        _stack.Push(f);
    }

    /// <summary>Hands a finished node (or an alias of one) to its parent.</summary>
    void Complete(YamlNode node, ParsingEvent e, bool isMergeKey, ref YamlNode? root, bool ownSize = true, long aliasNodes = -1, long aliasAliases = 0)
    {
        long nodes, aliases;
        if (aliasNodes >= 0) (nodes, aliases) = (aliasNodes, aliasAliases);
        else (nodes, aliases) = _sizes.TryGetValue(node, out var sz) ? sz : (1, 0);
        if (_stack.Count == 0)
        {
            root = node;
            return;
        }
        Frame parent = _stack.Peek();
        parent.Nodes = Saturate(parent.Nodes + nodes);
        parent.Aliases = Saturate(parent.Aliases + aliases);
        if (parent.Node is YamlSequenceNode seq)
        {
            seq.Children.Add(node);
            return;
        }
        var map = (YamlMappingNode)parent.Node;
        if (parent.PendingKey is null)
        {
            if (node is not YamlScalarNode key)
                throw new YamlException(e.Start, e.End, $"unsupported map key: a {(node is YamlMappingNode ? "mapping" : "list")} cannot be a key (Kubernetes objects are JSON, whose keys are strings)");
            parent.PendingKey = key;
            parent.PendingIsMerge = isMergeKey;
            return;
        }
        var pendingKey = (YamlScalarNode)parent.PendingKey;
        parent.PendingKey = null;
        if (parent.PendingIsMerge)
        {
            parent.Merges ??= [];
            switch (node)
            {
                case YamlMappingNode m: parent.Merges.Add(m); break;
                case YamlSequenceNode s when s.Children.All(c => c is YamlMappingNode):
                    foreach (var c in s.Children) parent.Merges.Add((YamlMappingNode)c);
                    break;
                default:
                    throw new YamlException(e.Start, e.End, "map merge requires map or sequence of maps as the value");
            }
            return;
        }
        string keyText = KeyText(pendingKey);
        parent.Keys ??= new HashSet<string>(StringComparer.Ordinal);
        if (!parent.Keys.Add(keyText))
            throw new YamlException(e.Start, e.End, $"duplicate field \"{keyText}\" (mapping key already defined)");
        map.Children.Add(new YamlScalarNode(keyText) { Style = ScalarStyle.DoubleQuoted }, node);
    }

    /// <summary>
    /// A key as sigs.k8s.io/yaml turns it into a JSON key: strings as written, booleans "true"/"false", numbers
    /// formatted, null "null".
    /// </summary>
    static string KeyText(YamlScalarNode key) => YamlField.ClassifyScalar(key) switch
    {
        YamlField.ScalarKind.Boolean => YamlField.BooleanValue(key.Value!) ? "true" : "false",
        YamlField.ScalarKind.Null => "null",
        YamlField.ScalarKind.Integer when YamlField.TryParseInteger(key.Value!, out long v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => key.Value ?? "",
    };

    void ApplyMerges(Frame f)
    {
        var map = (YamlMappingNode)f.Node;
        f.Keys ??= new HashSet<string>(StringComparer.Ordinal);
        foreach (YamlMappingNode source in f.Merges!)
            foreach (var (k, v) in source.Children)
            {
                var text = ((YamlScalarNode)k).Value ?? "";
                if (f.Keys.Add(text))
                {
                    map.Children.Add(new YamlScalarNode(text) { Style = ScalarStyle.DoubleQuoted }, v);
                    f.Nodes = Saturate(f.Nodes + (_sizes.TryGetValue(v, out var s) ? s.Nodes : 1));
                }
            }
    }

    /// <summary>go-yaml decode.go <c>allowedAliasRatio</c>: up to 400 000 decoded nodes 99 % may come from aliases,
    /// from 4 000 000 on only 10 %, linear in between; small documents (≤ 100 aliases or ≤ 1000 nodes) always pass.</summary>
    static void CheckAliasing(long nodes, long aliases, ParsingEvent e)
    {
        if (aliases <= 100 || nodes <= 1000) return;
        double ratio = nodes <= 400_000 ? 0.99 : nodes >= 4_000_000 ? 0.10 : 0.99 - 0.89 * ((nodes - 400_000) / 3_600_000.0);
        if ((double)aliases / nodes > ratio || nodes > 100_000_000)
            throw new YamlException(e.Start, e.End, $"document contains excessive aliasing ({nodes} nodes once aliases are expanded, {aliases} of them aliases)");
    }

    static long Saturate(long v) => v < 0 || v > 1L << 60 ? 1L << 60 : v;
}
