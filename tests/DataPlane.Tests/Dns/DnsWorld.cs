using DataPlane.Dns;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Dns;

/// <summary>The DNS tests' cluster (dns-cluster.yaml) behind a real pipeline: queries go in as frames, answers come out as frames.</summary>
public sealed class DnsWorld
{
    public static string ClusterFile => Repo.Path_("tests", "DataPlane.Tests", "Dns", "dns-cluster.yaml");
    public const uint Client = 0x0AF40114; // 10.244.1.20, default/client
    public const uint DnsIp = 0x0A60000A;  // 10.96.0.10, kube-system/kube-dns

    public DnsWorld(DnsOptions? options = null, string? cluster = null)
    {
        Manifests = ManifestLoader.Load(cluster ?? ClusterFile);
        Maps = ClusterCompiler.Compile(Manifests, "node-1", new CompileOptions { Dns = options ?? new DnsOptions() });
        Zone = Maps.Dns!;
        Pipeline = new PacketPipeline(new MapSetHolder(Maps), new PipelineOptions { CtCapacity = 64 });
    }

    public ClusterManifests Manifests { get; }
    public MapSet Maps { get; }
    public DnsZone Zone { get; }
    public PacketPipeline Pipeline { get; }

    /// <summary>Sends <paramref name="message"/> over UDP; returns the verdict and the response message (or null).</summary>
    public (Verdict Verdict, byte[]? Response, PacketResult Result) SendUdp(byte[] message, ushort sport = 40000)
    {
        var frame = new byte[64 + message.Length];
        int len = DnsFrames.Udp(frame, Client, sport, Zone.Address, message);
        var reply = new byte[1536];
        Verdict v = Pipeline.Process(frame.AsSpan(0, len), 1_000_000_000, reply, out PacketResult r);
        if (v != Verdict.Answer) return (v, null, r);
        Oracle.AssertChecksums(reply.AsSpan(0, r.OutLength).ToArray());
        return (v, DnsFrames.Payload(reply.AsSpan(0, r.OutLength)).ToArray(), r);
    }

    public DnsMessage Ask(string name, ushort type, ushort? edns = null)
    {
        var (v, resp, _) = SendUdp(DnsMessage.BuildQuery(name, type, 0x1234, edns));
        Assert.Equal(Verdict.Answer, v);
        return DnsMessage.Decode(resp!) ?? throw new Xunit.Sdk.XunitException($"our decoder rejects the answer to {name}");
    }
}
