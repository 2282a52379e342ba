using DataPlane.IO.Trace;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Explain;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Trace;

/// <summary>
/// The troubleshooting checklist as a cluster: each Service below is broken the way a tutorial's reader breaks one.
/// Two nodes (node-1 192.168.0.2 with pods 10.0.1.0/24, node-2 192.168.0.3 with 10.0.2.0/24), kube-proxy iptables
/// mode, cluster CIDR 10.0.0.0/8, service CIDR 10.96.0.0/12 (the default); traced as node-1.
/// <list type="bullet">
/// <item>default/web 10.96.0.10:80 → 8080, NodePort 30080, externalTrafficPolicy Local; its slice has 2 ready endpoints on node-2 and 1 not-ready on node-1.</item>
/// <item>default/lonely 10.96.0.20:80, selector app=lonely; the pod is labelled app=lonley.</item>
/// <item>default/manual 10.96.0.30:80, no selector; the only slice names service 'manul' and the Endpoints object is called manual-eps.</item>
/// <item>default/nginx, headless over app=web; default/ext, ExternalName example.com.</item>
/// </list>
/// </summary>
public sealed class WhyWorld : IDisposable
{
    /// <summary>The cluster, <c>pcaps/examples/local-policy.yaml</c> (the README's "Why" example runs on it too).</summary>
    public static string Yaml { get; } = File.ReadAllText(Repo.Path_("pcaps", "examples", "local-policy.yaml"));

    readonly TempDir _dir = new("why");

    public WhyWorld(string? yaml = null)
    {
        File.WriteAllText(_dir.File("w.yaml"), yaml ?? Yaml);
        Manifests = ManifestLoader.Load(_dir.Path);
        Cluster = DataPlane.Kubernetes.Resolved.ResolvedCluster.Resolve(Manifests);
        Maps = ClusterCompiler.Compile(Cluster, "node-1");
        Explainer = new Explainer(Cluster, "node-1", Maps);
    }

    public string Path0 => _dir.Path;
    public ClusterManifests Manifests { get; }
    public DataPlane.Kubernetes.Resolved.ResolvedCluster Cluster { get; }
    public MapSet Maps { get; }
    public Explainer Explainer { get; }

    public const string PodClient = "10.0.1.5", External = "203.0.113.2";

    /// <summary>One first packet through a traced pipeline: its stage log, verdict and explanation.</summary>
    public (StageRecord[] Log, Verdict Verdict, string Why) Trace(string proto, string src, string dst, ushort dport)
    {
        var p = new PacketPipeline(new MapSetHolder(Maps), new PipelineOptions { Seed = 1, CtCapacity = 16 }) { Log = new StageLog() };
        return Run(p, proto, src, 40000, dst, dport);
    }

    public (StageRecord[] Log, Verdict Verdict, string Why) Run(PacketPipeline p, string proto, string src, ushort sport, string dst, ushort dport, byte tcpFlags = L4.TcpSyn)
    {
        byte[] frame = new byte[128], reply = new byte[1024];
        uint s = Ip4.Parse(src), d = Ip4.Parse(dst);
        int len = proto == "icmp" ? EchoRequest.Write(frame, s, d)
            : FrameBuilder.Write(frame, proto == "udp" ? IpProto.Udp : IpProto.Tcp, s, sport, d, dport, tcpFlags);
        Verdict v = p.Process(frame.AsSpan(0, len), 1_000_000_000, reply, out PacketResult _);
        StageRecord[] log = p.Log!.Records.ToArray();
        return (log, v, Explainer.Why(log));
    }

    public void Dispose() => _dir.Dispose();
}
