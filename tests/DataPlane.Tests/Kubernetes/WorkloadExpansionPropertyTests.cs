using System.Text;
using CsCheck;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Packets;

namespace DataPlane.Tests.Kubernetes;

/// <summary>
/// Invariants of the emulated controllers, scheduler and IPAM over random clusters: every pod of every workload exists
/// once, names are unique, each address lies in its node's podCIDR and is never the network, gateway or broadcast
/// address nor used twice, nodes stay balanced when all fit, and the same manifests expand the same way.
/// </summary>
public class WorkloadExpansionPropertyTests
{
    [Fact]
    public void Expansion_invariants_hold_for_random_clusters()
    {
        // (nodes, [(kind, replicas)])
        var gen = Gen.Select(Gen.Int[1, 5], Gen.Select(Gen.Int[0, 3], Gen.Int[0, 12]).Array[1, 8]);
        gen.Sample((nodeCount, workloads) =>
        {
            var yaml = new StringBuilder();
            for (int n = 1; n <= nodeCount; n++)
                yaml.Append($"---\napiVersion: v1\nkind: Node\nmetadata: {{name: n{n}}}\nspec: {{podCIDR: 10.9.{n}.0/28}}\nstatus: {{addresses: [{{type: InternalIP, address: 10.0.0.{n}}}]}}\n");
            string[] kinds = ["Deployment", "ReplicaSet", "StatefulSet", "ReplicationController"];
            int expected = 0;
            for (int i = 0; i < workloads.Length; i++)
            {
                var (k, replicas) = workloads[i];
                string kind = kinds[k];
                string api = kind == "ReplicationController" ? "v1" : "apps/v1";
                string selector = kind == "ReplicationController" ? $"{{app: w{i}}}" : $"{{matchLabels: {{app: w{i}}}}}";
                yaml.Append($"---\napiVersion: {api}\nkind: {kind}\nmetadata: {{name: w{i}}}\nspec:\n  replicas: {replicas}\n  selector: {selector}\n" +
                            $"  template:\n    metadata: {{labels: {{app: w{i}}}}}\n    spec: {{containers: [{{name: c}}]}}\n");
                expected += replicas;
            }
            ClusterManifests loaded = WorkloadExpansionTests.Load(yaml.ToString());
            var warnings = new List<string>();
            ClusterManifests m = WorkloadExpander.Expand(loaded, warn: warnings.Add);
            // Every replica exists once, or is counted: a workload the cluster has no room for lists its first Pending
            // pod and counts the rest, with one warning line.
            Assert.Equal(expected, m.Pods.Count + m.UnlistedPendingPods);
            Assert.Equal(m.Pods.Count(p => p.PodIP is null) + m.UnlistedPendingPods,
                warnings.Sum(w => long.Parse(System.Text.RegularExpressions.Regex.Match(w, @": (\d+) of \d+ pods stay Pending").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Equal(m.Pods.Count, m.Pods.Select(p => p.Name).Distinct().Count());
            int capacity = nodeCount * 13; // a /28 holds .2 to .14
            var addressed = m.Pods.Where(p => p.PodIP is not null).ToArray();
            Assert.Equal(Math.Min(expected, capacity), addressed.Length);
            Assert.Equal(addressed.Length, addressed.Select(p => p.PodIP).Distinct().Count());
            foreach (Pod p in addressed)
            {
                Cidr4 cidr = m.Nodes.Single(n => n.Name == p.NodeName).PodCIDR!.Value;
                uint host = p.PodIP!.Value - cidr.Prefix;
                Assert.True(cidr.Contains(p.PodIP!.Value) && host >= 2 && host <= 14, $"{p.Name} {Ip4.Format(p.PodIP!.Value)} in {cidr}");
            }
            if (expected <= capacity)
            {
                var perNode = m.Nodes.Select(n => m.Pods.Count(p => p.NodeName == n.Name)).ToArray();
                Assert.True(perNode.Max() - perNode.Min() <= 1, $"unbalanced: {string.Join(",", perNode)}");
            }
            ClusterManifests again = WorkloadExpander.Expand(WorkloadExpansionTests.Load(yaml.ToString()));
            Assert.Equal(m.Pods.Select(p => (p.Name, p.NodeName, p.PodIP)), again.Pods.Select(p => (p.Name, p.NodeName, p.PodIP)));
        }, iter: 60);
    }
}
