using System.Text.Json.Nodes;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Kubernetes;
using static DataPlane.Tests.Topology.TopologyWorld;

namespace DataPlane.Tests.Topology;

/// <summary>`trace` says which hint kind narrowed the endpoints or why none did; `maps` lists this node's and zone's subsets.</summary>
public class TopologyCliTests
{
    [Fact]
    public void Trace_names_the_endpoint_that_disabled_zone_hints()
    {
        using var dir = new ManifestDirectory();
        string file = dir.Write("w.yaml", Nodes() + Service("") +
            Slice(Ep("10.0.1.1", "node-1", "zone-a", "zone-a"), Ep("10.0.3.1", "node-3", "zone-b", "zone-b"), Ep("10.0.1.5", "node-1", "zone-a")));
        var r = CliTests.Run("trace", "--cluster", file, "--node", "node-1", "--src", Pod, "--dst", "172.30.0.10:80");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("topology    not narrowed: every ready endpoint is used\n", r.Stdout);
        Assert.Contains("topology    zone hints ignored: endpoint 10.0.1.5 has no zone hint\n", r.Stdout);
        Assert.Contains("candidates  10.0.1.1:80, 10.0.3.1:80, 10.0.1.5:80\n", r.Stdout);
    }

    [Fact]
    public void Trace_json_and_maps_show_the_node_narrowing_and_both_subsets()
    {
        using var dir = new ManifestDirectory();
        string file = dir.Write("w.yaml", Nodes() + Service("externalTrafficPolicy: Local") +
            Slice(Ep("10.0.1.1", "node-1", "zone-a", "zone-a", "node-1"), Ep("10.0.2.1", "node-2", "zone-a", "zone-a", "node-2"),
                  Ep("10.0.3.1", "node-3", "zone-b", "zone-b", "node-3")));
        var r = CliTests.Run("trace", "--cluster", file, "--node", "node-1", "--src", Pod, "--dst", "172.30.0.10:80", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var o = JsonNode.Parse(r.Stdout)!.AsObject();
        Assert.Equal("""{"mode":"PreferSameNode","node":"node-1","zone":"zone-a","reasons":[],"nodeSubset":["10.0.1.1:80"],"zoneSubset":["10.0.1.1:80","10.0.2.1:80"]}""",
            o["topology"]!.ToJsonString());
        Assert.Equal("""["10.0.1.1:80"]""", o["candidates"]!.ToJsonString());

        // The external scope of an eTP Local NodePort: topology does not apply.
        var ext = CliTests.Run("trace", "--cluster", file, "--node", "node-1", "--src", External, "--dst", "192.168.0.2:30010");
        Assert.Contains("topology    not used: a Local traffic policy selects this node's endpoints", ext.Stdout);

        var maps = CliTests.Run("maps", "--cluster", file, "--node", "node-1");
        Assert.True(maps.ExitCode == 0, maps.ToString());
        Assert.Contains("""
            ns/svc:p80: narrowed by node hints to 1 of 3 ready endpoints (hinted for node node-1)
              node node-1: 10.0.1.1:80
              zone zone-a: 10.0.1.1:80, 10.0.2.1:80
            """.ReplaceLineEndings("\n"), maps.Stdout);
    }

    [Fact]
    public void Services_without_hints_keep_their_trace_json_unchanged()
    {
        using var dir = new ManifestDirectory();
        string file = dir.Write("w.yaml", Nodes() + Service("") + Slice(Ep("10.0.1.1", "node-1", "zone-a")));
        var r = CliTests.Run("trace", "--cluster", file, "--node", "node-1", "--src", Pod, "--dst", "172.30.0.10:80", "--json");
        Assert.Null(JsonNode.Parse(r.Stdout)!.AsObject()["topology"]);
        Assert.DoesNotContain("TOPOLOGY", CliTests.Run("maps", "--cluster", file, "--node", "node-1").Stdout);
    }
}
