using DataPlane.Kubernetes.Manifests;
using DataPlane.IO.Text;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Maps;
using DataPlane.Tests.Kubernetes;
using static DataPlane.Tests.Topology.TopologyWorld;

namespace DataPlane.Tests.Text;

/// <summary>How trace and maps show a topology decision, in process: the trace lines, the JSON object, the maps section.</summary>
public class TopologyTextTests
{
    static readonly TopologyDecision ZoneIgnored = new("ns/svc:p80", "node-1", "zone-a", TopologyMode.None,
        ["zone hints ignored: endpoint 10.0.1.5 has no zone hint"], [], ["10.0.1.1:80"], 3, true);

    [Fact]
    public void Trace_lines_are_the_summary_then_the_reasons_unless_a_local_policy_applies()
    {
        Assert.Equal(["not narrowed: every ready endpoint is used", "zone hints ignored: endpoint 10.0.1.5 has no zone hint"],
            TopologyText.TraceLines(ZoneIgnored, ServiceFlags.ClusterIp, scope: 0));
        Assert.Equal(["not used: a Local traffic policy selects this node's endpoints, which topology never narrows"],
            TopologyText.TraceLines(ZoneIgnored, ServiceFlags.ClusterIp | ServiceFlags.IntLocal, scope: 0));
        // externalTrafficPolicy Local narrows only the external scope; the internal scope still uses topology.
        Assert.Equal(2, TopologyText.TraceLines(ZoneIgnored, ServiceFlags.NodePort | ServiceFlags.ExtLocal, scope: 1).Count());
        Assert.Single(TopologyText.TraceLines(ZoneIgnored, ServiceFlags.NodePort | ServiceFlags.ExtLocal, scope: 0));
    }

    [Fact]
    public void Json_names_the_mode_or_not_applicable()
    {
        Assert.Equal("""{"mode":"None","node":"node-1","zone":"zone-a","reasons":["zone hints ignored: endpoint 10.0.1.5 has no zone hint"],"nodeSubset":[],"zoneSubset":["10.0.1.1:80"]}""",
            TopologyText.Json(ZoneIgnored, ServiceFlags.ClusterIp, 0).ToJsonString());
        Assert.Equal("""{"mode":"NotApplicable","node":"node-1","zone":"zone-a","reasons":["a Local traffic policy selects this node\u0027s endpoints"],"nodeSubset":[],"zoneSubset":["10.0.1.1:80"]}""",
            TopologyText.Json(ZoneIgnored, ServiceFlags.ClusterIp | ServiceFlags.IntLocal, 0).ToJsonString());
    }

    [Fact]
    public void The_maps_section_lists_each_service_port_with_both_subsets()
    {
        using var dir = new ManifestDirectory();
        ClusterManifests m = ManifestLoader.Load(dir.Write("w.yaml", Nodes() + Service("") +
            Slice(Ep("10.0.1.1", "node-1", "zone-a", "zone-a", "node-1"), Ep("10.0.3.1", "node-3", "zone-b", "zone-b", "node-3"))));
        var report = new TopologyReport();
        ClusterCompiler.Compile(m, "node-1", new CompileOptions { Topology = report });
        var o = new StringWriter { NewLine = "\n" };
        TopologyText.WriteMaps(o, report);
        Assert.Equal("""

            TOPOLOGY (cluster-scope endpoints; Local traffic policies are not narrowed)
            ns/svc:p80: narrowed by node hints to 1 of 2 ready endpoints (hinted for node node-1)
              node node-1: 10.0.1.1:80
              zone zone-a: 10.0.1.1:80

            """.ReplaceLineEndings("\n"), o.ToString());

        var none = new StringWriter();
        TopologyText.WriteMaps(none, new TopologyReport());
        Assert.Equal("", none.ToString());
    }
}
