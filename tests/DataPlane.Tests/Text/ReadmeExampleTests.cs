using System.Text.RegularExpressions;
using DataPlane.IO.Text;
using DataPlane.Kubernetes.Inventory;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Text;

/// <summary>Console.Out and the current directory are the process's: tests that redirect them run alone.</summary>
[CollectionDefinition(nameof(ConsoleCollection), DisableParallelization = true)]
public sealed class ConsoleCollection;

/// <summary>
/// The README's sample outputs are what the commands print. Each output block in README.md is preceded by a marker
/// naming the command that prints it, <c>&lt;!-- README output: dataplane ARGS --&gt;</c> (paths from the repository
/// root), or <c>&lt;!-- README output: replay-all CASE --&gt;</c> for what <c>pcaps/replay-all.sh</c> prints for one
/// case. The test reads the markers and blocks from README.md, runs each command in process through the CLI's own
/// command tree, and compares the text: when an output changes, updating the README is all it takes, and a new
/// sample is checked as soon as it carries a marker. Every plain fenced block (no language: an output) must carry one.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public partial class ReadmeExampleTests
{
    const string MarkerStart = "<!-- README output: ";

    static string[] Lines() => File.ReadAllText(Repo.Path_("README.md")).ReplaceLineEndings("\n").Split('\n');

    /// <summary>Every marked block: the marker's command, its line (1-based), and the block's text.</summary>
    static IEnumerable<(string Command, int Line, string Block)> Samples()
    {
        string[] lines = Lines();
        for (int i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith(MarkerStart, StringComparison.Ordinal)) continue;
            string command = lines[i][MarkerStart.Length..].Replace("-->", "", StringComparison.Ordinal).Trim();
            int open = i + 1;
            while (open < lines.Length && lines[open].Length == 0) open++;
            Assert.True(open < lines.Length && lines[open] == "```", $"README.md:{i + 1}: the marker must be followed by a plain ``` block");
            int close = Array.FindIndex(lines, open + 1, l => l.StartsWith("```", StringComparison.Ordinal));
            yield return (command, i + 1, string.Concat(lines[(open + 1)..close].Select(l => l + "\n")));
        }
    }

    public static TheoryData<string, int> Commands()
    {
        var d = new TheoryData<string, int>();
        foreach (var (command, line, _) in Samples()) d.Add(command, line);
        return d;
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void The_readme_block_is_what_the_command_prints(string command, int line)
    {
        string expected = Samples().Single(s => s.Line == line).Block;
        string[] words = Words(command);
        string actual = words[0] switch
        {
            "dataplane" => Run(Repo.Root, words[1..]),
            "replay-all" => ReplayAllCase(words[1]),
            _ => throw new Xunit.Sdk.XunitException($"README.md:{line}: unknown command '{words[0]}' (dataplane or replay-all)"),
        };
        Assert.True(expected == actual, $"README.md:{line}: `{command}` prints\n{actual}\nbut the README shows\n{expected}");
    }

    [Fact]
    public void Every_output_block_in_the_readme_names_its_command()
    {
        string[] lines = Lines();
        var unmarked = new List<int>();
        bool inside = false;
        for (int i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("```", StringComparison.Ordinal)) continue;
            if (!inside && lines[i] == "```")
            {
                int before = i - 1;
                while (before >= 0 && lines[before].Length == 0) before--;
                if (before < 0 || !lines[before].StartsWith(MarkerStart, StringComparison.Ordinal)) unmarked.Add(i + 1);
            }
            inside = !inside;
        }
        Assert.True(unmarked.Count == 0, "README.md: output blocks without a `<!-- README output: ... -->` marker at lines " + string.Join(", ", unmarked));
        Assert.True(Samples().Count() >= 5, "the README's samples are no longer marked");
    }

    [GeneratedRegex("""'([^']*)'|(\S+)""")]
    private static partial Regex Word();

    /// <summary>The command's words: split at spaces, '...' keeping one word.</summary>
    static string[] Words(string command) =>
        [.. Word().Matches(command).Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value)];

    /// <summary>Runs <c>dataplane ARGS</c> in process from <paramref name="directory"/>; returns what it printed on stdout.</summary>
    static string Run(string directory, string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        TextWriter stdout = Console.Out, stderr = Console.Error;
        string cwd = Environment.CurrentDirectory;
        int exit;
        try
        {
            Console.SetOut(output);
            Console.SetError(error);
            Environment.CurrentDirectory = directory;
            exit = DataPlane.Cli.Cli.Build().Parse(args).Invoke();
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            Environment.CurrentDirectory = cwd;
        }
        // verify exits 1 when it found a divergence (kubectl diff's convention): a sample of one is its output too.
        Assert.True(exit == 0 || (args[0] == "verify" && exit == 1), $"dataplane {string.Join(' ', args)}: exit {exit}\n{error}");
        return output.ToString().ReplaceLineEndings("\n");
    }

    /// <summary>
    /// What pcaps/replay-all.sh prints for one case: its title from CASE.md, then the replay, run from the case folder
    /// with the case's own options (its args file), as the script runs it.
    /// </summary>
    static string ReplayAllCase(string id)
    {
        string dir = Path.Combine(Repo.Cases, id);
        string title = File.ReadLines(Path.Combine(dir, "CASE.md")).First();
        title = title[(title.IndexOf(": ", StringComparison.Ordinal) + 2)..];
        string[] extra = File.Exists(Path.Combine(dir, "args")) ? [.. File.ReadAllLines(Path.Combine(dir, "args")).Where(l => l.Length > 0)] : [];
        using var tmp = new TempDir("readme");
        string printed = Run(dir, ["replay", "--cluster", Repo.Cluster, "--node", "node-1", "input.pcap",
            "-o", tmp.File(id + ".pcap"), "--verdicts", tmp.File(id + ".jsonl"), .. extra]);
        return $"== {id}: {title}\n{printed}";
    }

    [Fact]
    public void The_cluster_json_is_one_line_in_the_documented_shape()
    {
        // The shape the README documents under `dataplane cluster --json` (the values are the text listing's, above).
        var w = new StringWriter { NewLine = "\n" };
        ClusterListing.WriteJson(w, ClusterInventory.Build(ManifestLoader.Load(Repo.Path_("pcaps", "examples", "web.yaml"))));
        Assert.EndsWith("}\n", w.ToString());
        Assert.DoesNotContain('\n', w.ToString().TrimEnd('\n'));
        var root = System.Text.Json.Nodes.JsonNode.Parse(w.ToString())!.AsObject();
        static string[] Keys(System.Text.Json.Nodes.JsonNode? o) => [.. o!.AsObject().Select(kv => kv.Key)];
        Assert.Equal(["nodes", "pods", "unlistedPendingPods", "services", "serviceCIDRs", "clusterCIDR"], Keys(root));
        Assert.Equal(["name", "addresses", "podCIDR", "podCIDRs"], Keys(root["nodes"]![0]));
        Assert.Equal(["namespace", "name", "ip", "ips", "node", "ready", "owner", "hostname", "subdomain"], Keys(root["pods"]![0]));
        var web = root["services"]!.AsArray().Single(s => (string)s!["name"]! == "web")!;
        Assert.Equal(["namespace", "name", "type", "clusterIP", "externalName", "externalIPs", "ports", "endpoints", "emulated", "clusterIPs", "ipFamilies", "ipFamilyPolicy"], Keys(web));
        Assert.Equal("SingleStack", (string)web["ipFamilyPolicy"]!);
        Assert.Equal("IPv4", (string)web["ipFamilies"]![0]!);
        Assert.Equal(["name", "port", "protocol", "targetPort", "nodePort"], Keys(web["ports"]![0]));
        Assert.Equal(["ip", "port", "portName", "ready", "serving", "terminating", "node", "pod"], Keys(web["endpoints"]![0]));
        Assert.Equal(30080, (int)web["ports"]![0]!["nodePort"]!);
        Assert.Equal("http", (string)web["ports"]![0]!["targetPort"]!);
    }
}
