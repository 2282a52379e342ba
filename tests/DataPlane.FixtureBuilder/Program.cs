using System.Text;
using System.Text.Json;
using DataPlane.FixtureBuilder;
using DataPlane.IO.Pcap;

// Regenerates pcaps/cases/*/{input.pcap, expected.pcap, expected.jsonl, CASE.md}:
//   dotnet run --project tests/DataPlane.FixtureBuilder -- pcaps/cases
// or the altered copies of the kernel captures, pcaps/verify/altered/*:
//   dotnet run --project tests/DataPlane.FixtureBuilder -- --verify-altered pcaps/verify
if (args is ["--verify-altered", var verifyRoot])
{
    DataPlane.FixtureBuilder.Verify.AlteredCaptures.WriteAll(verifyRoot);
    foreach (string name in DataPlane.FixtureBuilder.Verify.AlteredCaptures.Names) Console.WriteLine(Path.Combine(verifyRoot, "altered", name));
    return;
}
string root = args.Length > 0 ? args[0] : Path.Combine("pcaps", "cases");
foreach (Case c in Cases.All())
{
    string dir = Path.Combine(root, c.Id);
    Directory.CreateDirectory(dir);
    CaseFiles.Write(c, dir);
    Console.WriteLine($"{dir}: {c.Steps.Count} frames");
}

namespace DataPlane.FixtureBuilder
{
    public static class CaseFiles
    {
        public static void Write(Case c, string dir)
        {
            using (var input = new CaptureWriter(Path.Combine(dir, "input.pcap"), c.InputLinkType))
            using (var expected = new CaptureWriter(Path.Combine(dir, "expected.pcap")))
            {
                for (int i = 0; i < c.Steps.Count; i++)
                {
                    input.Write(c.Steps[i].Input, c.TimestampOf(i));
                    if (c.Steps[i].Output is { } o) expected.Write(o, c.TimestampOf(i));
                }
            }
            File.WriteAllText(Path.Combine(dir, "expected.jsonl"), Jsonl(c));
            File.WriteAllText(Path.Combine(dir, "CASE.md"), Markdown(c));
            if (c.Args.Length > 0) File.WriteAllText(Path.Combine(dir, "args"), string.Join('\n', c.Args) + "\n");
            foreach (var (name, text) in c.Files) File.WriteAllText(Path.Combine(dir, name), text);
        }

        /// <summary>Every file <see cref="Write"/> produces for <paramref name="c"/>, for the staleness check.</summary>
        public static IEnumerable<string> FileNames(Case c) =>
            ["input.pcap", "expected.pcap", "expected.jsonl", "CASE.md", .. c.Args.Length > 0 ? ["args"] : Array.Empty<string>(), .. c.Files.Keys];

        public static string Jsonl(Case c)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < c.Steps.Count; i++)
            {
                var line = c.Steps[i].Verdict.DeepClone().AsObject();
                line["frame"] = i + 1;
                sb.Append(line.ToJsonString(new JsonSerializerOptions { WriteIndented = false })).Append('\n');
            }
            return sb.ToString();
        }

        static string Markdown(Case c) =>
            $"""
            # {c.Id}: {c.Title}

            {c.Description}

            - Manifests: `pcaps/cluster/` (node `{Case.Node}`), seed {Case.Seed}.
            - Provenance: synthetic, built by `tests/DataPlane.FixtureBuilder` (`dotnet run --project tests/DataPlane.FixtureBuilder -- pcaps/cases`).
              `expected.pcap` is built independently of the data plane: each expected frame is constructed from scratch
              with the translated addresses and PacketDotNet computes every checksum.
            - Replay: {Replay(c)}
            - Frames: {c.Steps.Count} in, {c.Steps.Count(s => s.Output is not null)} expected out.

            """;

        static string Replay(Case c) => c.Args.Length == 0
            ? $"`dotnet run --project src/DataPlane.Cli -- replay --cluster pcaps/cluster --node {Case.Node} pcaps/cases/{c.Id}/input.pcap -o out.pcap --verdicts out.jsonl`"
            : $"from this folder (the options are in `args`), `dotnet run --project ../../../src/DataPlane.Cli -- replay --cluster ../../cluster --node {Case.Node} input.pcap -o out.pcap --verdicts out.jsonl {string.Join(' ', c.Args)}`";
    }
}
