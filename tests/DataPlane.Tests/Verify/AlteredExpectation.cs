using System.Text.Json.Nodes;

namespace DataPlane.Tests.Verify;

/// <summary>An altered capture's expected.json (written by the fixture builder, AlteredCaptures): the connections
/// <c>dataplane verify</c> must flag, each with its diff field and the frames that were altered.</summary>
public sealed record AlteredExpectation(string Name, string Source, int Exit, IReadOnlyList<AlteredExpectation.Divergence> Diverges)
{
    /// <summary>One connection that must diverge, named as verify names it: proto, client src, the dst it sent to.</summary>
    public sealed record Divergence(string Proto, string Src, string Dst, string Service, string Field, IReadOnlyList<int> Frames, string Seen)
    {
        public string Flow => $"{Proto} {Src} -> {Dst}";
    }

    public static AlteredExpectation Read(string dir)
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "expected.json")))!.AsObject();
        var diverges = root["diverges"]!.AsArray().Select(n =>
        {
            var d = n!.AsObject();
            var flow = d["flow"]!.AsObject();
            return new Divergence((string)flow["proto"]!, (string)flow["src"]!, (string)flow["dst"]!, (string)d["service"]!,
                (string)d["field"]!, [.. d["frames"]!.AsArray().Select(f => (int)f!)], (string)d["seen"]!);
        }).ToList();
        return new AlteredExpectation((string)root["case"]!, (string)root["source"]!, (int)root["exit"]!, diverges);
    }
}
