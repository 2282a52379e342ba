using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Architecture;

/// <summary>
/// DataPlane.IO's folders (one namespace each) depend on each other without a cycle, so each can be read, tested and
/// changed from the bottom up: Pcap, Verdicts, Tap, Reload, Trace at the bottom; Replay over them; Text over Replay and
/// Trace; Live over Text. A cycle (Replay → Live → Text → Replay, when the reload boundary lived in Live) fails here,
/// naming the files that make each edge.
/// </summary>
public class IoFolderCycleTests
{
    const string Root = "DataPlane.IO";

    /// <summary>Folder → folder it uses → the files that do (a <c>using</c> of its namespace or a name qualified by it).</summary>
    static Dictionary<string, Dictionary<string, List<string>>> Edges()
    {
        string project = Repo.Path_("src", Root);
        string[] folders = [.. Directory.GetDirectories(project).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj")).Select(f => f!)];
        var edges = folders.ToDictionary(f => f, _ => new Dictionary<string, List<string>>());
        foreach (string from in folders)
            foreach (string file in Directory.EnumerateFiles(Path.Combine(project, from), "*.cs", SearchOption.AllDirectories))
            {
                string text = File.ReadAllText(file);
                foreach (string to in folders)
                {
                    if (to == from) continue;
                    if (!text.Contains($"using {Root}.{to};", StringComparison.Ordinal) && !text.Contains($"{Root}.{to}.", StringComparison.Ordinal)) continue;
                    if (!edges[from].TryGetValue(to, out var files)) edges[from][to] = files = [];
                    files.Add(Path.GetRelativePath(project, file));
                }
            }
        return edges;
    }

    [Fact]
    public void The_folders_of_DataPlane_IO_depend_on_each_other_without_a_cycle()
    {
        var edges = Edges();
        // Depth-first search; a folder met again while still on the path closes a cycle.
        var state = new Dictionary<string, int>(); // 1 on the path, 2 done
        var path = new List<string>();
        List<string>? cycle = null;
        bool Visit(string f)
        {
            state[f] = 1;
            path.Add(f);
            foreach (string to in edges[f].Keys.Order(StringComparer.Ordinal))
            {
                if (state.GetValueOrDefault(to) == 1) { cycle = [.. path[path.IndexOf(to)..], to]; return true; }
                if (state.GetValueOrDefault(to) == 0 && Visit(to)) return true;
            }
            path.RemoveAt(path.Count - 1);
            state[f] = 2;
            return false;
        }
        foreach (string f in edges.Keys.Order(StringComparer.Ordinal))
            if (state.GetValueOrDefault(f) == 0 && Visit(f)) break;
        Assert.True(cycle is null, cycle is null ? "" : "folder cycle " + string.Join(" → ", cycle) + ":\n" +
            string.Join("\n", cycle.Zip(cycle.Skip(1)).Select(e => $"  {e.First} → {e.Second}: {string.Join(", ", edges[e.First][e.Second])}")));
    }

    [Fact]
    public void The_scan_sees_the_edges_that_exist()
    {
        // Guards the scan itself: these dependencies are real, so finding none would mean the test checks nothing.
        var edges = Edges();
        Assert.Contains("Reload", edges["Replay"].Keys);
        Assert.Contains("Reload", edges["Live"].Keys);
        Assert.Contains("Text", edges["Live"].Keys);
        Assert.Contains("Replay", edges["Text"].Keys);
        Assert.DoesNotContain("Live", edges["Replay"].Keys);
    }
}
