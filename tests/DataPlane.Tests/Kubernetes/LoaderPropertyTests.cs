using System.Text;
using CsCheck;
using DataPlane.Kubernetes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using DataPlane.Kubernetes.Manifests;

namespace DataPlane.Tests.Kubernetes;

/// <summary>
/// Invariants of the loader: mutated manifests never escape as anything but <see cref="ManifestException"/> (load and
/// compile), and the tree builder reads alias-free YAML exactly as YamlDotNet's representation model does.
/// </summary>
public class LoaderPropertyTests
{
    const string Seed = """
        apiVersion: v1
        kind: Node
        metadata: {name: node-1}
        status: {addresses: [{type: InternalIP, address: 192.168.0.2}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, labels: &l {app: web}}
        spec:
          type: NodePort
          selector: *l
          externalIPs: [203.0.113.10]
          ports:
          - &p {name: http, port: 80, targetPort: 8080, protocol: TCP}
          - <<: *p
            name: dns
            port: 53
            protocol: UDP
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: web-1, labels: {kubernetes.io/service-name: web}}
        addressType: IPv4
        endpoints: [{addresses: [10.244.1.5], conditions: {ready: yes}, nodeName: node-1}]
        ports: [{name: http, port: 8080}, {name: dns, port: 53, protocol: UDP}]

        """;

    static readonly byte[] SeedBytes = Encoding.UTF8.GetBytes(Seed);
    static readonly byte[] Meta = "[]{}&*<>:-!|'\"#,?%@`\n \t\u00ff"u8.ToArray();

    [Fact]
    public void Mutated_manifests_fail_only_with_ManifestException()
    {
        var mutation = Gen.Select(Gen.Int[0, SeedBytes.Length - 1], Gen.Int[0, 3], Gen.Int[0, Meta.Length - 1], Gen.Byte);
        using var dir = new ManifestDirectory();
        string path = Path.Combine(dir.Root, "m.yaml");
        mutation.Array[1, 8].Sample(ops =>
        {
            var bytes = new List<byte>(SeedBytes);
            foreach (var (at, kind, meta, b) in ops)
            {
                int i = Math.Min(at, bytes.Count - 1);
                if (i < 0) break;
                switch (kind)
                {
                    case 0: bytes[i] = Meta[meta]; break;       // a YAML metacharacter
                    case 1: bytes.Insert(i, Meta[meta]); break;
                    case 2: bytes.RemoveRange(i, Math.Min(5, bytes.Count - i)); break;
                    default: bytes[i] = b; break;              // any byte, invalid UTF-8 included
                }
            }
            File.WriteAllBytes(path, bytes.ToArray());
            try
            {
                var m = ControlPlane.Load([path], null, null);
                ControlPlane.Compile(m, "node-1");
            }
            catch (ManifestException e)
            {
                Assert.DoesNotContain('\n', e.Message);
                Assert.DoesNotContain("internal error", e.Message); // the boundary caught nothing unforeseen
            }
        }, iter: 400);
    }

    static readonly Gen<string> Scalar = Gen.OneOf(
        Gen.Const("a"), Gen.Const("80"), Gen.Const("\"x y\""), Gen.Const("true"), Gen.Const("~"), Gen.Const("10.0.0.1"), Gen.Const("'q'"));

    static Gen<string> Node(int depth) => depth == 0 ? Scalar : Gen.Frequency(
        (3, Scalar),
        (1, Gen.Select(Gen.Int[0, 3], n => n).SelectMany(n => Node(depth - 1).Array[n]).Select(items => "[" + string.Join(", ", items) + "]")),
        (1, Gen.Int[0, 3].SelectMany(n => Node(depth - 1).Array[n]).Select(items => "{" + string.Join(", ", items.Select((v, i) => $"k{i}: {v}")) + "}")));

    [Fact]
    public void Tree_builder_reads_alias_free_yaml_as_YamlDotNet_does()
    {
        Node(4).Sample(text =>
        {
            var builder = new YamlTreeBuilder(new Parser(new StringReader("root: " + text)));
            YamlNode ours = builder.NextDocument()!;
            var stream = new YamlStream();
            stream.Load(new StringReader("root: " + text));
            Assert.Equal(Show(stream.Documents[0].RootNode), Show(ours));
            Assert.Null(builder.NextDocument());
        }, iter: 300);
    }

    static string Show(YamlNode n) => n switch
    {
        YamlScalarNode s => (s.Style is ScalarStyle.Plain or ScalarStyle.Any ? "p:" : "q:") + s.Value,
        YamlSequenceNode q => "[" + string.Join(",", q.Children.Select(Show)) + "]",
        YamlMappingNode m => "{" + string.Join(",", m.Children.Select(kv => ((YamlScalarNode)kv.Key).Value + "=" + Show(kv.Value))) + "}",
        _ => "?",
    };
}
