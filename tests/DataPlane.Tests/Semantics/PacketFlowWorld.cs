using System.Buffers.Binary;
using System.Numerics;
using DataPlane.FixtureBuilder;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Semantics;

/// <summary>
/// One upstream test's cluster (kube-proxy's fake proxier: node 192.168.0.2 with a second IP 192.168.1.2, pods
/// 10.0.0.0/8, service CIDR 172.30.0.0/16), compiled for that node in iptables or nftables mode, and its
/// <c>runPacketFlowTests</c> flows asserted in the tracers' terms: "" = untouched (pass), "DROP", "REJECT",
/// "ACCEPT" (answered by the node: the health-check port), or the candidate endpoints "ip:port, ip:port" plus masq.
/// </summary>
public sealed class PacketFlowWorld
{
    public const string NodeIp = "192.168.0.2", NodeIpAlt = "192.168.1.2", ExternalClient = "203.0.113.2",
        ExternalClientBlocked = "203.0.113.130";

    public static string Base(string mode, string proxyExtra = "", bool detectLocal = true) => $"""
        apiVersion: v1
        kind: Node
        metadata: {"{"}name: node-1{"}"}
        status:
          addresses: [{"{"}type: InternalIP, address: 192.168.0.2{"}"}, {"{"}type: InternalIP, address: 192.168.1.2{"}"}]
        ---
        apiVersion: kubeproxy.config.k8s.io/v1alpha1
        kind: KubeProxyConfiguration
        mode: {mode}
        {(detectLocal ? "clusterCIDR: 10.0.0.0/8" : "")}
        {proxyExtra}
        ---
        apiVersion: networking.k8s.io/v1
        kind: ServiceCIDR
        metadata: {"{"}name: main{"}"}
        spec: {"{"}cidrs: [172.30.0.0/16]{"}"}
        ---

        """;

    /// <param name="detectLocal">false: no cluster CIDR, so no local-traffic detector (upstream's NoOpLocalDetector).</param>
    public PacketFlowWorld(string mode, string services, string proxyExtra = "", bool detectLocal = true)
    {
        using var scratch = new TempDir("flows");
        string dir = scratch.Path;
        File.WriteAllText(Path.Combine(dir, "world.yaml"), Base(mode, proxyExtra, detectLocal) + services);
        // The fake proxier takes any node port (the upstream tables use 3001-3003): the API server's range is widened.
        Maps = DataPlane.Kubernetes.Compiler.ClusterCompiler.Compile(ManifestLoader.Load(dir), "node-1",
            new DataPlane.Kubernetes.Compiler.CompileOptions { NodePortMin = 1, NodePortMax = 32767 });
        // Upstream's tracer follows kube-proxy's rules only; what the node's own stack answers on a port no rule
        // claims is outside those tables, so every host port counts as served here ("" = left to the host).
        Pipeline = new PacketPipeline(new MapSetHolder(Maps), new PipelineOptions { CtCapacity = 1 << 10, HostPorts = HostPortSet.All });
    }

    public MapSet Maps { get; }
    public PacketPipeline Pipeline { get; }
    ushort _port = 40000;

    /// <summary>The first packet of a new connection, as the upstream tracer sees it: (output, masq).</summary>
    public (string Output, bool Masq) Trace(string src, string proto, string dst, int port)
    {
        byte[] f = proto switch
        {
            "UDP" => Frames.UdpFrame(src, _port++, dst, (ushort)port, [1, 2, 3, 4]),
            "SCTP" => SctpInit(src, _port++, dst, (ushort)port),
            _ => Frames.TcpFrame(src, _port++, dst, (ushort)port, Frames.Tcp.Syn, 1, 0),
        };
        var (v, r, _) = TestWorld.Run(Pipeline, f);
        string output = v switch
        {
            Verdict.Pass => "",
            Verdict.Drop => "DROP",
            Verdict.Reject => "REJECT",
            Verdict.Local => "ACCEPT",
            _ => string.Join(", ", Maps.BackendSlots.AsSpan((int)r.SlotOffset, r.SlotCount).ToArray()
                .Select(id => Maps.Backends[id]).Select(b => Ip4.Format(b.Address, b.Port)).Order(StringComparer.Ordinal)),
        };
        return (output, v == Verdict.Forward && r.Masqueraded);
    }

    /// <summary>
    /// Ethernet + IPv4 (protocol 132) + an SCTP INIT (RFC 9260 §3: common header, INIT chunk with a/rwnd, streams,
    /// initial TSN), its CRC32c computed here with the BCL's CRC32C instruction wrapper (RFC 9260 appendix A).
    /// </summary>
    public static byte[] SctpInit(string src, ushort sport, string dst, ushort dport)
    {
        byte[] f = new byte[14 + 20 + 12 + 20];
        f.AsSpan(0, 6).Fill(0x02); f[5] = 2;
        f.AsSpan(6, 6).Fill(0x02); f[11] = 1;
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x0800);
        Span<byte> ip = f.AsSpan(14, 20);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + 32));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], 1);
        ip[8] = 64; ip[9] = IpProto.Sctp;
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], Ip4.Parse(src));
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], Ip4.Parse(dst));
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Frames.InternetChecksum(ip));
        Span<byte> s = f.AsSpan(34);
        BinaryPrimitives.WriteUInt16BigEndian(s, sport);
        BinaryPrimitives.WriteUInt16BigEndian(s[2..], dport);
        // verification tag 0 in an INIT; chunk: type 1, flags 0, length 20, initiate tag, a_rwnd, OS, MIS, initial TSN
        s[12] = 1; BinaryPrimitives.WriteUInt16BigEndian(s[14..], 20);
        BinaryPrimitives.WriteUInt32BigEndian(s[16..], 0x01020304);
        BinaryPrimitives.WriteUInt32BigEndian(s[20..], 65536);
        BinaryPrimitives.WriteUInt16BigEndian(s[24..], 1);
        BinaryPrimitives.WriteUInt16BigEndian(s[26..], 1);
        BinaryPrimitives.WriteUInt32BigEndian(s[28..], 1);
        uint crc = 0xFFFFFFFF;
        foreach (byte b in s) crc = BitOperations.Crc32C(crc, b);
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], ~crc);
        return f;
    }
}
