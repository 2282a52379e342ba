using DataPlane.Kubernetes;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;
using static DataPlane.FixtureBuilder.SctpFrames;

namespace DataPlane.Tests.Sctp;

/// <summary>
/// protocol: SCTP service ports reach the maps (they were skipped before): TCP and SCTP on the same port number are
/// separate frontends with their own endpoints (kube-proxy TestClusterIPGeneral), from slices and from Pods.
/// </summary>
public class SctpCompileTests
{
    const string Yaml = TestManifests.TwoNodes + "---\n" + """
        apiVersion: v1
        kind: Service
        metadata: {name: sig, namespace: default}
        spec:
          clusterIP: 10.96.0.77
          selector: {app: sig}
          ports:
          - {name: tcp, port: 2905, targetPort: m3ua-tcp}
          - {name: sctp, port: 2905, protocol: SCTP, targetPort: m3ua-sctp}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: sig-a, namespace: default, labels: {app: sig}}
        spec:
          nodeName: node-2
          containers: [{name: c, ports: [{name: m3ua-tcp, containerPort: 12905}, {name: m3ua-sctp, containerPort: 22905, protocol: SCTP}]}]
        status: {podIP: 10.244.2.50, conditions: [{type: Ready, status: "True"}]}
        """;

    [Fact]
    public void Tcp_and_sctp_on_the_same_port_are_separate_frontends()
    {
        using var scratch = new TempDir("sctp");
        string dir = scratch.Path;
        File.WriteAllText(Path.Combine(dir, "s.yaml"), Yaml);
        MapSet maps = ControlPlane.LoadAndCompile(dir, "node-1");
        var p = new PacketPipeline(new MapSetHolder(maps), new PipelineOptions { CtCapacity = 64 });
        var (v, r, _) = TestWorld.Run(p, Frame("10.244.1.5", 7000, "10.96.0.77", 2905, 0, Init(1, 1)));
        Assert.Equal((Verdict.Forward, "10.244.2.50:22905"), (v, Ip4.Format(r.Backend.Address, r.Backend.Port)));
        Assert.Equal("default/sig:sctp", maps.ServiceName(r.RevNatIndex));
        var (tv, tr, _) = TestWorld.Run(p, TestWorld.Syn("10.244.1.5", 7001, "10.96.0.77", 2905));
        Assert.Equal((Verdict.Forward, "10.244.2.50:12905"), (tv, Ip4.Format(tr.Backend.Address, tr.Backend.Port)));
        Assert.Equal("default/sig:tcp", maps.ServiceName(tr.RevNatIndex));
    }
}
