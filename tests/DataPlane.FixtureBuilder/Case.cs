using System.Text.Json.Nodes;

namespace DataPlane.FixtureBuilder;

/// <summary>One input frame, the verdict line expected for it and the frame expected out (null = nothing emitted).</summary>
/// <remarks><paramref name="AtNs"/>: the frame's time after the case start; null = one millisecond per frame.</remarks>
public sealed record Step(byte[] Input, JsonObject Verdict, byte[]? Output, long? AtNs = null);

/// <summary>A regression case: pcaps/cases/NNN-name/ replayed against pcaps/cluster as node-1 with seed 1.</summary>
public sealed record Case(string Id, string Title, string Description, List<Step> Steps)
{
    /// <summary>
    /// Extra replay options (written to the case's <c>args</c> file, one per line), with paths relative to the case
    /// folder: replay-all.sh and the tests run such a case with the folder as working directory.
    /// </summary>
    public string[] Args { get; init; } = [];

    /// <summary>Link type of <c>input.pcap</c> (the expected output is always Ethernet).</summary>
    public DataPlane.IO.Pcap.LinkType InputLinkType { get; init; } = DataPlane.IO.Pcap.LinkType.Ethernet;

    /// <summary>Extra files of the case (e.g. manifests applied mid-replay), by name relative to the case folder.</summary>
    public IReadOnlyDictionary<string, string> Files { get; init; } = new Dictionary<string, string>();

    public const string Node = "node-1";
    public const ulong Seed = 1;
    /// <summary>Frame i (0-based) has timestamp Start + i ms, so conntrack timeouts are not crossed within a case.</summary>
    public const long StartNs = 1_700_000_000_000_000_000;
    public static long TimestampNs(int index) => StartNs + index * 1_000_000L;
    public long TimestampOf(int index) => Steps[index].AtNs is long at ? StartNs + at : TimestampNs(index);
}

/// <summary>Expected verdict lines, in the key order the CLI writes them.</summary>
public static class V
{
    public static JsonObject Line(string verdict, string? reason, JsonObject? @in, JsonObject? @out, string? service, string? backend) => new()
    {
        ["frame"] = 0,
        ["verdict"] = verdict,
        ["reason"] = reason,
        ["in"] = @in,
        ["out"] = @out,
        ["service"] = service,
        ["backend"] = backend,
    };

    public static JsonObject T(string proto, string src, string dst) => new() { ["proto"] = proto, ["src"] = src, ["dst"] = dst };
}
