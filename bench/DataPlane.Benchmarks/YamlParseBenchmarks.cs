using BenchmarkDotNet.Attributes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using DataPlane.Kubernetes.Manifests;

namespace DataPlane.Benchmarks;

/// <summary>
/// The loader's YAML step over the 10 k-service manifests: YamlTreeBuilder (go-yaml's limits, merge keys, aliases
/// shared and budgeted, keys normalised) against YamlDotNet's own representation model, which the loader used before
/// (Baseline). Per file of 20 k documents, not per object.
/// </summary>
[MemoryDiagnoser]
public class YamlParseBenchmarks
{
    string _text = "";

    [GlobalSetup]
    public void Setup() => _text = File.ReadAllText(Path.Combine(BigCluster.Write(), "services.yaml"));

    [Benchmark(Baseline = true)]
    public int YamlDotNetStream()
    {
        var stream = new YamlStream();
        stream.Load(new Parser(new StringReader(_text)));
        return Check(stream.Documents.Count);
    }

    [Benchmark]
    public int TreeBuilder()
    {
        var builder = new YamlTreeBuilder(new Parser(new StringReader(_text)));
        int documents = 0;
        while (builder.NextDocument() is not null) documents++;
        return Check(documents);
    }

    static int Check(int documents) =>
        documents >= 2 * BigCluster.Services ? documents : throw new InvalidOperationException($"parsed {documents} documents");
}
