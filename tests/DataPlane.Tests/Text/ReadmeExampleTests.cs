using DataPlane.Kubernetes.Manifests;
using DataPlane.IO.Text;
using DataPlane.IO.Trace;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Explain;
using DataPlane.Kubernetes.Inventory;
using DataPlane.Maps;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Text;

/// <summary>
/// The README's first look, in process: the trace and cluster blocks it shows for pcaps/examples/web.yaml are what
/// the views print, read from README.md itself so the page cannot drift from the code.
/// </summary>
public class ReadmeExampleTests
{
    static readonly string Example = Repo.Path_("pcaps", "examples", "web.yaml");

    /// <summary>The first fenced block that opens after the line holding <paramref name="marker"/> (which may itself sit in a block).</summary>
    static string BlockAfter(string marker)
    {
        string[] lines = File.ReadAllText(Repo.Path_("README.md")).ReplaceLineEndings("\n").Split('\n');
        int at = Array.FindIndex(lines, l => l.Contains(marker, StringComparison.Ordinal));
        Assert.True(at >= 0, $"README.md no longer contains {marker}");
        bool inside = lines.Take(at).Count(l => l.StartsWith("```", StringComparison.Ordinal)) % 2 == 1;
        int i = at + 1;
        if (inside) while (!lines[i++].StartsWith("```", StringComparison.Ordinal)) { }
        while (lines[i] != "```") i++;
        int end = Array.FindIndex(lines, i + 1, l => l.StartsWith("```", StringComparison.Ordinal));
        return string.Concat(lines[(i + 1)..end].Select(l => l + "\n"));
    }

    [Fact]
    public void The_first_trace_is_what_trace_prints()
    {
        // The command itself, in process, as the README types it.
        var r = DataPlane.Tests.Cli.CliTests.Run("trace", "--cluster", "pcaps/examples/web.yaml", "--src", "203.0.113.2:40001", "--dst", "192.168.0.2:30080");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(BlockAfter("$dp trace --cluster pcaps/examples/web.yaml"), r.Stdout.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void The_cluster_listing_is_what_cluster_prints()
    {
        var w = new StringWriter { NewLine = "\n" };
        ClusterListing.WriteText(w, ClusterInventory.Build(ManifestLoader.Load(Example)));
        Assert.Equal(BlockAfter("`$dp cluster --cluster pcaps/examples/web.yaml`"), w.ToString());
    }

    [Fact]
    public void The_cluster_json_is_one_line_in_the_documented_shape()
    {
        var w = new StringWriter { NewLine = "\n" };
        ClusterListing.WriteJson(w, ClusterInventory.Build(ManifestLoader.Load(Example)));
        Assert.Equal(
            """{"nodes":[{"name":"node-1","addresses":["192.168.0.2"],"podCIDR":"10.244.1.0/24"},{"name":"node-2","addresses":["192.168.0.3"],"podCIDR":"10.244.2.0/24"},{"name":"node-3","addresses":["192.168.0.4"],"podCIDR":"10.244.3.0/24"}],""" +
            "\"pods\":[{\"namespace\":\"default\",\"name\":\"web-85454c44b6-npsjg\",\"ip\":\"10.244.1.2\",\"node\":\"node-1\",\"ready\":true,\"owner\":\"ReplicaSet/web-85454c44b6\",\"hostname\":null,\"subdomain\":null}," +
            """{"namespace":"default","name":"web-85454c44b6-x974l","ip":"10.244.2.2","node":"node-2","ready":true,"owner":"ReplicaSet/web-85454c44b6","hostname":null,"subdomain":null},""" +
            """{"namespace":"default","name":"web-85454c44b6-4k2d5","ip":"10.244.3.2","node":"node-3","ready":true,"owner":"ReplicaSet/web-85454c44b6","hostname":null,"subdomain":null}],""" +
            "\"services\":[{\"namespace\":\"default\",\"name\":\"kubernetes\",\"type\":\"ClusterIP\",\"clusterIP\":\"10.96.0.1\",\"externalName\":null,\"externalIPs\":[]," +
            "\"ports\":[{\"name\":\"https\",\"port\":443,\"protocol\":\"TCP\",\"targetPort\":6443,\"nodePort\":null}],\"endpoints\":[" +
            """{"ip":"192.168.0.2","port":6443,"portName":"https","ready":true,"serving":true,"terminating":false,"node":null,"pod":null}],"emulated":true},""" +
            "{\"namespace\":\"kube-system\",\"name\":\"kube-dns\",\"type\":\"ClusterIP\",\"clusterIP\":\"10.96.0.10\",\"externalName\":null,\"externalIPs\":[],\"ports\":[" +
            """{"name":"dns","port":53,"protocol":"UDP","targetPort":53,"nodePort":null},{"name":"dns-tcp","port":53,"protocol":"TCP","targetPort":53,"nodePort":null},""" +
            """{"name":"metrics","port":9153,"protocol":"TCP","targetPort":9153,"nodePort":null}],"endpoints":[],"emulated":true},""" +
            "{\"namespace\":\"default\",\"name\":\"web\",\"type\":\"NodePort\",\"clusterIP\":\"10.96.0.2\",\"externalName\":null,\"externalIPs\":[]," +
            "\"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\",\"targetPort\":\"http\",\"nodePort\":30080}],\"endpoints\":[" +
            """{"ip":"10.244.1.2","port":80,"portName":"http","ready":true,"serving":true,"terminating":false,"node":"node-1","pod":"web-85454c44b6-npsjg"},""" +
            """{"ip":"10.244.2.2","port":80,"portName":"http","ready":true,"serving":true,"terminating":false,"node":"node-2","pod":"web-85454c44b6-x974l"},""" +
            """{"ip":"10.244.3.2","port":80,"portName":"http","ready":true,"serving":true,"terminating":false,"node":"node-3","pod":"web-85454c44b6-4k2d5"}],"emulated":false}],""" +
            "\"serviceCIDRs\":[\"10.96.0.0/12\"],\"clusterCIDR\":\"10.244.0.0/16\"}\n", w.ToString());
    }
}
